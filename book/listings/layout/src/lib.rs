//! Chapter: Layout — size, alignment, padding, and a record built field by
//! field.
//!
//! Every allocation request is a [`Layout`]: a size and an alignment.
//! [`place_fields`] lays out a `#[repr(C)]`-style record with
//! [`Layout::extend`] and [`Layout::pad_to_align`], the same arithmetic the
//! compiler does for a struct:
//!
//! ```
//! use std::alloc::Layout;
//!
//! // struct { a: u8, b: u32 } with #[repr(C)]
//! let record = layout::place_fields(&[Layout::new::<u8>(), Layout::new::<u32>()]).unwrap();
//! assert_eq!(record.fields[1].offset, 4);
//! assert_eq!(record.fields[1].padding_before, 3);
//! assert_eq!(record.layout.size(), 8);
//! ```

use std::alloc::{Layout, LayoutError};

// ANCHOR: fields
/// Where one field landed in a `#[repr(C)]`-style record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldPlacement {
    /// Byte offset of the field from the start of the record.
    pub offset: usize,
    /// The field's own layout.
    pub layout: Layout,
    /// Padding inserted before the field so that `offset` is aligned.
    pub padding_before: usize,
}

/// A record built field by field the way `#[repr(C)]` does it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordLayout {
    /// The fields, in declaration order.
    pub fields: Vec<FieldPlacement>,
    /// End of the last field, before trailing padding.
    pub unpadded_size: usize,
    /// The record's layout after `pad_to_align`: what `size_of` reports.
    pub layout: Layout,
    /// Padding after the last field, so that arrays of the record stay aligned.
    pub trailing_padding: usize,
}

/// Lays out `fields` in order with `Layout::extend`, then rounds the total
/// up with `pad_to_align`, exactly as `#[repr(C)]` does.
pub fn place_fields(fields: &[Layout]) -> Result<RecordLayout, LayoutError> {
    // An empty record: size 0, alignment 1.
    let mut record = Layout::from_size_align(0, 1)?;
    let mut placements = Vec::with_capacity(fields.len());
    for &field in fields {
        let end_so_far = record.size();
        let (grown, offset) = record.extend(field)?;
        placements.push(FieldPlacement {
            offset,
            layout: field,
            padding_before: offset - end_so_far,
        });
        record = grown;
    }
    let padded = record.pad_to_align();
    Ok(RecordLayout {
        fields: placements,
        unpadded_size: record.size(),
        layout: padded,
        trailing_padding: padded.size() - record.size(),
    })
}
// ANCHOR_END: fields
