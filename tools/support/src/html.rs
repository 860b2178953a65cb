//! Reading text back out of HTML that mdBook or a browser wrote.

/// `text` with the character references HTML writers use for text undone:
/// `&lt;`, `&gt;`, `&quot;`, `&#39;`/`&#x27;`, `&nbsp;` (a no-break space),
/// and `&amp;` last, so `&amp;lt;` becomes `&lt;` and not `<`.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_undone_and_ampersands_last() {
        assert_eq!(
            unescape("a &lt;b&gt; &quot;c&quot; &#39;d&#x27;&nbsp;e &amp;lt;"),
            "a <b> \"c\" 'd'\u{a0}e &lt;"
        );
    }
}
