//! Widget 4, the layout explorer: a size and an alignment in, what
//! `Layout::from_size_align` makes of them out.

use std::alloc::Layout;

use wasm_bindgen::prelude::*;

use crate::input::{InputError, whole_number};
use crate::layout_rules::{self, ARRAY_LEN};

/// What a valid `(size, align)` means, as the explorer shows it.
#[wasm_bindgen(getter_with_clone)]
#[derive(Clone, Debug)]
pub struct LayoutReport {
    pub size: usize,
    pub align: usize,
    /// `pad_to_align().size()`: the stride of an array of these.
    pub padded_size: usize,
    pub trailing_padding: usize,
    /// Elements in the example array.
    pub array_len: usize,
    /// Bytes of that array, or `None` when it would not fit in a `Layout`.
    pub array_size: Option<usize>,
    /// `Layout::from_size_align(size, align)` as Rust's `Debug` prints it.
    pub from_size_align: String,
    /// `pad_to_align()` as Rust's `Debug` prints it.
    pub pad_to_align: String,
}

/// Checks `size` and `align` (text from the page) against `Layout`'s rules.
/// A broken rule comes back as an error naming it, next to what the standard
/// library itself answers.
#[wasm_bindgen]
pub fn explore_layout(size: &str, align: &str) -> Result<LayoutReport, InputError> {
    let size = whole_number("size", size)?;
    let align = whole_number("alignment", align)?;
    let from_std = Layout::from_size_align(size, align);
    let facts = layout_rules::explore(size, align).map_err(|problem| {
        InputError::new(format!(
            "{problem}. Layout::from_size_align({size}, {align}) returns {from_std:?}."
        ))
    })?;
    let layout = from_std.map_err(|err| InputError::new(format!("{err}")))?;
    Ok(LayoutReport {
        size: facts.size,
        align: facts.align,
        padded_size: facts.padded_size,
        trailing_padding: facts.trailing_padding,
        array_len: ARRAY_LEN,
        array_size: facts.array_size,
        from_size_align: format!("Ok({layout:?})"),
        pad_to_align: format!("{:?}", layout.pad_to_align()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_layout_reports_padding_like_std() {
        let report = explore_layout("10", "4").expect("10/4 is a valid layout");
        let std_padded = Layout::from_size_align(10, 4).map(|l| l.pad_to_align().size());
        assert_eq!(Ok(report.padded_size), std_padded);
        assert_eq!(report.trailing_padding, report.padded_size - 10);
        assert!(report.from_size_align.starts_with("Ok("));
    }

    #[test]
    fn broken_rules_are_errors_that_name_the_rule() {
        let bad_align = explore_layout("8", "3").expect_err("3 is not a power of two");
        assert!(
            bad_align.to_string().contains("not a power of two"),
            "{bad_align}"
        );
        assert!(
            bad_align.to_string().contains("Err(LayoutError)"),
            "{bad_align}"
        );
        let zero = explore_layout("8", "0").expect_err("0 is not an alignment");
        assert!(zero.to_string().contains("alignment 0"), "{zero}");
        let overflow = explore_layout(&usize::MAX.to_string(), "8").expect_err("too big");
        assert!(
            overflow.to_string().contains("exceeds isize::MAX"),
            "{overflow}"
        );
        let words = explore_layout("ten", "8").expect_err("not a number");
        assert!(words.to_string().contains("`ten`"), "{words}");
    }
}
