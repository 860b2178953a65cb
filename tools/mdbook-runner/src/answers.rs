//! No chapter gives an exercise's answer away.
//!
//! An exercise's answer is every function of its reference solution that the
//! stub does not already give the learner. Two rules keep those out of the
//! chapters: a chapter's Markdown never includes a file of `solutions/`
//! (only the solution pages do), and no code block of a built chapter page
//! contains the body of an answer. Bodies are compared without comments and
//! without whitespace, so reformatting does not hide a copy.

use std::path::Path;

use crate::html::collect;

/// Bodies shorter than this (whitespace and comments removed) are plumbing
/// such as `self.live.load(Ordering::Relaxed)`, which a chapter may well
/// share with a solution without giving anything away.
const MIN_BODY_CHARS: usize = 40;

/// A function of a solution that the learner has to write.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    /// Where it is, e.g. `solutions/exercise-3/src/lib.rs`.
    pub file: String,
    pub name: String,
    /// The body between its braces, without comments or whitespace.
    pub body: String,
}

/// Every violation of the two rules, as messages naming file and function.
pub fn answers_in_chapters(
    root: &Path,
    src: &Path,
    build: &Path,
) -> Result<Vec<String>, Vec<String>> {
    let answers = answers(root).map_err(|e| vec![e])?;
    let mut errors = included_solutions(src, root)?;
    let mut pages = Vec::new();
    collect(build, "html", &mut pages).map_err(|e| vec![e])?;
    pages.sort();
    for page in pages.iter().filter(|p| is_chapter(build, p)) {
        let html = std::fs::read_to_string(page)
            .map_err(|e| vec![format!("cannot read {}: {e}", page.display())])?;
        let code: String = code_blocks(&html).iter().map(|c| squeeze(c)).collect();
        for answer in &answers {
            if code.contains(&answer.body) {
                errors.push(format!(
                    "{}: shows the body of `{}` from {}, an exercise's answer; a chapter \
                     teaches the idea, the solution page shows the answer",
                    page.strip_prefix(build).unwrap_or(page).display(),
                    answer.name,
                    answer.file
                ));
            }
        }
    }
    Ok(errors)
}

/// Pages that teach: everything but the solution pages and the pages that
/// gather all the others (print, search, 404).
fn is_chapter(build: &Path, page: &Path) -> bool {
    let relative = page.strip_prefix(build).unwrap_or(page);
    let name = relative
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let is_solution = relative.starts_with("exercises") && name.starts_with("solution-");
    !is_solution && !matches!(name.as_str(), "print.html" | "404.html" | "toc.html")
}

/// Chapter sources, other than the solution pages, that include a file
/// of `solutions/`.
fn included_solutions(src: &Path, root: &Path) -> Result<Vec<String>, Vec<String>> {
    let mut files = Vec::new();
    collect(src, "md", &mut files).map_err(|e| vec![e])?;
    files.sort();
    let mut errors = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with("solution-") {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .map_err(|e| vec![format!("cannot read {}: {e}", file.display())])?;
        for (index, line) in text.lines().enumerate() {
            if line.contains("{{#") && line.contains("solutions/") {
                errors.push(format!(
                    "{}:{}: includes a reference solution; only a solution page may",
                    file.strip_prefix(root).unwrap_or(&file).display(),
                    index + 1
                ));
            }
        }
    }
    Ok(errors)
}

/// The answers of every solution under `root/solutions`.
pub fn answers(root: &Path) -> Result<Vec<Answer>, String> {
    let solutions = root.join("solutions");
    let mut files = Vec::new();
    collect(&solutions, "rs", &mut files)?;
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        // The same file of the exercise: what the stub hands out already.
        let stub_path = root
            .join("exercises")
            .join(relative.strip_prefix("solutions").unwrap_or(&relative));
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let stub = std::fs::read_to_string(&stub_path)
            .map(|s| squeeze(&s))
            .unwrap_or_default();
        for (name, body) in functions(&text) {
            let body = squeeze(&body);
            if body.len() >= MIN_BODY_CHARS && !stub.contains(&body) {
                found.push(Answer {
                    file: relative.display().to_string(),
                    name,
                    body,
                });
            }
        }
    }
    Ok(found)
}

/// `(name, body)` of every function with a body in a Rust source.
fn functions(source: &str) -> Vec<(String, String)> {
    let text = without_comments(source);
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut search = 0;
    while let Some(at) = text[search..].find("fn ") {
        let start = search + at;
        search = start + 3;
        // A keyword, not the end of a longer word.
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let name: String = text[start + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        // The body opens at the first `{` before any `;` (a declaration
        // without a body ends at `;`).
        let rest = &text[start..];
        let Some(open) = rest.find(['{', ';']) else {
            break;
        };
        if rest.as_bytes()[open] == b';' {
            continue;
        }
        if let Some(len) = matching_brace(&rest[open..]) {
            found.push((name, rest[open + 1..open + len].to_owned()));
        }
    }
    found
}

/// The offset of the `}` that closes the `{` at the start of `text`,
/// skipping braces inside string and character literals.
fn matching_brace(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                // A character literal such as '{' or '"'.
                b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// The source without `//` comments (line and doc comments).
fn without_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string literal is rare in allocator code; a
            // line whose quotes are unbalanced before it keeps its text.
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Code without comments, without any whitespace and without trailing
/// commas (which rustfmt adds or drops as a line's length changes).
fn squeeze(code: &str) -> String {
    let compact: String = without_comments(code)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    compact
        .replace(",}", "}")
        .replace(",)", ")")
        .replace(",]", "]")
}

/// The text of every `<code>` element, tags removed and entities decoded.
fn code_blocks(html: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find("<code") {
        let after = &rest[open..];
        let Some(start) = after.find('>') else { break };
        let Some(len) = after[start..].find("</code>") else {
            break;
        };
        blocks.push(workbook_support::html::unescape(&strip_tags(
            &after[start + 1..start + len],
        )));
        rest = &after[start + len..];
    }
    blocks
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLUTION: &str = r#"
/// Rounds down.
pub fn align_down(addr: usize, align: usize) -> usize {
    // The mask clears the low bits.
    addr & !(align - 1) & usize::MAX & usize::MAX & usize::MAX
}
pub fn live(&self) -> usize { self.live.load(Ordering::Relaxed) }
pub const fn new(x: u8) -> Self { Self { x, y: AtomicUsize::new(0), z: AtomicUsize::new(0) } }
fn declared(&self);
fn braces() -> char { let s = "}"; let c = '{'; if s.len() == 1 { c } else { '}' } }
"#;

    #[test]
    fn functions_and_their_bodies_are_found() {
        let found = functions(SOLUTION);
        let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["align_down", "live", "new", "braces"]);
        assert_eq!(
            squeeze(&found[3].1),
            "lets=\"}\";letc='{';ifs.len()==1{c}else{'}'}"
        );
        assert!(!found[0].1.contains("mask"), "comments are dropped");
    }

    #[test]
    fn answers_skip_plumbing_and_what_the_stub_gives() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for dir in ["solutions/exercise-9/src", "exercises/exercise-9/src"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("solutions/exercise-9/src/lib.rs"), SOLUTION).unwrap();
        // The stub hands out `new` (reformatted), not `align_down`.
        std::fs::write(
            root.join("exercises/exercise-9/src/lib.rs"),
            "pub const fn new(x: u8) -> Self {\n    Self {\n        x,\n        y: \
             AtomicUsize::new(0),\n        z: AtomicUsize::new(0),\n    }\n}\n",
        )
        .unwrap();
        let names: Vec<String> = answers(root).unwrap().into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["align_down", "braces"]);
    }

    #[test]
    fn a_chapter_showing_an_answer_is_refused_but_a_solution_page_may() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for dir in [
            "solutions/exercise-9/src",
            "book/src/exercises",
            "book/build/exercises",
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join("solutions/exercise-9/src/lib.rs"), SOLUTION).unwrap();
        let shown = "<pre><code class=\"language-rust\">fn f(addr: usize, align: usize) -&gt; usize {\n\
                     <span class=\"boring\">    addr &amp; !(align - 1) &amp; usize::MAX</span> &amp; \
                     usize::MAX &amp; usize::MAX\n}</code></pre>";
        std::fs::write(root.join("book/build/bump.html"), shown).unwrap();
        std::fs::write(root.join("book/build/exercises/solution-9.html"), shown).unwrap();
        std::fs::write(
            root.join("book/build/layout.html"),
            "<code>align_down</code>",
        )
        .unwrap();
        std::fs::write(
            root.join("book/src/bump.md"),
            "# Bump\n\n{{#include ../../solutions/exercise-9/src/lib.rs}}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("book/src/exercises/solution-9.md"),
            "{{#include ../../../solutions/exercise-9/src/lib.rs}}\n",
        )
        .unwrap();
        let errors =
            answers_in_chapters(root, &root.join("book/src"), &root.join("book/build")).unwrap();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("book/src/bump.md:3: includes a reference solution"));
        assert!(errors[1].starts_with("bump.html: shows the body of `align_down`"));
    }
}
