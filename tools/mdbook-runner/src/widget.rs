//! `{{#widget NAME}}`: a playground widget in a chapter.
//!
//! The names come from the one place that defines them, the `WIDGETS` table
//! exported by playground/www/widgets.js, so a chapter cannot ask for a
//! widget the playground does not have. The loader's path is relative to the
//! chapter's page (the playground is copied to `playground/` at the top of
//! the built book), so a chapter in a subdirectory gets `../playground/…`.

use std::path::Path;

/// Where the widget table lives, from the workspace root.
pub const WIDGETS_JS: &str = "playground/www/widgets.js";

/// The widget names `WIDGETS` in widgets.js declares, in order.
pub fn known(workspace_root: &Path) -> Result<Vec<String>, String> {
    let path = workspace_root.join(WIDGETS_JS);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    names_in(&text).ok_or_else(|| {
        format!(
            "{WIDGETS_JS} has no `export const WIDGETS = {{ name: render, ... }};` table to read \
             the widget names from"
        )
    })
}

/// The keys of `export const WIDGETS = { key: value, ... };`.
fn names_in(js: &str) -> Option<Vec<String>> {
    let start = js.find("export const WIDGETS = {")?;
    let body = &js[start..];
    let body = &body[body.find('{')? + 1..body.find("};")?];
    let names: Vec<String> = body
        .split(',')
        .filter_map(|entry| {
            let key = entry.split(':').next()?.trim();
            let key = key.trim_matches(|c| c == '"' || c == '\'');
            (!key.is_empty() && !key.starts_with("//")).then(|| key.to_owned())
        })
        .collect();
    (!names.is_empty()).then_some(names)
}

/// The HTML a `{{#widget NAME}}` becomes in the chapter at `chapter_path`
/// (relative to the book's `src/`).
pub fn html(name: &str, chapter_path: &Path) -> String {
    let depth = chapter_path.components().count().saturating_sub(1);
    let up = "../".repeat(depth);
    // The paragraph stays where the loader cannot run: without JavaScript,
    // or while `cargo workbook serve` is still building the playground.
    format!(
        "<div class=\"playground-widget\" data-widget=\"{name}\"><p class=\"pg-waiting\">\
         The playground's <code>{name}</code> widget appears here once its WebAssembly has \
         loaded (it needs JavaScript). While <code>cargo workbook serve</code> is still \
         building the playground, this page reloads by itself when it is ready.</p></div>\n\n\
         <script type=\"module\" src=\"{up}playground/loader.js\"></script>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_widget_table() {
        let js = "const x = 1;\nexport const WIDGETS = {\n  gauges: heapGauges,\n  \"free-list\": freeList,\n  bump: bumpArena,\n};\n";
        assert_eq!(
            names_in(js),
            Some(vec!["gauges".into(), "free-list".into(), "bump".into()])
        );
        assert_eq!(names_in("export const OTHER = { a: b };"), None);
    }

    #[test]
    fn the_workspace_table_has_the_widgets_the_book_uses() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let names = known(&root).unwrap();
        assert!(names.iter().any(|n| n == "gauges"), "{names:?}");
    }

    #[test]
    fn the_loader_path_follows_the_chapter_depth() {
        assert!(html("gauges", Path::new("counting.md")).contains("src=\"playground/loader.js\""));
        assert!(
            html("bump", Path::new("exercises/exercise-3.md"))
                .contains("src=\"../playground/loader.js\"")
        );
        assert!(html("bump", Path::new("a.md")).contains("data-widget=\"bump\""));
    }
}
