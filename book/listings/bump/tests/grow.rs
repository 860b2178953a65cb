//! `GrowInPlace`: the newest block grows where it is and goes back when it
//! is freed; any other block moves, and stays when freed.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::Arc;

use bump::GrowInPlace;
use race_rounds::{Rounds, fill, first_mismatch};

const ARENA: usize = 1024;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("valid test layout")
}

#[test]
fn the_newest_block_grows_in_place_and_keeps_its_bytes() {
    let grow = Box::new(GrowInPlace::<ARENA>::new());
    // SAFETY: for the whole block: non-zero sizes; each block is used while
    // live and freed once with its current layout.
    unsafe {
        let ptr = grow.alloc(layout(16));
        fill(ptr, 16, 7);
        let used = grow.arena.used();
        let grown = grow.realloc(ptr, layout(16), 100);
        assert_eq!(grown, ptr, "the newest block must not move");
        assert_eq!(grow.arena.used(), used + 84, "exactly the extra bytes");
        assert_eq!(first_mismatch(grown, 16, 7), None);
        // A shrink keeps the block and gives nothing back.
        assert_eq!(grow.realloc(grown, layout(100), 40), ptr);
        assert_eq!(grow.arena.used(), used + 84);
        grow.dealloc(ptr, layout(40));
    }
}

#[test]
fn a_block_with_a_newer_one_after_it_moves_with_its_bytes() {
    let grow = Box::new(GrowInPlace::<ARENA>::new());
    // SAFETY: for the whole block: as above.
    unsafe {
        let first = grow.alloc(layout(16));
        fill(first, 16, 1);
        let second = grow.alloc(layout(16));
        fill(second, 16, 2);
        let moved = grow.realloc(first, layout(16), 64);
        assert_ne!(
            moved, first,
            "growing in place would overwrite the newer block"
        );
        assert_eq!(first_mismatch(moved, 16, 1), None);
        assert_eq!(
            first_mismatch(second, 16, 2),
            None,
            "the neighbour was overwritten"
        );
        assert_eq!(grow.arena.used(), 16 + 16 + 64);
        // The moved block is now the newest: it grows in place again.
        assert_eq!(grow.realloc(moved, layout(64), 128), moved);
        grow.dealloc(moved, layout(128));
        grow.dealloc(second, layout(16));
    }
}

#[test]
fn freeing_the_newest_block_gives_its_bytes_back_and_an_older_one_stays() {
    let grow = Box::new(GrowInPlace::<ARENA>::new());
    // SAFETY: for the whole block: non-zero sizes; each block is used while
    // live and freed once with its layout.
    unsafe {
        let first = grow.alloc(layout(32));
        let second = grow.alloc(layout(32));
        grow.dealloc(first, layout(32));
        assert_eq!(grow.arena.used(), 64, "an older block is never given back");
        grow.dealloc(second, layout(32));
        assert_eq!(grow.arena.used(), 32, "the newest block goes back");
        let again = grow.alloc(layout(32));
        assert_eq!(again, second, "its bytes serve the next request");
        grow.dealloc(again, layout(32));
    }
}

#[test]
fn growth_past_the_arena_and_system_blocks_move_to_system() {
    let grow = Box::new(GrowInPlace::<ARENA>::new());
    // SAFETY: for the whole block: as above.
    unsafe {
        let ptr = grow.alloc(layout(512));
        fill(ptr, 512, 3);
        let big = grow.realloc(ptr, layout(512), 2048);
        assert_eq!(grow.arena.arena_offset(big), None);
        assert_eq!(first_mismatch(big, 512, 3), None);
        let bigger = grow.realloc(big, layout(2048), 4096);
        assert_eq!(first_mismatch(bigger, 512, 3), None);
        grow.dealloc(bigger, layout(4096));
        assert_eq!(grow.arena.fallback_live(), 0);
    }
}

#[test]
fn threads_growing_their_newest_blocks_never_overlap() {
    const ROUNDS: usize = if cfg!(miri) { 3 } else { 1000 };
    const TAGS: [u8; 2] = [0xA0, 0xB1];
    struct Grown(*mut u8, usize);
    // SAFETY: moved to the check only after its thread was joined.
    unsafe impl Send for Grown {}
    let report = Rounds::new(2, ROUNDS).run(
        |_round| Arc::new(GrowInPlace::<ARENA>::new()),
        |grow, thread| {
            let mut last = None;
            // Grow a block, check it, give it back, three times: the bytes
            // one thread gives back may go to the other thread next.
            for pass in 0..3 {
                let mut size = 8;
                // SAFETY: for the whole block: non-zero sizes, the block is
                // this thread's while it grows, and freed once.
                unsafe {
                    let mut ptr = grow.alloc(layout(size));
                    fill(ptr, size, TAGS[thread]);
                    while size < 128 {
                        ptr = grow.realloc(ptr, layout(size), size * 2);
                        size *= 2;
                        fill(ptr, size, TAGS[thread]);
                    }
                    assert_eq!(
                        first_mismatch(ptr, size, TAGS[thread]),
                        None,
                        "thread {thread}: the other thread wrote into my block"
                    );
                    if pass < 2 {
                        grow.dealloc(ptr, layout(size));
                    } else {
                        last = Some(Grown(ptr, size));
                    }
                }
            }
            last.expect("three passes")
        },
        |round, grow, results| {
            let mut ranges = Vec::new();
            for (thread, Grown(ptr, size)) in results.into_iter().enumerate() {
                // SAFETY: filled by its joined thread.
                let mismatch = unsafe { first_mismatch(ptr, size, TAGS[thread]) };
                assert_eq!(
                    mismatch, None,
                    "round {round}: thread {thread}'s block was overwritten"
                );
                if let Some(offset) = grow.arena.arena_offset(ptr) {
                    ranges.push((offset, offset + size));
                }
                // SAFETY: from `alloc`/`realloc` with this layout, freed once.
                unsafe { grow.dealloc(ptr, layout(size)) };
            }
            ranges.sort_unstable();
            for pair in ranges.windows(2) {
                assert!(pair[0].1 <= pair[1].0, "round {round}: {pair:?} overlap");
            }
        },
    );
    eprintln!("{report}");
}
