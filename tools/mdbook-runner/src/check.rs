//! `mdbook-runner check BOOK_DIR`: what a built book must satisfy beyond
//! building. Every internal link and anchor resolves, links to other sites
//! go only to documentation on the allowlist (`external.rs`), nothing is
//! loaded from the network, every listing crate is used by a chapter, no
//! chapter contains program output typed by hand, and no chapter shows an
//! exercise's answer (`answers.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mdbook_preprocessor::config::Config;

use crate::directive::{self, Directive, Fence};
use crate::html::{attribute_values, collect, decode, is_remote};

/// Fence tags that mean "output": these come only from directives.
const OUTPUT_TAGS: [&str; 4] = ["", "text", "console", "output"];

pub fn check(book_dir: &Path) -> Result<(), Vec<String>> {
    let config = Config::from_disk(book_dir.join("book.toml"))
        .map_err(|e| vec![format!("{}: {e:#}", book_dir.join("book.toml").display())])?;
    let src = book_dir.join(&config.book.src);
    let build = book_dir.join(&config.build.build_dir);
    let chapters = markdown_files(&src).map_err(|e| vec![e])?;

    let mut errors = Vec::new();
    let mut sources = Vec::new();
    for path in &chapters {
        let text = std::fs::read_to_string(path)
            .map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?;
        let shown = relative(path, book_dir);
        errors.extend(hand_typed_output(&text).into_iter().map(|(line, tag)| {
            format!(
                "{shown}:{line}: a ```{tag} block typed by hand; program output comes from \
                 {{{{#run PACKAGE}}}} or {{{{#pitfall CASE}}}}, code from {{{{#include}}}}, and \
                 commands for the reader go in a ```sh block"
            )
        }));
        sources.push(text);
    }
    errors.extend(unused_listings(&book_dir.join("listings"), &sources)?);
    errors.extend(broken_links(&build)?);
    errors.extend(external_links(book_dir, &build)?);
    // `check .` names the book by a relative path whose parent is empty.
    let book_dir_absolute = std::path::absolute(book_dir).unwrap_or_else(|_| book_dir.into());
    let root = book_dir_absolute.parent().unwrap_or(&book_dir_absolute);
    errors.extend(crate::answers::answers_in_chapters(root, &src, &build)?);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Opening lines (1-based) and tags of fenced blocks tagged as output.
pub fn hand_typed_output(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut open: Option<Fence> = None;
    for (index, line) in text.lines().enumerate() {
        match &open {
            Some(fence) => {
                if fence.is_closed_by(line) {
                    open = None;
                }
            }
            None => {
                if let Some((fence, info)) = Fence::open(line) {
                    let tag = info.split([' ', ',']).next().unwrap_or_default().to_owned();
                    if OUTPUT_TAGS.contains(&tag.as_str()) {
                        found.push((index + 1, tag));
                    }
                    open = Some(fence);
                }
            }
        }
    }
    found
}

/// Listing crates no chapter runs or includes.
fn unused_listings(listings: &Path, sources: &[String]) -> Result<Vec<String>, Vec<String>> {
    let Ok(entries) = std::fs::read_dir(listings) else {
        return Ok(Vec::new());
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    let mut run_packages = BTreeSet::new();
    for text in sources {
        for found in directive::scan(text).0 {
            if let Directive::Run(spec) = found.directive {
                run_packages.insert(spec.package);
            }
        }
    }
    let mut errors = Vec::new();
    for dir in dirs {
        let dir_name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
            .map_err(|e| vec![format!("cannot read {}: {e}", dir.display())])?;
        let package = package_name(&manifest).unwrap_or_else(|| dir_name.clone());
        let included = format!("listings/{dir_name}/");
        let used = run_packages.contains(&package)
            || sources.iter().any(|text| {
                text.lines()
                    .any(|l| l.contains("{{#include") && l.contains(&included))
            });
        if !used {
            errors.push(format!(
                "listings/{dir_name}: no chapter uses it (add `{{{{#run {package}}}}}` or \
                 `{{{{#include ../listings/{dir_name}/...}}}}` to its chapter)"
            ));
        }
    }
    Ok(errors)
}

/// The `name` of a manifest's `[package]`.
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(value) = line.strip_prefix("name") {
            let value = value.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches('"').to_owned());
        }
    }
    None
}

/// Relative links and anchors in the built HTML that point nowhere, and
/// scripts, styles or images that would be fetched from the network.
fn broken_links(build: &Path) -> Result<Vec<String>, Vec<String>> {
    let mut pages = Vec::new();
    collect(build, "html", &mut pages).map_err(|e| vec![e])?;
    if pages.is_empty() {
        return Err(vec![format!(
            "{}: no HTML pages; build the book first",
            build.display()
        )]);
    }
    pages.sort();
    let mut anchors: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut errors = Vec::new();
    for page in &pages {
        // The 404 page resolves its links against the site's root URL, not
        // its own location.
        if page.file_name().is_some_and(|n| n == "404.html") {
            continue;
        }
        let html = std::fs::read_to_string(page)
            .map_err(|e| vec![format!("cannot read {}: {e}", page.display())])?;
        let shown = relative(page, build);
        for (attribute, value) in attribute_values(&html) {
            let link = decode(&value);
            if is_remote(&link) {
                if attribute == "src" || is_stylesheet_link(&html, &value) {
                    errors.push(format!("{shown}: loads `{link}` from the network"));
                }
                continue;
            }
            if attribute != "href" && attribute != "src" {
                continue;
            }
            if let Err(e) = resolve(page, &link, &mut anchors) {
                errors.push(format!("{shown}: link `{link}` {e}"));
            }
        }
    }
    Ok(errors)
}

/// Links to other sites that are not well-formed documentation links.
fn external_links(book_dir: &Path, build: &Path) -> Result<Vec<String>, Vec<String>> {
    let allowed = crate::external::allowlist(book_dir).map_err(|e| vec![e])?;
    let mut pages = Vec::new();
    collect(build, "html", &mut pages).map_err(|e| vec![e])?;
    pages.sort();
    let mut errors = Vec::new();
    for page in &pages {
        let html = std::fs::read_to_string(page)
            .map_err(|e| vec![format!("cannot read {}: {e}", page.display())])?;
        let shown = relative(page, build);
        for problem in crate::external::check_page(&html, &allowed) {
            errors.push(format!("{shown}: {problem}"));
        }
    }
    Ok(errors)
}

fn is_stylesheet_link(html: &str, value: &str) -> bool {
    html.match_indices(value).any(|(at, _)| {
        let tag_start = html[..at].rfind('<').unwrap_or(0);
        html[tag_start..at].starts_with("<link")
    })
}

/// Checks that `link`, found in `page`, names an existing file and, if it
/// has one, an existing anchor.
fn resolve(
    page: &Path,
    link: &str,
    anchors: &mut BTreeMap<PathBuf, BTreeSet<String>>,
) -> Result<(), String> {
    let (path, fragment) = link.split_once('#').unwrap_or((link, ""));
    let path = path.split('?').next().unwrap_or_default();
    let dir = page.parent().unwrap_or(Path::new("."));
    let mut target = if path.is_empty() {
        page.to_path_buf()
    } else {
        dir.join(path)
    };
    if target.is_dir() {
        target = target.join("index.html");
    }
    if !target.is_file() {
        return Err("points to a file that does not exist".into());
    }
    if fragment.is_empty() || target.extension().is_none_or(|e| e != "html") {
        return Ok(());
    }
    let ids = match anchors.get(&target) {
        Some(ids) => ids,
        None => {
            let html = std::fs::read_to_string(&target)
                .map_err(|e| format!("names {} which cannot be read: {e}", target.display()))?;
            let ids = attribute_values(&html)
                .into_iter()
                .filter(|(a, _)| a == "id" || a == "name")
                .map(|(_, v)| decode(&v))
                .collect();
            anchors.entry(target.clone()).or_insert(ids)
        }
    };
    if ids.contains(fragment) {
        Ok(())
    } else {
        Err(format!(
            "names anchor `#{fragment}`, which the page does not have"
        ))
    }
}

fn markdown_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    collect(dir, "md", &mut files)?;
    files.sort();
    Ok(files)
}

fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_blocks_typed_by_hand_are_found() {
        let text = "```rust\nfn main() {}\n```\n```\nuntagged\n```\n\
                    ```text\n3 bytes\n```\n```sh\ncargo run -p layout\n```\n\
                    ````md\n```console\n````\n~~~output,ignore\n~~~\n";
        let found = hand_typed_output(text);
        let lines: Vec<usize> = found.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [4, 7, 16]);
        assert_eq!(found[1].1, "text");
    }

    #[test]
    fn package_names_come_from_the_package_table() {
        let manifest =
            "[workspace]\nname = \"no\"\n[package]\nversion = \"1\"\nname = \"layout\"\n";
        assert_eq!(package_name(manifest).as_deref(), Some("layout"));
        assert_eq!(package_name("[lib]\nname = \"x\"\n"), None);
    }

    #[test]
    fn escapes_in_links_are_decoded() {
        assert_eq!(decode("a%20b.html#x&amp;y"), "a b.html#x&y");
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn remote_and_local_links_are_told_apart() {
        assert!(is_remote("https://example.com/x.js"));
        assert!(is_remote("//cdn.example.com/x.js"));
        assert!(is_remote("mailto:a@b"));
        assert!(!is_remote("layout.html#size"));
        assert!(!is_remote("../fonts/fonts.css"));
    }

    #[test]
    fn links_and_anchors_resolve_against_the_built_files() {
        let dir = tempfile::tempdir().unwrap();
        let build = dir.path();
        std::fs::create_dir_all(build.join("sub")).unwrap();
        std::fs::write(
            build.join("index.html"),
            "<a href=\"sub/page.html#here\">ok</a><a href=\"sub/page.html#gone\">x</a>\
             <a href=\"missing.html\">x</a><a href=\"#top\">ok</a><h1 id=\"top\">t</h1>\
             <a href=\"https://example.com/\">ok</a><script src=\"https://cdn.example.com/x.js\"></script>",
        )
        .unwrap();
        std::fs::write(build.join("sub/page.html"), "<h2 id=\"here\">h</h2>").unwrap();
        let errors = broken_links(build).unwrap();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("anchor `#gone`"), "{errors:?}");
        assert!(errors[1].contains("`missing.html` points to a file that does not exist"));
        assert!(errors[2].contains("loads `https://cdn.example.com/x.js` from the network"));
    }
}
