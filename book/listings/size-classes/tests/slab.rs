//! Size classes and the one-thread slab.

use std::alloc::Layout;

use size_classes::{MAX_CLASS, Slab, class_by_size, class_by_size_and_align};

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("a valid layout")
}

#[test]
fn a_class_holds_the_size_and_the_alignment() {
    for size in 1..=300 {
        for align in [1, 2, 4, 8, 16, 32, 64, 128, 256] {
            let l = layout(size, align);
            let class = class_by_size_and_align(l).expect("small requests have a class");
            assert!(
                class >= size && class.is_multiple_of(align),
                "{l:?} got {class}"
            );
            assert!(class.is_power_of_two());
            // The smallest such class: half of it would not do.
            assert!(
                class == 16 || class / 2 < size.max(align),
                "{l:?} got {class}"
            );
        }
    }
    assert_eq!(class_by_size_and_align(layout(MAX_CLASS + 1, 8)), None);
    assert_eq!(class_by_size_and_align(layout(8, 2 * MAX_CLASS)), None);
}

#[test]
fn rounding_by_size_alone_ignores_the_alignment() {
    assert_eq!(class_by_size(layout(16, 64)), Some(16));
    assert_eq!(class_by_size_and_align(layout(16, 64)), Some(64));
}

#[test]
fn a_freed_block_is_the_next_one_handed_out() {
    let mut slab = Slab::new(32, 4);
    let a = slab.alloc().expect("room");
    let b = slab.alloc().expect("room");
    assert_eq!((slab.offset_of(a), slab.offset_of(b)), (0, 32));
    // SAFETY: `b` came from this slab and is not used again.
    unsafe { slab.free(b) };
    let again = slab.alloc().expect("the freed block");
    assert_eq!(again, b);
    assert_eq!(slab.carved(), 64, "reuse carves nothing");
}

#[test]
fn a_full_slab_says_none_until_a_block_is_freed() {
    let mut slab = Slab::new(16, 3);
    let blocks: Vec<_> = (0..3).map(|_| slab.alloc().expect("room")).collect();
    assert_eq!(slab.alloc(), None);
    // SAFETY: came from this slab, not used again.
    unsafe { slab.free(blocks[1]) };
    assert_eq!(slab.alloc(), Some(blocks[1]));
}

#[test]
fn live_blocks_keep_their_bytes() {
    let mut slab = Slab::new(64, 8);
    let blocks: Vec<_> = (1..=8u8)
        .map(|tag| {
            let block = slab.alloc().expect("room");
            // SAFETY: a block of 64 writable bytes.
            unsafe { block.as_ptr().write_bytes(tag, 64) };
            (block, tag)
        })
        .collect();
    for &(block, _) in blocks.iter().step_by(2) {
        // SAFETY: came from this slab, not used again.
        unsafe { slab.free(block) };
    }
    for &(block, tag) in blocks.iter().skip(1).step_by(2) {
        // SAFETY: still live, 64 bytes written above.
        let bytes = unsafe { std::slice::from_raw_parts(block.as_ptr(), 64) };
        assert!(
            bytes.iter().all(|&b| b == tag),
            "a link landed in a live block"
        );
    }
}
