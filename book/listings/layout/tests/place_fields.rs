//! `place_fields` lays out a record exactly as `#[repr(C)]` does, and the
//! three refusals the chapter shows are what the standard library answers.

use std::alloc::Layout;

use layout::place_fields;

#[test]
fn fields_are_placed_like_repr_c() {
    #[repr(C)]
    struct Mixed {
        a: u8,
        b: u32,
        c: u8,
        d: u64,
    }
    let fields = [
        Layout::new::<u8>(),
        Layout::new::<u32>(),
        Layout::new::<u8>(),
        Layout::new::<u64>(),
    ];
    let record = place_fields(&fields).unwrap();
    let offsets: Vec<usize> = record.fields.iter().map(|f| f.offset).collect();
    assert_eq!(
        offsets,
        [
            std::mem::offset_of!(Mixed, a),
            std::mem::offset_of!(Mixed, b),
            std::mem::offset_of!(Mixed, c),
            std::mem::offset_of!(Mixed, d),
        ]
    );
    assert_eq!(record.layout, Layout::new::<Mixed>());
    let padding: usize = record.fields.iter().map(|f| f.padding_before).sum();
    let payload: usize = fields.iter().map(|f| f.size()).sum();
    assert_eq!(
        payload + padding + record.trailing_padding,
        size_of::<Mixed>()
    );
}

#[test]
fn an_empty_record_is_zero_sized_with_alignment_one() {
    let record = place_fields(&[]).unwrap();
    assert_eq!(record.layout, Layout::new::<()>());
    assert!(record.fields.is_empty());
}

#[test]
fn a_record_too_large_for_a_layout_is_an_error() {
    let huge = Layout::from_size_align(isize::MAX as usize - 7, 8).unwrap();
    assert!(place_fields(&[Layout::new::<u8>(), huge]).is_err());
}

#[test]
fn the_refusals_the_chapter_shows_are_real() {
    assert!(
        Layout::from_size_align(16, 3).is_err(),
        "3 is not a power of two"
    );
    assert!(
        Layout::from_size_align(16, 0).is_err(),
        "0 is not a power of two"
    );
    assert!(
        Layout::from_size_align(isize::MAX as usize, 8).is_err(),
        "padded past isize::MAX"
    );
    assert!(Layout::from_size_align(isize::MAX as usize - 7, 8).is_ok());
    assert!(Layout::array::<u64>(usize::MAX / 4).is_err());
    assert!(Layout::array::<u64>(isize::MAX as usize / 8).is_ok());
}
