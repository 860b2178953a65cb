//! Text for pictures: XML escaping and numbers a reader takes in at a glance.

/// Escapes text for XML content and attribute values (`&`, `<`, `>`, `"`, `'`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newline are not allowed
            // in XML 1.0 at all, not even escaped.
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `12 MiB`, `2.25 GiB`.
/// At most three significant digits; no trailing `.0`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{} {}", significant(value), UNITS[unit])
}

/// A count with thousands separated by a thin space (`12 345`), the way the
/// book prints counts.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// A number with at most three significant digits and no trailing zeros
/// after the point: `0.125`, `1.5`, `12.3`, `456`, `12345`.
pub fn significant(value: f64) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let magnitude = value.abs();
    let decimals = if magnitude >= 100.0 || magnitude == 0.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        3
    };
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if text == "-0" { "0".to_owned() } else { text }
}

/// A value with its unit: bytes (`"B"` or `"bytes"`) in binary units, `%`
/// glued to the number, anything else after a space.
pub fn with_unit(value: f64, unit: &str) -> String {
    match unit {
        _ if !value.is_finite() => "—".to_owned(),
        "B" | "bytes" if value >= 0.0 => human_bytes(value.round() as u64),
        "%" => format!("{}%", significant(value)),
        "" => significant(value),
        unit => format!("{} {unit}", significant(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("bell\u{7}"), "bell\u{fffd}");
    }

    #[test]
    fn bytes_in_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1 KiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(8000), "7.81 KiB");
        assert_eq!(human_bytes(3 << 20), "3 MiB");
        assert_eq!(human_bytes(1 << 30), "1 GiB");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(significant(0.0), "0");
        assert_eq!(significant(0.125), "0.125");
        assert_eq!(significant(12.34), "12.3");
        assert_eq!(significant(456.7), "457");
        assert_eq!(significant(-0.0001), "0");
        assert_eq!(group_digits(1234567), "1\u{2009}234\u{2009}567");
        assert_eq!(group_digits(999), "999");
        assert_eq!(with_unit(0.5, "%"), "0.5%");
        assert_eq!(with_unit(2048.0, "bytes"), "2 KiB");
        assert_eq!(with_unit(3.0, "ns"), "3 ns");
        assert_eq!(with_unit(f64::NAN, "ns"), "—");
    }
}
