//! The layout explorer's rules: which of `Layout::from_size_align`'s rules a
//! `(size, align)` pair breaks, and what a valid pair means in memory.
//!
//! The standard library answers only "valid" or `LayoutError`. The explorer
//! widget ([`crate::explorer`]) and the bump arena map ([`crate::arena`])
//! want to tell the reader *which* rule their input broke, so this module
//! checks the rules one at a time. It never panics, whatever numbers the
//! page sends it:
//!
//! ```
//! use playground::layout_rules::{LayoutProblem, explore};
//!
//! let facts = explore(10, 4).unwrap();
//! assert_eq!(facts.padded_size, 12);
//! assert_eq!(facts.trailing_padding, 2);
//! assert_eq!(explore(8, 3), Err(LayoutProblem::AlignNotPowerOfTwo { align: 3 }));
//! ```

use std::alloc::Layout;
use std::fmt;

/// How many elements [`explore`] puts in its example array.
pub const ARRAY_LEN: usize = 4;

/// The largest size a `Layout` may have once rounded up to its alignment.
pub const MAX_SIZE: usize = isize::MAX as usize;

/// What a valid `(size, align)` pair means in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutFacts {
    /// Bytes the value occupies (`Layout::size`).
    pub size: usize,
    /// The address of the block must be a multiple of this (`Layout::align`).
    pub align: usize,
    /// `size` rounded up to a multiple of `align` (`Layout::pad_to_align`):
    /// the distance between two elements of an array, its stride.
    pub padded_size: usize,
    /// `padded_size - size`: the padding at the end of every array element.
    pub trailing_padding: usize,
    /// Bytes of an array of [`ARRAY_LEN`] such elements, or `None` when that
    /// array would be larger than a `Layout` may be.
    pub array_size: Option<usize>,
}

/// Why a `(size, align)` pair is not a valid `Layout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutProblem {
    /// The alignment is 0.
    ZeroAlign,
    /// The alignment is not 1, 2, 4, 8, ...
    AlignNotPowerOfTwo {
        /// The rejected alignment.
        align: usize,
    },
    /// Rounding the size up to the alignment would exceed `isize::MAX`.
    SizeOverflow {
        /// The rejected size.
        size: usize,
        /// Its (valid) alignment.
        align: usize,
    },
    /// An array of `count` elements `stride` bytes apart would exceed
    /// `isize::MAX` bytes.
    ArrayOverflow {
        /// Number of elements asked for.
        count: usize,
        /// Distance between elements (the padded element size).
        stride: usize,
    },
}

impl fmt::Display for LayoutProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LayoutProblem::ZeroAlign => write!(
                f,
                "alignment 0 is not allowed: Layout::from_size_align requires the alignment \
                 to be a power of two (1, 2, 4, 8, ...)"
            ),
            LayoutProblem::AlignNotPowerOfTwo { align } => write!(
                f,
                "alignment {align} is not a power of two: Layout::from_size_align requires \
                 1, 2, 4, 8, ... (the nearest are {} and {})",
                prev_power_of_two(align),
                next_power_of_two_text(align)
            ),
            LayoutProblem::SizeOverflow { size, align } => write!(
                f,
                "size {size} rounded up to alignment {align} exceeds isize::MAX ({MAX_SIZE}): \
                 Layout::from_size_align requires the padded size to fit in isize"
            ),
            LayoutProblem::ArrayOverflow { count, stride } => write!(
                f,
                "an array of {count} elements of {stride} bytes each exceeds isize::MAX \
                 ({MAX_SIZE}) bytes, the largest size a Layout may have"
            ),
        }
    }
}

impl std::error::Error for LayoutProblem {}

/// The largest power of two not above `n` (`n` > 0).
fn prev_power_of_two(n: usize) -> usize {
    1usize << (usize::BITS - 1 - n.leading_zeros())
}

/// The smallest power of two above `n`, as text: it may not fit in `usize`.
fn next_power_of_two_text(n: usize) -> String {
    match n.checked_next_power_of_two() {
        Some(p) => p.to_string(),
        None => format!("2^{}", usize::BITS),
    }
}

/// Checks `(size, align)` against the rules of `Layout::from_size_align`
/// and, when they hold, describes the layout. Never panics.
///
/// The rules, in the order they are checked:
/// 1. `align` is a power of two (so it is not zero);
/// 2. `size` rounded up to a multiple of `align` is at most `isize::MAX`.
pub fn explore(size: usize, align: usize) -> Result<LayoutFacts, LayoutProblem> {
    if align == 0 {
        return Err(LayoutProblem::ZeroAlign);
    }
    if !align.is_power_of_two() {
        return Err(LayoutProblem::AlignNotPowerOfTwo { align });
    }
    let padded_size = round_up(size, align).ok_or(LayoutProblem::SizeOverflow { size, align })?;
    let facts = LayoutFacts {
        size,
        align,
        padded_size,
        trailing_padding: padded_size - size,
        array_size: None,
    };
    Ok(LayoutFacts {
        array_size: facts.array_size_of(ARRAY_LEN).ok(),
        ..facts
    })
}

/// `size` rounded up to a multiple of `align` (a power of two), or `None`
/// when the result would exceed `isize::MAX`.
fn round_up(size: usize, align: usize) -> Option<usize> {
    let padded = size.checked_add(align - 1)? & !(align - 1);
    (padded <= MAX_SIZE).then_some(padded)
}

impl LayoutFacts {
    /// Bytes of an array of `count` elements of this layout: `count` strides
    /// of `padded_size`, the same rule `Layout::array` applies to a type.
    pub fn array_size_of(&self, count: usize) -> Result<usize, LayoutProblem> {
        let overflow = LayoutProblem::ArrayOverflow {
            count,
            stride: self.padded_size,
        };
        let total = self.padded_size.checked_mul(count).ok_or(overflow)?;
        // Already a multiple of `align`; it only has to fit in isize.
        round_up(total, self.align).ok_or(overflow)
    }

    /// The same facts as a `Layout` (always valid: `explore` checked it).
    pub fn to_layout(&self) -> Option<Layout> {
        Layout::from_size_align(self.size, self.align).ok()
    }
}

impl fmt::Display for LayoutFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "size:             {} bytes", self.size)?;
        writeln!(f, "align:            {} bytes", self.align)?;
        writeln!(
            f,
            "padded size:      {} bytes (pad_to_align)",
            self.padded_size
        )?;
        writeln!(f, "trailing padding: {} bytes", self.trailing_padding)?;
        match self.array_size {
            Some(bytes) => write!(f, "array of {ARRAY_LEN}:       {bytes} bytes"),
            None => write!(f, "array of {ARRAY_LEN}:       too large for a Layout"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_powers_are_named_for_a_bad_alignment() {
        let text = explore(1, 12).unwrap_err().to_string();
        assert!(text.contains("8 and 16"), "{text}");
        let huge = explore(1, usize::MAX).unwrap_err().to_string();
        assert!(huge.contains(&format!("2^{}", usize::BITS)), "{huge}");
    }
}
