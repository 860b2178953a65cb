//! In-place `realloc` for the bump arena. Every test owns its arena.

use std::alloc::{GlobalAlloc, Layout};

use exercise_5::BumpArena;

/// Backing memory for one arena, 16-aligned.
struct Region(Vec<u128>);

impl Region {
    fn new(len: usize) -> Self {
        Self(vec![0; len / 16])
    }

    fn arena(&mut self) -> BumpArena {
        let bytes = self.0.len() * 16;
        // SAFETY: the vector's buffer is `bytes` long and each test leaves it
        // alone while its arena is in use.
        unsafe { BumpArena::new(self.0.as_mut_ptr().cast(), bytes) }
    }
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("a valid layout")
}

fn alloc(arena: &BumpArena, size: usize) -> *mut u8 {
    // SAFETY: every size in these tests is non-zero.
    let ptr = unsafe { arena.alloc(layout(size)) };
    assert!(!ptr.is_null(), "the arena is large enough for this block");
    ptr
}

/// Fills a block with `byte`.
fn fill(ptr: *mut u8, len: usize, byte: u8) {
    // SAFETY: every caller passes a live block at least `len` long.
    unsafe { ptr.write_bytes(byte, len) }
}

/// Whether the first `len` bytes at `ptr` all equal `byte`.
fn holds(ptr: *const u8, len: usize, byte: u8) -> bool {
    // SAFETY: every caller passes a live, initialised block this long.
    unsafe { std::slice::from_raw_parts(ptr, len) }
        .iter()
        .all(|&b| b == byte)
}

#[test]
fn is_last_knows_the_most_recent_block() {
    let mut region = Region::new(256);
    let arena = region.arena();
    let a = alloc(&arena, 32);
    assert!(arena.is_last(a, 32));
    let b = alloc(&arena, 16);
    assert!(!arena.is_last(a, 32), "another block came after it");
    assert!(arena.is_last(b, 16));
    assert!(!arena.is_last(b, 8), "the size must match the block's end");
    let elsewhere = 0u8;
    assert!(
        !arena.is_last(&elsewhere, 1),
        "a pointer outside the arena is never last"
    );
}

#[test]
fn growing_the_last_block_keeps_its_address() {
    let mut region = Region::new(256);
    let arena = region.arena();
    let a = alloc(&arena, 32);
    fill(a, 32, 0xA5);
    let used = arena.used();
    // SAFETY: `a` is a live block of `layout(32)`; 64 is a valid size.
    let grown = unsafe { arena.realloc(a, layout(32), 64) };
    assert_eq!(
        grown, a,
        "not solved yet: growing the most recent block must not move it — see the chapter \
         \"A bump arena\", or run `cargo workbook hint 5`"
    );
    assert_eq!(
        arena.used(),
        used + 32,
        "growing by 32 bytes uses exactly 32 more"
    );
    assert!(holds(grown, 32, 0xA5), "the old contents stay");
}

#[test]
fn shrinking_the_last_block_gives_bytes_back() {
    let mut region = Region::new(256);
    let arena = region.arena();
    let a = alloc(&arena, 100);
    fill(a, 100, 7);
    // SAFETY: `a` is a live block of `layout(100)`; 40 is a valid size.
    let shrunk = unsafe { arena.realloc(a, layout(100), 40) };
    assert_eq!(
        shrunk, a,
        "shrinking the most recent block must not move it"
    );
    assert_eq!(
        arena.used(),
        40,
        "the 60 bytes given up are available again"
    );
    assert!(holds(shrunk, 40, 7));
    let b = alloc(&arena, 8);
    assert_eq!(
        b.addr(),
        a.addr() + 40,
        "the next block starts right after the shrunk one"
    );
}

#[test]
fn a_block_that_is_not_last_is_copied() {
    let mut region = Region::new(256);
    let arena = region.arena();
    let a = alloc(&arena, 16);
    fill(a, 16, 1);
    let _b = alloc(&arena, 16);
    // SAFETY: `a` is a live block of `layout(16)`; 48 is a valid size.
    let moved = unsafe { arena.realloc(a, layout(16), 48) };
    assert!(!moved.is_null());
    assert_ne!(
        moved, a,
        "growing in place would overwrite the block after it"
    );
    assert!(holds(moved, 16, 1), "the contents are copied");
    assert_eq!(arena.used(), 16 + 16 + 48);
}

#[test]
fn growth_that_does_not_fit_fails_and_keeps_the_block() {
    let mut region = Region::new(128);
    let arena = region.arena();
    let a = alloc(&arena, 64);
    fill(a, 64, 9);
    // SAFETY: `a` is a live block of `layout(64)`; 1000 is a valid size.
    let grown = unsafe { arena.realloc(a, layout(64), 1000) };
    assert!(
        grown.is_null(),
        "1000 bytes do not fit in a 128-byte arena: return null"
    );
    assert_eq!(arena.used(), 64, "a failed realloc changes nothing");
    assert!(
        holds(a, 64, 9),
        "the old block is still valid after a failed realloc"
    );
}

#[test]
fn two_threads_growing_blocks_never_overlap() {
    const ROUNDS: usize = 500;
    let mut region = Region::new(2 * ROUNDS * 64);
    let arena = region.arena();
    std::thread::scope(|s| {
        for tag in 1..=2u8 {
            let arena = &arena;
            s.spawn(move || {
                let mut blocks = Vec::with_capacity(ROUNDS);
                for _ in 0..ROUNDS {
                    let small = alloc(arena, 8);
                    fill(small, 8, tag);
                    // SAFETY: `small` is a live block of `layout(8)`.
                    let big = unsafe { arena.realloc(small, layout(8), 24) };
                    assert!(!big.is_null(), "the arena has room for every block");
                    fill(big, 24, tag);
                    blocks.push(big);
                }
                for big in blocks {
                    assert!(holds(big, 24, tag), "another thread wrote into this block");
                }
            });
        }
    });
}
