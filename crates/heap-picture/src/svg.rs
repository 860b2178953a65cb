//! The frame every picture shares.

use std::fmt::Write as _;

use crate::text::escape;

/// Colours that read on light and dark page themes alike (text and lines
/// use `currentColor`, the page's text colour).
pub(crate) const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#9c755f",
];

/// An SVG document being written: a fixed width, no background, the page's
/// text colour, `role="img"`, a `<title>`, no external resources.
pub(crate) struct Svg {
    head: String,
    pub body: String,
}

impl Svg {
    pub fn new(width: f64, height: f64, title: &str) -> Svg {
        let title = escape(title);
        let mut head = String::new();
        let _ = writeln!(
            head,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" style="max-width: 100%; height: auto" role="img" aria-label="{title}" font-family="sans-serif" font-size="12" fill="currentColor">"#
        );
        let _ = writeln!(head, "<title>{title}</title>");
        Svg {
            head,
            body: String::new(),
        }
    }

    /// The heading line at the top left.
    pub fn title_text(&mut self, title: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#,
            escape(title)
        );
    }

    /// A line of text that stands out (empty pictures, warnings).
    pub fn note(&mut self, x: f64, y: f64, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text class="note" x="{x:.1}" y="{y:.1}" font-size="13" font-style="italic">{}</text>"#,
            escape(text)
        );
    }

    /// A warning in red-brown, for pictures that are incomplete.
    pub fn warning(&mut self, x: f64, y: f64, text: &str) {
        let _ = writeln!(
            self.body,
            r##"<text class="warning" x="{x:.1}" y="{y:.1}" font-size="13" font-weight="bold" fill="#c0392b">{}</text>"##,
            escape(text)
        );
    }

    /// The finished document. No blank lines inside, so Markdown keeps the
    /// whole element as one HTML block.
    pub fn finish(self) -> String {
        let mut out = self.head;
        out.push_str(&self.body);
        out.push_str("</svg>\n");
        out
    }
}
