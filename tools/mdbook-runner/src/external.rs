//! Links that leave the book. A learner should be sent only to
//! documentation, so every link to another site must be a well-formed
//! `https` address that starts with one of the prefixes listed in
//! `book/external-links.txt`. The check reads files only: it stays offline.

use std::path::Path;

use crate::html::{attribute_values, decode, is_remote};

/// The allowlist, relative to the book's directory.
pub const ALLOWLIST: &str = "external-links.txt";

/// The allowed prefixes (scheme left out): one a line, `#` starts a comment.
pub fn allowlist(book_dir: &Path) -> Result<Vec<String>, String> {
    let path = book_dir.join(ALLOWLIST);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut prefixes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or_default().trim();
        if entry.is_empty() {
            continue;
        }
        if entry.contains("://") || !entry.contains('/') {
            return Err(format!(
                "{}:{}: `{entry}`: write a host and path prefix without the scheme, e.g. \
                 `doc.rust-lang.org/std/`",
                path.display(),
                index + 1
            ));
        }
        prefixes.push(entry.to_owned());
    }
    Ok(prefixes)
}

/// The problems of one page's links to other sites.
pub fn check_page(html: &str, allowed: &[String]) -> Vec<String> {
    let mut problems = Vec::new();
    for (attribute, value) in attribute_values(html) {
        if attribute != "href" {
            continue;
        }
        let link = decode(&value);
        if !is_remote(&link) {
            continue;
        }
        if let Err(why) = check_link(&link, allowed) {
            problems.push(format!("link `{link}` {why}"));
        }
    }
    problems
}

fn check_link(link: &str, allowed: &[String]) -> Result<(), String> {
    let Some(rest) = link.strip_prefix("https://") else {
        return Err("leaves the book without https".into());
    };
    let host = rest.split(['/', '#', '?']).next().unwrap_or_default();
    let well_formed_host = !host.is_empty()
        && host.contains('.')
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    if !well_formed_host || rest.chars().any(|c| c.is_whitespace() || c == '"') {
        return Err("is not a well-formed address".into());
    }
    if allowed
        .iter()
        .any(|prefix| rest.starts_with(prefix.as_str()))
    {
        Ok(())
    } else {
        Err(format!(
            "goes to a site not on the documentation allowlist ({ALLOWLIST}); link to the \
             documentation, or add the prefix there if it is documentation"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        vec!["doc.rust-lang.org/".into(), "docs.rs/".into()]
    }

    #[test]
    fn documentation_links_pass_and_others_are_named() {
        let html = "<a href=\"https://doc.rust-lang.org/std/alloc/trait.GlobalAlloc.html\">a</a>\
                    <a href=\"https://docs.rs/mimalloc\">b</a>\
                    <a href=\"http://doc.rust-lang.org/std/\">c</a>\
                    <a href=\"https://example.com/blog\">d</a>\
                    <a href=\"https://doc.rust-lang.org/std/a b\">e</a>\
                    <a href=\"layout.html#size\">local</a>\
                    <img src=\"https://docs.rs/logo.png\">";
        let problems = check_page(html, &allowed());
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0].contains("http://doc.rust-lang.org/std/` leaves the book without https")
        );
        assert!(problems[1].contains("example.com/blog` goes to a site not on the"));
        assert!(problems[2].contains("is not a well-formed address"));
    }

    #[test]
    fn a_lookalike_host_is_not_the_documentation() {
        let problems = check_page(
            "<a href=\"https://docs.rs.example.com/x\">x</a>",
            &allowed(),
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn the_allowlist_refuses_entries_with_a_scheme() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(ALLOWLIST),
            "# docs\ndoc.rust-lang.org/  # std\n\ndocs.rs/\n",
        )
        .unwrap();
        assert_eq!(allowlist(dir.path()).unwrap(), allowed());
        std::fs::write(dir.path().join(ALLOWLIST), "https://docs.rs/\n").unwrap();
        assert!(
            allowlist(dir.path())
                .unwrap_err()
                .contains(":1: `https://docs.rs/`")
        );
    }
}
