//! Turning the text of a form field into a number, with a message a reader
//! understands when it is not one. Nothing here panics on any input.

use std::fmt;

/// Why the page's input was not accepted. In JavaScript it arrives as a
/// thrown `Error` whose `message` is this text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError(String);

impl InputError {
    pub fn new(message: impl Into<String>) -> Self {
        InputError(message.into())
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

impl From<InputError> for wasm_bindgen::JsValue {
    fn from(err: InputError) -> Self {
        wasm_bindgen::JsError::new(&err.0).into()
    }
}

/// Parses `text` as a whole number of `what` (e.g. "size", "alignment").
pub fn whole_number(what: &str, text: &str) -> Result<usize, InputError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(InputError::new(format!(
            "{what} is empty: enter a whole number"
        )));
    }
    if let Ok(value) = text.parse::<usize>() {
        return Ok(value);
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let message = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if text.starts_with('-') {
            format!("{what} cannot be negative, got {text}")
        } else {
            format!(
                "{what} {text} does not fit in a usize here ({} bits, largest {})",
                usize::BITS,
                usize::MAX
            )
        }
    } else {
        format!("{what} must be a whole number, got `{text}`")
    };
    Err(InputError::new(message))
}

/// Like [`whole_number`], but also within `min..=max`; `why` says where the
/// bound comes from.
pub fn bounded(
    what: &str,
    text: &str,
    min: usize,
    max: usize,
    why: &str,
) -> Result<usize, InputError> {
    let value = whole_number(what, text)?;
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(InputError::new(format!(
            "{what} must be between {min} and {max} ({why}), got {value}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<usize, InputError>) -> String {
        result.expect_err("input should be rejected").to_string()
    }

    #[test]
    fn accepts_whole_numbers_with_spaces() {
        assert_eq!(whole_number("size", " 24 "), Ok(24));
    }

    #[test]
    fn names_what_is_wrong() {
        assert!(message(whole_number("size", "")).contains("size is empty"));
        assert!(message(whole_number("size", "abc")).contains("whole number, got `abc`"));
        assert!(message(whole_number("size", "1.5")).contains("whole number"));
        assert!(message(whole_number("size", "-3")).contains("cannot be negative"));
        let huge = "9".repeat(40);
        assert!(message(whole_number("size", &huge)).contains("does not fit in a usize"));
    }

    #[test]
    fn bounds_are_inclusive_and_explained() {
        assert_eq!(bounded("n", "10", 1, 10, "page limit"), Ok(10));
        let text = message(bounded("n", "11", 1, 10, "page limit"));
        assert!(
            text.contains("between 1 and 10 (page limit), got 11"),
            "{text}"
        );
    }
}
