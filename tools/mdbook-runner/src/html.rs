//! Reading the built site and the sources, for the checks: files by
//! extension, and the attributes of an HTML page.

use std::path::{Path, PathBuf};

/// Every file under `dir` with `extension`, recursively.
pub fn collect(dir: &Path, extension: &str, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, extension, files)?;
        } else if path.extension().is_some_and(|e| e == extension) {
            files.push(path);
        }
    }
    Ok(())
}

/// A link to another site (a scheme such as `https:`, or `//host`).
pub fn is_remote(link: &str) -> bool {
    link.starts_with("//")
        || link.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
        })
}

/// `(attribute, value)` for every double-quoted `href`, `src`, `id` and
/// `name` attribute.
pub fn attribute_values(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for attribute in ["href", "src", "id", "name"] {
        let pattern = format!(" {attribute}=\"");
        for (at, _) in html.match_indices(&pattern) {
            let start = at + pattern.len();
            if let Some(len) = html[start..].find('"') {
                found.push((attribute.to_owned(), html[start..start + len].to_owned()));
            }
        }
    }
    found
}

/// Undoes HTML entity and percent escaping in an attribute value.
pub fn decode(value: &str) -> String {
    let unescaped = value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let bytes = unescaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
