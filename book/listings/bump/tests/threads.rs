//! Two threads bumping one small arena at the same time, round after round.
//!
//! Every round builds a fresh arena of a few hundred bytes and releases both threads
//! together from a spin barrier ([`race_rounds::Rounds`]). Each thread takes
//! blocks until well past the arena's end and writes its own tag into every
//! byte of every block, so a block handed to both threads shows the other
//! thread's tag. The same routine runs against [`LoadThenStore`], `alloc`
//! written without a compare-and-swap, and must reject it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bump::{BumpAlloc, address_aligned};
use race_rounds::{Rounds, fill, first_mismatch};

/// Small, so the two threads fight over the same few hundred bytes and both
/// run past the end into the fallback.
const ARENA: usize = if cfg!(miri) { 256 } else { 512 };
/// Requests per thread per round: about twice what the arena holds.
const BLOCKS_PER_THREAD: usize = if cfg!(miri) { 12 } else { 24 };
const ROUNDS: usize = if cfg!(miri) { 4 } else { 2000 };
/// The most rounds the wrong arena may survive. It is usually caught in the
/// first hundred; the margin is for a busy machine, where the threads
/// overlap less often.
const WRONG_ROUNDS: usize = 10 * ROUNDS;
/// The tag each thread writes into its blocks.
const TAGS: [u8; 2] = [0xA0, 0xB1];

/// What the race routine needs from an arena, so the same routine can run
/// against the real [`BumpAlloc`] and the wrong [`LoadThenStore`].
trait Arena: GlobalAlloc + Send + Sync {
    /// A new arena on the heap. In an `Arc`, not a `Box`: the round moves
    /// its state to the check, and moving a `Box` would assert that nothing
    /// else points into it, while the blocks handed out do.
    fn fresh() -> Arc<Self>;
    fn arena_offset(&self, ptr: *const u8) -> Option<usize>;
    fn used(&self) -> usize;
    fn padding_wasted(&self) -> usize;
    fn fallback_count(&self) -> usize;
    fn fallback_live(&self) -> usize;
}

impl Arena for BumpAlloc<ARENA> {
    fn fresh() -> Arc<Self> {
        Arc::new(BumpAlloc::new())
    }
    fn arena_offset(&self, ptr: *const u8) -> Option<usize> {
        BumpAlloc::arena_offset(self, ptr)
    }
    fn used(&self) -> usize {
        BumpAlloc::used(self)
    }
    fn padding_wasted(&self) -> usize {
        BumpAlloc::padding_wasted(self)
    }
    fn fallback_count(&self) -> usize {
        BumpAlloc::fallback_count(self)
    }
    fn fallback_live(&self) -> usize {
        BumpAlloc::fallback_live(self)
    }
}

/// A block one thread got, as that thread saw it.
struct Block {
    ptr: *mut u8,
    layout: Layout,
}

// SAFETY: a `Block` only carries the pointer from the thread that allocated
// it to the check, which runs after that thread was joined.
unsafe impl Send for Block {}

/// A deterministic spread of sizes 1..=24 and alignments 1..=32.
fn layout_for(thread: usize, i: usize) -> Layout {
    let mixed = (i.wrapping_mul(2_654_435_761) ^ thread.wrapping_mul(40_503)) >> 3;
    Layout::from_size_align(1 + mixed % 24, 1 << ((mixed >> 5) % 6)).expect("valid test layout")
}

/// One thread's part of a round: allocate, tag every block.
fn take_blocks<A: Arena>(arena: &A, thread: usize) -> Vec<Block> {
    let mut blocks = Vec::with_capacity(BLOCKS_PER_THREAD);
    for i in 0..BLOCKS_PER_THREAD {
        let layout = layout_for(thread, i);
        // SAFETY: every layout from `layout_for` has a non-zero size.
        let ptr = unsafe { arena.alloc(layout) };
        assert!(!ptr.is_null(), "thread {thread}: alloc({layout:?}) failed");
        // SAFETY: a non-null block from `alloc(layout)` has `layout.size()`
        // writable bytes.
        unsafe { fill(ptr, layout.size(), TAGS[thread]) };
        blocks.push(Block { ptr, layout });
    }
    blocks
}

/// Checks one round once both threads have been joined (so everything they
/// wrote happens before these reads), then frees the fallback blocks.
fn check_round<A: Arena>(round: usize, arena: &A, per_thread: Vec<Vec<Block>>) {
    let mut arena_ranges: Vec<(usize, usize, usize)> = Vec::new();
    let mut arena_bytes = 0usize;
    let mut fallbacks = 0usize;
    for (thread, blocks) in per_thread.iter().enumerate() {
        for block in blocks {
            let Block { ptr, layout } = *block;
            assert_eq!(
                ptr.addr() % layout.align(),
                0,
                "round {round}: thread {thread} got a misaligned block for {layout:?}"
            );
            // SAFETY: the block has `layout.size()` bytes, all written by
            // its thread, which has been joined.
            let mismatch = unsafe { first_mismatch(ptr, layout.size(), TAGS[thread]) };
            if let Some((at, found)) = mismatch {
                panic!(
                    "round {round}: thread {thread}'s {}-byte block at arena offset {:?} \
                     holds {found:#04x} at byte {at}, the other thread's tag: the arena \
                     handed the same bytes to both threads (a lost update of the offset)",
                    layout.size(),
                    arena.arena_offset(ptr),
                );
            }
            match arena.arena_offset(ptr) {
                Some(offset) => {
                    let end = offset
                        .checked_add(layout.size())
                        .filter(|&end| end <= ARENA)
                        .unwrap_or_else(|| {
                            panic!("round {round}: a block at offset {offset} runs past the arena")
                        });
                    arena_ranges.push((offset, end, thread));
                    arena_bytes = arena_bytes
                        .checked_add(layout.size())
                        .expect("arena bytes fit in usize");
                }
                None => fallbacks += 1,
            }
        }
    }
    assert!(
        arena_ranges.len() > 2,
        "round {round}: the arena served only {} blocks",
        arena_ranges.len()
    );
    assert!(fallbacks > 0, "round {round}: the arena never ran out");
    arena_ranges.sort_unstable();
    for pair in arena_ranges.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "round {round}: arena blocks {:?} (thread {}) and {:?} (thread {}) overlap",
            (pair[0].0, pair[0].1),
            pair[0].2,
            (pair[1].0, pair[1].1),
            pair[1].2
        );
    }
    let accounted = arena_bytes.checked_add(arena.padding_wasted());
    assert_eq!(
        Some(arena.used()),
        accounted,
        "round {round}: used bytes are not the blocks plus padding: an update of the offset \
         was lost or counted twice"
    );
    assert_eq!(arena.fallback_count(), fallbacks, "round {round}");
    assert_eq!(arena.fallback_live(), fallbacks, "round {round}");
    for Block { ptr, layout } in per_thread.into_iter().flatten() {
        // SAFETY: each block came from `arena.alloc(layout)` and is freed
        // once; nothing uses it afterwards.
        unsafe { arena.dealloc(ptr, layout) };
    }
    assert_eq!(arena.fallback_live(), 0, "round {round}");
}

/// The race test: two threads, many rounds, each on a fresh arena.
fn race<A: Arena>(rounds: usize) -> race_rounds::Report {
    Rounds::new(2, rounds).run(
        |_round| A::fresh(),
        |arena, thread| take_blocks(&**arena, thread),
        |round, arena, per_thread| check_round(round, &*arena, per_thread),
    )
}

#[test]
fn threads_get_disjoint_aligned_blocks() {
    let report = race::<BumpAlloc<ARENA>>(ROUNDS);
    eprintln!("{report}");
}

/// The classic mistake, kept so the test above can be shown to catch it:
/// [`BumpAlloc`]'s `alloc` with the compare-and-swap replaced by "load the
/// offset, compute, store the new offset". Two threads that load the same
/// offset both get the bytes after it.
#[repr(C, align(16))]
struct LoadThenStore {
    arena: UnsafeCell<[u8; ARENA]>,
    offset: AtomicUsize,
    padding: AtomicUsize,
    fallbacks: AtomicUsize,
    fallback_live: AtomicUsize,
}

// SAFETY: deliberately wrong (this type exists to be rejected): two threads
// can get the same bytes. Only the test below shares it between threads.
unsafe impl Sync for LoadThenStore {}

impl LoadThenStore {
    fn arena_ptr(&self) -> *mut u8 {
        self.arena.get().cast::<u8>()
    }

    /// Like `BumpAlloc::fallback`.
    ///
    /// # Safety
    /// `layout.size()` is not zero.
    unsafe fn fallback(&self, layout: Layout) -> *mut u8 {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        // SAFETY: our caller guarantees a non-zero size.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            self.fallback_live.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }
}

// SAFETY: none; see `Sync` above. Single-threaded it would be correct.
unsafe impl GlobalAlloc for LoadThenStore {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        if size == 0 {
            return std::ptr::without_provenance_mut(align);
        }
        let base = self.arena_ptr().addr();
        // THE MISTAKE: a plain load here and a plain store below. Another
        // thread can load the same offset in between.
        let current = self.offset.load(Ordering::Relaxed);
        let start = address_aligned(base, current, align).and_then(|addr| addr.checked_sub(base));
        let Some(start) = start else {
            // SAFETY: `size != 0`.
            return unsafe { self.fallback(layout) };
        };
        let Some(end) = start.checked_add(size).filter(|&end| end <= ARENA) else {
            // SAFETY: `size != 0`.
            return unsafe { self.fallback(layout) };
        };
        self.offset.store(end, Ordering::Relaxed);
        let padding = start.saturating_sub(current);
        if padding > 0 {
            self.padding.fetch_add(padding, Ordering::Relaxed);
        }
        // SAFETY: `start + size <= ARENA`: in bounds. (Not exclusive: that
        // is the bug.)
        unsafe { self.arena_ptr().add(start) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() == 0 || Arena::arena_offset(self, ptr).is_some() {
            return;
        }
        self.fallback_live.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: not an arena or zero-size pointer, so it came from
        // `fallback`, i.e. from `System.alloc(layout)`.
        unsafe { System.dealloc(ptr, layout) };
    }
}

impl Arena for LoadThenStore {
    fn fresh() -> Arc<Self> {
        Arc::new(LoadThenStore {
            arena: UnsafeCell::new([0; ARENA]),
            offset: AtomicUsize::new(0),
            padding: AtomicUsize::new(0),
            fallbacks: AtomicUsize::new(0),
            fallback_live: AtomicUsize::new(0),
        })
    }
    fn arena_offset(&self, ptr: *const u8) -> Option<usize> {
        let offset = ptr.addr().checked_sub(self.arena_ptr().addr())?;
        (offset < ARENA).then_some(offset)
    }
    fn used(&self) -> usize {
        self.offset.load(Ordering::Relaxed)
    }
    fn padding_wasted(&self) -> usize {
        self.padding.load(Ordering::Relaxed)
    }
    fn fallback_count(&self) -> usize {
        self.fallbacks.load(Ordering::Relaxed)
    }
    fn fallback_live(&self) -> usize {
        self.fallback_live.load(Ordering::Relaxed)
    }
}

/// The panic message of a failed run, as text.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else {
        String::from("(no message)")
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the wrong arena hands the same bytes to both threads: Miri stops the whole run at \
              that data race, as undefined behaviour"
)]
fn threads_test_rejects_an_arena_that_loads_then_stores_the_offset() {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| race::<LoadThenStore>(WRONG_ROUNDS)));
    let Err(payload) = outcome else {
        panic!(
            "the race test passed an arena without compare-and-swap in {WRONG_ROUNDS} rounds: it \
             cannot catch a lost update of the offset"
        );
    };
    let message = message(&*payload);
    eprintln!("rejected: {message}");
    assert!(
        message.contains("round ") && !message.contains("never ran at the same time"),
        "the wrong arena failed for another reason than the race: {message}"
    );
}
