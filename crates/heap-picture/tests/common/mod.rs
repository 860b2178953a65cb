//! A small XML reader for the tests: it checks that a picture is
//! well-formed XML (one root, tags nested and closed, attributes quoted and
//! not repeated, only the five predefined entities or character references)
//! and gives back the element tree to query.

#![allow(dead_code)]

#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The element's own text (not its children's), entities decoded.
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// This element and every element under it, in document order.
    pub fn all(&self) -> Vec<&Element> {
        let mut out = vec![self];
        for child in &self.children {
            out.extend(child.all());
        }
        out
    }

    /// Every element under this one (or itself) whose `class` is `class`.
    pub fn with_class(&self, class: &str) -> Vec<&Element> {
        self.all()
            .into_iter()
            .filter(|e| {
                e.attr("class")
                    .is_some_and(|c| c.split(' ').any(|c| c == class))
            })
            .collect()
    }

    /// All text in this element and under it, joined with spaces.
    pub fn all_text(&self) -> String {
        self.all()
            .iter()
            .map(|e| e.text.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The text of the direct `<title>` child.
    pub fn title(&self) -> Option<&str> {
        self.children
            .iter()
            .find(|c| c.name == "title")
            .map(|c| c.text.as_str())
    }

    pub fn num(&self, name: &str) -> f64 {
        self.attr(name)
            .unwrap_or_else(|| panic!("<{}> has no `{name}`", self.name))
            .parse()
            .unwrap_or_else(|e| panic!("<{}> `{name}` is not a number: {e}", self.name))
    }
}

/// Parses `text` as an XML document; the error says where and what is wrong.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.skip_space();
    if p.s[p.i..].starts_with(b"<?xml") {
        p.skip_past("?>")?;
        p.skip_space();
    }
    let root = p.element()?;
    p.skip_space();
    if p.i != p.s.len() {
        return Err(p.error("content after the root element"));
    }
    Ok(root)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        let line = self.s[..self.i.min(self.s.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        format!("line {line} (byte {}): {what}", self.i)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn skip_past(&mut self, end: &str) -> Result<(), String> {
        let rest = &self.s[self.i..];
        match rest.windows(end.len()).position(|w| w == end.as_bytes()) {
            Some(at) => {
                self.i += at + end.len();
                Ok(())
            }
            None => Err(self.error(&format!("`{end}` never comes"))),
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b) || b >= 0x80)
        {
            self.i += 1;
        }
        if start == self.i || self.s[start].is_ascii_digit() || self.s[start] == b'-' {
            return Err(self.error("expected a name"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// Decodes text up to `stop` (not included), checking every `&`.
    fn text_until(&mut self, stop: &[u8]) -> Result<String, String> {
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if stop.contains(&b) {
                break;
            }
            if b == b'&' {
                let end = self.s[self.i..]
                    .iter()
                    .position(|&b| b == b';')
                    .ok_or_else(|| self.error("`&` without `;`"))?;
                let entity = std::str::from_utf8(&self.s[self.i + 1..self.i + end])
                    .map_err(|_| self.error("entity is not UTF-8"))?;
                let decoded = match entity {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| self.error("bad character reference"))?,
                    e if e.starts_with('#') => e[1..]
                        .parse()
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| self.error("bad character reference"))?,
                    e => return Err(self.error(&format!("unknown entity `&{e};`"))),
                };
                let mut buf = [0; 4];
                out.extend_from_slice(decoded.encode_utf8(&mut buf).as_bytes());
                self.i += end + 1;
            } else if b == b'<' {
                return Err(self.error("`<` in text or attribute value"));
            } else {
                out.push(b);
                self.i += 1;
            }
        }
        String::from_utf8(out).map_err(|_| self.error("text is not UTF-8"))
    }

    fn element(&mut self) -> Result<Element, String> {
        if self.peek() != Some(b'<') {
            return Err(self.error("expected `<`"));
        }
        self.i += 1;
        let name = self.name()?;
        let mut attrs: Vec<(String, String)> = Vec::new();
        loop {
            let before = self.i;
            self.skip_space();
            match self.peek() {
                Some(b'/') => {
                    self.i += 1;
                    if self.peek() != Some(b'>') {
                        return Err(self.error("expected `>` after `/`"));
                    }
                    self.i += 1;
                    return Ok(Element {
                        name,
                        attrs,
                        children: Vec::new(),
                        text: String::new(),
                    });
                }
                Some(b'>') => {
                    self.i += 1;
                    break;
                }
                Some(_) => {
                    if before == self.i {
                        return Err(self.error("attributes must be separated by space"));
                    }
                    let attr = self.name()?;
                    if attrs.iter().any(|(n, _)| *n == attr) {
                        return Err(self.error(&format!("attribute `{attr}` given twice")));
                    }
                    self.skip_space();
                    if self.peek() != Some(b'=') {
                        return Err(self.error(&format!("attribute `{attr}` has no `=`")));
                    }
                    self.i += 1;
                    self.skip_space();
                    let quote = self.peek().filter(|q| *q == b'"' || *q == b'\'');
                    let Some(quote) = quote else {
                        return Err(self.error(&format!("attribute `{attr}` is not quoted")));
                    };
                    self.i += 1;
                    let value = self.text_until(&[quote])?;
                    if self.peek() != Some(quote) {
                        return Err(self.error("unterminated attribute value"));
                    }
                    self.i += 1;
                    attrs.push((attr, value));
                }
                None => return Err(self.error("unterminated start tag")),
            }
        }
        let mut children = Vec::new();
        let mut text = String::new();
        loop {
            text.push_str(&self.text_until(b"<")?);
            if self.peek().is_none() {
                return Err(self.error(&format!("<{name}> is never closed")));
            }
            if self.s[self.i..].starts_with(b"</") {
                self.i += 2;
                let close = self.name()?;
                if close != name {
                    return Err(self.error(&format!("</{close}> closes <{name}>")));
                }
                self.skip_space();
                if self.peek() != Some(b'>') {
                    return Err(self.error("expected `>`"));
                }
                self.i += 1;
                return Ok(Element {
                    name,
                    attrs,
                    children,
                    text,
                });
            }
            if self.s[self.i..].starts_with(b"<!--") {
                self.skip_past("-->")?;
                continue;
            }
            children.push(self.element()?);
        }
    }
}

/// Parses `svg`, panicking with the checker's message and the text if it is
/// not well-formed; checks what every picture must have.
pub fn check_picture(svg: &str) -> Element {
    let root = parse(svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
    assert_eq!(root.name, "svg");
    assert_eq!(root.attr("xmlns"), Some("http://www.w3.org/2000/svg"));
    assert_eq!(root.attr("role"), Some("img"));
    assert!(root.title().is_some_and(|t| !t.is_empty()), "no <title>");
    assert!(root.attr("width").is_some() && root.attr("viewBox").is_some());
    assert!(
        !svg.trim_end().contains("\n\n"),
        "a blank line inside the SVG would end Markdown's HTML block"
    );
    assert!(!svg.contains("href"), "pictures use no external resources");
    root
}

#[test]
fn the_checker_rejects_what_is_not_xml() {
    for bad in [
        "<svg><g></svg>",
        "<svg a=1/>",
        r#"<svg a="1" a="2"/>"#,
        "<svg>Tom & Jerry</svg>",
        "<svg>1 < 2</svg>",
        "<svg/><svg/>",
        "<svg>&nbsp;</svg>",
        r#"<svg a="x"b="y"/>"#,
        "<svg>",
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
    let ok = parse(r#"<svg a="&lt;1&gt;"><g>x &amp; y</g><!-- c --><rect/></svg>"#).unwrap();
    assert_eq!(ok.attr("a"), Some("<1>"));
    assert_eq!(ok.children.len(), 2);
    assert_eq!(ok.children[0].text, "x & y");
}
