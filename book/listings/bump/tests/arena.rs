//! Single-instance behaviour: alignment, fallback, zero-size, reset, realloc.

use std::alloc::{GlobalAlloc, Layout};

use bump::{BumpAlloc, UnderAligned, address_aligned, align_up, offset_aligned_address};
use proptest::prelude::*;

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("valid layout")
}

/// Allocates from `bump`, checking the pointer is non-null and aligned.
fn alloc_checked<const N: usize>(bump: &BumpAlloc<N>, layout: Layout) -> *mut u8 {
    // SAFETY: the tests below pass non-zero sizes unless they test zero.
    let ptr = unsafe { bump.alloc(layout) };
    assert!(!ptr.is_null(), "alloc({layout:?}) returned null");
    assert_eq!(
        ptr.addr() % layout.align(),
        0,
        "alloc({layout:?}) misaligned"
    );
    ptr
}

#[test]
fn under_aligned_base_is_16_but_not_32_aligned() {
    let demo = Box::new(UnderAligned::<64>::new());
    assert_eq!(demo.bump.base_addr() % 16, 0);
    assert_eq!(demo.bump.base_addr() % 32, 16);
    assert_eq!(demo.bump.base_addr() % 4096, 16);
}

#[test]
fn large_alignments_are_right_on_an_under_aligned_base() {
    let demo = Box::new(UnderAligned::<16384>::new());
    for align in [32, 64, 512, 4096] {
        let ptr = alloc_checked(&demo.bump, layout(64, align));
        let offset = demo.bump.arena_offset(ptr).expect("fits in the arena");
        assert!(offset + 64 <= demo.bump.capacity());
        // SAFETY: single-threaded; the block above is not used again.
        unsafe { demo.bump.reset() };
    }
}

#[test]
fn rounding_the_offset_misaligns_on_an_under_aligned_base() {
    let demo = Box::new(UnderAligned::<64>::new());
    let base = demo.bump.base_addr();
    for align in [64, 512, 4096] {
        let shortcut = offset_aligned_address(base, 0, align).unwrap();
        assert_ne!(
            shortcut % align,
            0,
            "offset rounding happened to work for {align}"
        );
        assert_eq!(address_aligned(base, 0, align).unwrap() % align, 0);
    }
}

#[test]
fn padding_is_counted_and_included_in_used() {
    let demo = Box::new(UnderAligned::<256>::new());
    let bump = &demo.bump;
    alloc_checked(bump, layout(1, 1));
    let ptr = alloc_checked(bump, layout(8, 64));
    // The base is 16 past a 64-byte boundary: the next 64-aligned address is
    // 48 bytes in, so 47 bytes after the first block are padding.
    assert_eq!(bump.arena_offset(ptr), Some(48));
    assert_eq!(bump.padding_wasted(), 47);
    assert_eq!(bump.used(), 56);
}

#[test]
fn exhaustion_falls_back_to_system_and_frees_it() {
    let bump = Box::new(BumpAlloc::<64>::new());
    let first = alloc_checked(&bump, layout(48, 8));
    assert!(bump.arena_offset(first).is_some());
    let spilled = alloc_checked(&bump, layout(32, 8));
    assert_eq!(bump.arena_offset(spilled), None);
    assert_eq!(bump.fallback_count(), 1);
    assert_eq!(bump.fallback_live(), 1);
    assert_eq!(bump.used(), 48, "a fallback must not consume arena bytes");
    // SAFETY: both blocks came from `bump` with these layouts and are not
    // used again.
    unsafe {
        bump.dealloc(spilled, layout(32, 8));
        bump.dealloc(first, layout(48, 8));
    }
    assert_eq!(bump.fallback_live(), 0);
    assert_eq!(bump.fallback_count(), 1, "the count is cumulative");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri stops at an allocation it cannot serve instead of returning null"
)]
fn an_impossible_request_returns_null_without_touching_the_arena() {
    let bump = Box::new(BumpAlloc::<64>::new());
    let huge = layout(isize::MAX as usize - 4095, 4096);
    // SAFETY: non-zero size.
    let ptr = unsafe { bump.alloc(huge) };
    assert!(ptr.is_null());
    assert_eq!(bump.used(), 0);
    assert_eq!(bump.fallback_count(), 1);
    assert_eq!(bump.fallback_live(), 0);
}

#[test]
fn zero_size_requests_take_no_space_and_are_aligned() {
    let bump = Box::new(BumpAlloc::<64>::new());
    for align in [1, 16, 4096, 1 << 20] {
        let ptr = alloc_checked(&bump, layout(0, align));
        assert_eq!(bump.arena_offset(ptr), None);
        // SAFETY: `ptr` came from `bump` with this layout.
        unsafe { bump.dealloc(ptr, layout(0, align)) };
    }
    assert_eq!(bump.used(), 0);
    assert_eq!(bump.fallback_count(), 0);
    assert_eq!(bump.fallback_live(), 0);
}

#[test]
fn reset_makes_the_whole_arena_available_again() {
    let bump = Box::new(BumpAlloc::<128>::new());
    let first = alloc_checked(&bump, layout(100, 4));
    let spilled = alloc_checked(&bump, layout(100, 4));
    assert_eq!(bump.fallback_count(), 1);
    // SAFETY: single-threaded, so every use of `first` happens before the
    // reset, and `first` is not used after it. The fallback block is
    // deliberately left live: it is not an arena block.
    unsafe { bump.reset() };
    assert_eq!(
        (bump.used(), bump.padding_wasted(), bump.fallback_count()),
        (0, 0, 0)
    );
    assert_eq!(
        bump.fallback_live(),
        1,
        "the System block is still out there"
    );
    let again = alloc_checked(&bump, layout(100, 4));
    assert_eq!(again, first, "the arena starts over at offset 0");
    // SAFETY: `spilled` came from `bump` with this layout and is freed once.
    unsafe { bump.dealloc(spilled, layout(100, 4)) };
    assert_eq!(bump.fallback_live(), 0, "dealloc still routes it to System");
}

#[test]
fn realloc_keeps_the_contents_across_arena_and_fallback() {
    let bump = Box::new(BumpAlloc::<64>::new());
    let small = layout(16, 8);
    let ptr = alloc_checked(&bump, small);
    // SAFETY: `ptr` points to 16 writable bytes owned by this test.
    unsafe { ptr.copy_from_nonoverlapping([7u8; 16].as_ptr(), 16) };
    // SAFETY: `ptr` came from `bump` with `small`; 32 is a valid size.
    let grown = unsafe { bump.realloc(ptr, small, 32) };
    assert!(bump.arena_offset(grown).is_some());
    // SAFETY: as above; 100 bytes no longer fit, so this moves to System.
    let moved = unsafe { bump.realloc(grown, layout(32, 8), 100) };
    assert_eq!(bump.arena_offset(moved), None);
    // SAFETY: `moved` holds at least the 16 initialised bytes copied along.
    let head = unsafe { std::slice::from_raw_parts(moved, 16) };
    assert_eq!(head, &[7u8; 16]);
    // SAFETY: `moved` came from `bump` with size 100, align 8.
    unsafe { bump.dealloc(moved, layout(100, 8)) };
    assert_eq!(bump.fallback_live(), 0);
}

#[test]
fn align_up_rejects_bad_alignments_and_overflow() {
    assert_eq!(align_up(17, 16), Some(32));
    assert_eq!(align_up(32, 16), Some(32));
    assert_eq!(align_up(5, 3), None);
    assert_eq!(align_up(5, 0), None);
    assert_eq!(align_up(usize::MAX, 16), None);
}

/// Few cases under Miri, which runs each one thousands of times slower, and
/// no failure file: Miri isolates the test from the file system.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if cfg!(miri) {
        config.cases = 4;
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn address_rounding_is_always_aligned_and_minimal(
        base in (0usize..1 << 40).prop_map(|b| b * 16),
        offset in 0usize..1 << 20,
        align_exp in 0u32..=12,
    ) {
        let align = 1usize << align_exp;
        let addr = address_aligned(base, offset, align).unwrap();
        prop_assert_eq!(addr % align, 0);
        prop_assert!(addr >= base + offset && addr < base + offset + align);
        let shortcut = offset_aligned_address(base, offset, align).unwrap();
        // The shortcut is aligned exactly when the base is.
        prop_assert_eq!(shortcut.is_multiple_of(align), base.is_multiple_of(align));
    }
}
