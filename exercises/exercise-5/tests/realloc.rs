//! In-place `realloc` for the bump arena. Every test owns its arena.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use exercise_5::BumpArena;
use race_rounds::{Rounds, fill, first_mismatch};

/// Backing memory for one arena, 16-aligned, freed when dropped.
struct Region {
    block: *mut u8,
    len: usize,
}

// SAFETY: a `Region` only owns its block and hands out its address; the
// bytes are reached through the arena built over it, which is `Sync` itself.
unsafe impl Sync for Region {}

impl Region {
    fn new(len: usize) -> Self {
        // SAFETY: every region of these tests has a non-zero length.
        let block = unsafe { std::alloc::alloc_zeroed(Self::layout(len)) };
        assert!(!block.is_null(), "the test could not allocate its region");
        Self { block, len }
    }

    fn layout(len: usize) -> Layout {
        Layout::from_size_align(len, 16).expect("a valid region layout")
    }

    fn arena(&self) -> BumpArena {
        // SAFETY: the block is `len` bytes long, outlives the arena in every
        // test, and is touched only through the arena.
        unsafe { BumpArena::new(self.block, self.len) }
    }

    /// Where `ptr` lies in the region, for messages.
    fn offset_of(&self, ptr: *const u8) -> usize {
        ptr.addr().wrapping_sub(self.block.addr())
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: `block` came from `alloc_zeroed` with this layout.
        unsafe { std::alloc::dealloc(self.block, Self::layout(self.len)) }
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

/// `realloc` of a live `old`-byte block of `layout(old)` to `new` bytes.
fn realloc(arena: &BumpArena, ptr: *mut u8, old: usize, new: usize) -> *mut u8 {
    // SAFETY: every caller passes a live block of `layout(old)` from this
    // arena, and a valid non-zero `new`.
    unsafe { arena.realloc(ptr, layout(old), new) }
}

/// Whether the first `len` bytes at `ptr` all equal `byte`.
fn holds(ptr: *const u8, len: usize, byte: u8) -> bool {
    // SAFETY: every caller passes a live, initialised block this long.
    unsafe { first_mismatch(ptr, len, byte) }.is_none()
}

/// Writes `byte` into the `len` bytes at `ptr`.
fn mark(ptr: *mut u8, len: usize, byte: u8) {
    // SAFETY: every caller passes a live block at least `len` long.
    unsafe { fill(ptr, len, byte) }
}

#[test]
fn is_last_knows_the_most_recent_block() {
    let region = Region::new(256);
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
    let region = Region::new(256);
    let arena = region.arena();
    let a = alloc(&arena, 32);
    mark(a, 32, 0xA5);
    let used = arena.used();
    let grown = realloc(&arena, a, 32, 64);
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
    let region = Region::new(256);
    let arena = region.arena();
    let a = alloc(&arena, 100);
    mark(a, 100, 7);
    let shrunk = realloc(&arena, a, 100, 40);
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
    let region = Region::new(256);
    let arena = region.arena();
    let a = alloc(&arena, 16);
    mark(a, 16, 1);
    let b = alloc(&arena, 16);
    mark(b, 16, 2);
    assert!(!arena.is_last(a, 16), "`b` came after `a`");
    let moved = realloc(&arena, a, 16, 48);
    assert!(!moved.is_null(), "the arena has room for the copy");
    assert_ne!(
        moved, a,
        "growing `a` in place would overwrite `b`, the block after it"
    );
    assert!(holds(moved, 16, 1), "the contents are copied");
    assert!(holds(b, 16, 2), "the block after `a` is untouched");
    assert_eq!(arena.used(), 16 + 16 + 48);
}

#[test]
fn growth_that_does_not_fit_fails_and_keeps_the_block() {
    let region = Region::new(128);
    let arena = region.arena();
    let a = alloc(&arena, 64);
    mark(a, 64, 9);
    assert!(arena.is_last(a, 64));
    let grown = realloc(&arena, a, 64, 1000);
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

/// How the shrinking thread of `two_threads_reuse_a_shrunk_block_in_order`
/// ended.
const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
const PANICKED: u8 = 2;

/// Records, when dropped, whether its thread finished or panicked.
struct Outcome<'a>(&'a AtomicU8);

impl Drop for Outcome<'_> {
    fn drop(&mut self) {
        let outcome = if std::thread::panicking() {
            PANICKED
        } else {
            FINISHED
        };
        // Relaxed on purpose: this flag must not order anything, or it
        // would hide a missing happens-before in the arena.
        self.0.store(outcome, Ordering::Relaxed);
    }
}

#[test]
fn two_threads_reuse_a_shrunk_block_in_order() {
    let region = Region::new(256);
    let arena = region.arena();
    let shrinker = AtomicU8::new(RUNNING);
    std::thread::scope(|s| {
        // The shrinker: takes 64 bytes, writes all of them, keeps 8.
        s.spawn(|| {
            let _outcome = Outcome(&shrinker);
            let a = alloc(&arena, 64);
            mark(a, 64, 0xAA);
            let shrunk = realloc(&arena, a, 64, 8);
            assert_eq!(
                shrunk, a,
                "shrinking the most recent block must not move it"
            );
        });
        // The next owner: waits until the 56 bytes are given back, then
        // takes 8 of them and writes them.
        s.spawn(|| {
            let mut patience = 1000;
            loop {
                let outcome = shrinker.load(Ordering::Relaxed);
                if arena.used() == 8 {
                    break;
                }
                match outcome {
                    // The shrinker's own panic tells the story.
                    PANICKED => return,
                    FINISHED => {
                        patience -= 1;
                        assert!(
                            patience > 0,
                            "after allocating 64 bytes and shrinking them to 8, `used` is {}, \
                             not 8: shrinking the last block must give the bytes back",
                            arena.used()
                        );
                    }
                    _ => {}
                }
                std::thread::yield_now();
            }
            let b = alloc(&arena, 8);
            assert_eq!(
                region.offset_of(b),
                8,
                "the next block starts where the shrunk one now ends"
            );
            // Under Miri this write is a data race unless the shrink
            // happened-before this allocation: a Release on the resize and an
            // Acquire on the allocation's update of `next`.
            mark(b, 8, 0xBB);
            assert!(holds(b, 8, 0xBB));
        });
    });
}

/// The state of one race round: a fresh arena over a fresh, small region.
struct Round {
    arena: BumpArena,
    region: Region,
}

#[test]
fn two_threads_resizing_blocks_never_share_a_byte() {
    const STEPS: usize = if cfg!(miri) { 3 } else { 256 };
    // Worst case per step: 8 bytes, then a copy to 24, then a copy to 16.
    const ARENA: usize = 2 * STEPS * (8 + 24 + 16);
    const TIME_LIMIT: Duration = Duration::from_secs(10);
    // A lost update needs both threads inside `realloc` at the same instant,
    // and a busy machine often runs them one after the other: keep going
    // until enough rounds really overlapped, or the time is up.
    const WANTED_OVERLAPS: usize = if cfg!(miri) { 1 } else { 300 };
    let started = Instant::now();
    let (mut rounds, mut overlapping) = (0, 0);
    while overlapping < WANTED_OVERLAPS && (rounds == 0 || started.elapsed() < TIME_LIMIT) {
        let report = Rounds::new(2, if cfg!(miri) { 4 } else { 1000 }).run(
            |_round| {
                let region = Region::new(ARENA);
                Round {
                    arena: region.arena(),
                    region,
                }
            },
            |state, thread| {
                let tag = u8::try_from(thread + 1).expect("a small thread index");
                let arena = &state.arena;
                let check = |ptr: *const u8, len: usize, what: &str| {
                    // SAFETY: every caller passes a live block of `len` bytes
                    // that this thread filled.
                    if let Some((at, found)) = unsafe { first_mismatch(ptr, len, tag) } {
                        panic!(
                            "thread {tag} {what}; byte {at} of its block at offset {} holds {found}: \
                             another thread was given the same bytes. Checking that the block is \
                             last and then moving `next` must be ONE atomic step.",
                            state.region.offset_of(ptr)
                        );
                    }
                };
                let mut blocks = Vec::with_capacity(STEPS);
                for _ in 0..STEPS {
                    let small = alloc(arena, 8);
                    mark(small, 8, tag);
                    let big = realloc(arena, small, 8, 24);
                    assert!(!big.is_null(), "the arena has room for every block");
                    check(big, 8, "grew a block from 8 to 24 bytes");
                    mark(big, 24, tag);
                    let kept = realloc(arena, big, 24, 16);
                    assert!(!kept.is_null(), "the arena has room for every block");
                    check(kept, 16, "shrank a block from 24 to 16 bytes");
                    blocks.push(kept);
                }
                for &block in &blocks {
                    check(block, 16, "filled its blocks");
                }
                // Addresses, so the results can go back to the checking thread.
                blocks.into_iter().map(|ptr| ptr.addr()).collect::<Vec<_>>()
            },
            |round, state, results| {
                let base = state.region.block;
                let mut blocks: Vec<(usize, u8)> = Vec::new();
                for (thread, addrs) in results.iter().enumerate() {
                    let tag = u8::try_from(thread + 1).expect("a small thread index");
                    blocks.extend(addrs.iter().map(|&addr| (addr, tag)));
                }
                for &(addr, tag) in &blocks {
                    let ptr = base.with_addr(addr);
                    // SAFETY: a 16-byte block of this round's arena, filled by
                    // its thread, which has finished.
                    if let Some((at, found)) = unsafe { first_mismatch(ptr, 16, tag) } {
                        panic!(
                            "round {round}: byte {at} of thread {tag}'s block at offset {} holds \
                             {found}: two threads were given the same bytes",
                            state.region.offset_of(ptr)
                        );
                    }
                }
                blocks.sort_unstable();
                for pair in blocks.windows(2) {
                    assert!(
                        pair[0]
                            .0
                            .checked_add(16)
                            .is_some_and(|end| end <= pair[1].0),
                        "round {round}: live blocks at offsets {} and {} overlap",
                        state.region.offset_of(base.with_addr(pair[0].0)),
                        state.region.offset_of(base.with_addr(pair[1].0)),
                    );
                }
                assert!(
                    state.arena.used() <= ARENA,
                    "round {round}: `used` is {} in a {ARENA}-byte arena",
                    state.arena.used()
                );
            },
        );
        rounds += report.rounds;
        overlapping += report.overlapping;
    }
    println!("threads overlapped in {overlapping} of {rounds} rounds");
}
