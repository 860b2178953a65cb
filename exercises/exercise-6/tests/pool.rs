//! The size-class pool's promises, one thread at a time. Every test owns
//! its pool. The two-thread tests are in `threads.rs`.

mod common;

use std::alloc::GlobalAlloc;

use common::{Region, alloc, alloc_small, layout};
use exercise_6::{CLASSES, class_of};

#[test]
fn class_of_picks_the_smallest_class_that_holds_the_size() {
    assert_eq!(CLASSES, [16, 32, 64, 128]);
    assert_eq!(class_of(layout(1, 1)), Some(0));
    assert_eq!(class_of(layout(16, 8)), Some(0));
    assert_eq!(class_of(layout(17, 1)), Some(1));
    assert_eq!(class_of(layout(33, 4)), Some(2));
    assert_eq!(class_of(layout(128, 8)), Some(3));
    assert_eq!(class_of(layout(129, 1)), None, "129 bytes fit no class");
}

#[test]
fn class_of_counts_alignment_as_much_as_size() {
    for (size, align, class) in [(16, 64, Some(2)), (8, 32, Some(1)), (1, 128, Some(3))] {
        assert_eq!(
            class_of(layout(size, align)),
            class,
            "{size} bytes aligned to {align}: a block of a class is aligned only to the class \
             size, so the class must be at least the alignment too"
        );
    }
    assert_eq!(class_of(layout(8, 256)), None, "no class is aligned to 256");
}

#[test]
fn every_block_is_aligned_to_its_layout() {
    let region = Region::new(4096);
    let pool = region.pool();
    for (size, align) in [(16, 64), (1, 32), (24, 8), (8, 128), (100, 4)] {
        let requested = layout(size, align);
        // Three in a row: a block of a too-small class lands off the
        // alignment by the second one at the latest.
        for _ in 0..3 {
            let ptr = alloc_small(&pool, requested);
            assert_eq!(
                ptr.addr() % align,
                0,
                "a block for {size} bytes aligned to {align} is at {ptr:p}, not a multiple of \
                 {align}: handing out a misaligned block is undefined behaviour in the caller"
            );
        }
    }
}

#[test]
fn a_freed_block_is_reused_by_its_class() {
    let region = Region::new(4096);
    let pool = region.pool();
    let first = alloc_small(&pool, layout(24, 8));
    assert_eq!(first.addr() % 32, 0, "a 32-byte class block is 32-aligned");
    let carved = pool.carved();
    // SAFETY: `first` came from `pool` with this layout.
    unsafe { pool.dealloc(first, layout(24, 8)) };
    let again = alloc_small(&pool, layout(32, 4));
    assert_eq!(again, first, "the freed 32-byte block is handed out again");
    assert_eq!(pool.carved(), carved, "reuse carves nothing new");
}

#[test]
fn every_freed_block_is_reused_before_more_is_carved() {
    let region = Region::new(4096);
    let pool = region.pool();
    let block = layout(32, 8);
    let mut first: Vec<_> = (0..4).map(|_| alloc_small(&pool, block)).collect();
    let carved = pool.carved();
    for &ptr in &first {
        // SAFETY: each came from `pool` with `block`.
        unsafe { pool.dealloc(ptr, block) };
    }
    let mut second: Vec<_> = (0..4).map(|_| alloc_small(&pool, block)).collect();
    assert_eq!(
        pool.carved(),
        carved,
        "four freed blocks serve four requests"
    );
    first.sort();
    second.sort();
    assert_eq!(second, first, "the same four blocks, each exactly once");
}

#[test]
fn classes_do_not_share_blocks() {
    let region = Region::new(4096);
    let pool = region.pool();
    let small = alloc_small(&pool, layout(16, 16));
    // SAFETY: `small` came from `pool` with this layout.
    unsafe { pool.dealloc(small, layout(16, 16)) };
    let bigger = alloc_small(&pool, layout(64, 8));
    assert_ne!(bigger, small, "a free 16-byte block cannot hold 64 bytes");
    assert_eq!(bigger.addr() % 64, 0);
}

#[test]
fn live_blocks_keep_their_bytes_while_others_are_freed() {
    let region = Region::new(4096);
    let pool = region.pool();
    let sizes = [16, 32, 64, 128, 16, 32, 64, 128];
    let blocks: Vec<_> = sizes
        .iter()
        .zip(1u8..)
        .map(|(&size, tag)| {
            let ptr = alloc_small(&pool, layout(size, 8));
            // SAFETY: a fresh block of `size` writable bytes.
            unsafe { ptr.write_bytes(tag, size) };
            (ptr, size, tag)
        })
        .collect();
    // Free every other block: the free lists write their links into those.
    for &(ptr, size, _) in blocks.iter().step_by(2) {
        // SAFETY: `ptr` came from `pool` with this layout.
        unsafe { pool.dealloc(ptr, layout(size, 8)) };
    }
    for &(ptr, size, tag) in blocks.iter().skip(1).step_by(2) {
        // SAFETY: `ptr` is still a live block of `size` bytes, written above.
        let bytes = unsafe { std::slice::from_raw_parts(ptr, size) };
        assert!(
            bytes.iter().all(|&b| b == tag),
            "freeing other blocks changed a live {size}-byte block: a link was written into \
             the wrong block"
        );
    }
}

#[test]
fn large_requests_and_a_full_region_go_to_system() {
    let region = Region::new(256);
    let pool = region.pool();
    let large = alloc(&pool, layout(1000, 8));
    assert!(
        !pool.owns(large),
        "1000 bytes is no class: System serves it"
    );
    let a = alloc_small(&pool, layout(128, 8));
    let b = alloc_small(&pool, layout(128, 8));
    let overflow = alloc(&pool, layout(128, 8));
    assert!(!pool.owns(overflow), "a full region falls back to System");
    // SAFETY: each block came from `pool` with the layout given here.
    unsafe {
        pool.dealloc(overflow, layout(128, 8));
        pool.dealloc(large, layout(1000, 8));
        pool.dealloc(a, layout(128, 8));
        pool.dealloc(b, layout(128, 8));
    }
    let reused = alloc_small(&pool, layout(100, 8));
    assert!(
        reused == a || reused == b,
        "a freed region block is preferred over System"
    );
}

#[test]
fn a_block_from_system_never_joins_a_free_list() {
    let region = Region::new(256);
    let pool = region.pool();
    // Fill the region, so the next small requests go to System.
    let a = alloc_small(&pool, layout(128, 8));
    let b = alloc_small(&pool, layout(128, 8));
    let small = layout(65, 1);
    let from_system: Vec<_> = (0..8).map(|_| alloc(&pool, small)).collect();
    for &ptr in &from_system {
        assert!(!pool.owns(ptr), "the region is full: System serves this");
        // SAFETY: `ptr` came from `pool` with `small`.
        unsafe { pool.dealloc(ptr, small) };
    }
    // Blocks of the 128 class again, now aligned to 128. A System block of
    // 65 bytes aligned to 1 has no business being handed out for these.
    let aligned = layout(128, 128);
    let again: Vec<_> = (0..8).map(|_| alloc(&pool, aligned)).collect();
    for &ptr in &again {
        assert!(
            ptr.addr() % 128 == 0,
            "a block that System gave out for 65 bytes aligned to 1 came back from the pool for \
             128 bytes aligned to 128: `dealloc` put a block the region does not own on a free \
             list. Such blocks must go back to System"
        );
    }
    // SAFETY: each block came from `pool` with the layout given here.
    unsafe {
        for ptr in again {
            pool.dealloc(ptr, aligned);
        }
        pool.dealloc(a, layout(128, 8));
        pool.dealloc(b, layout(128, 8));
    }
}
