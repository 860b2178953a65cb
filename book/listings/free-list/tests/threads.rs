//! Two threads allocating, reallocating and freeing through one small
//! [`FreeListAlloc`] at the same time, round after round.
//!
//! Every round builds a fresh allocator with a region of a few hundred bytes
//! and releases both threads together ([`race_rounds::Rounds`]). Each thread
//! writes its own tag into every byte of every block it holds and checks the
//! tag before it frees or moves the block, so a block handed to both threads,
//! or reused before its owner was done, shows the other thread's tag. After
//! the round, everything is freed and the region must be one free block again.
//!
//! [`RelaxedUnlock`] keeps the same allocator with an unlock that is a
//! `Relaxed` store: under Miri, `threads_relaxed_unlock_is_rejected_by_miri`
//! must report a data race (it is ignored otherwise: natively, and on x86
//! in particular, the mistake does not show).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use free_list::{Fit, FreeList, FreeListAlloc, Stats};
use race_rounds::{Rounds, fill, first_mismatch};

/// Small, so the threads fight over the same bytes and run into the fallback.
const REGION: usize = if cfg!(miri) { 512 } else { 1024 };
/// Operations per thread per round.
const OPS: usize = if cfg!(miri) { 10 } else { 48 };
const ROUNDS: usize = if cfg!(miri) { 3 } else { 1000 };
const TAGS: [u8; 2] = [0xA0, 0xB1];

/// What the race routine needs from an allocator.
trait Heap: GlobalAlloc + Send + Sync {
    fn fresh() -> Arc<Self>;
    fn in_region(&self, ptr: *const u8) -> bool;
    fn stats(&self) -> Stats;
}

impl Heap for FreeListAlloc<REGION> {
    fn fresh() -> Arc<Self> {
        Arc::new(FreeListAlloc::new(Fit::First))
    }
    fn in_region(&self, ptr: *const u8) -> bool {
        FreeListAlloc::in_region(self, ptr)
    }
    fn stats(&self) -> Stats {
        FreeListAlloc::stats(self)
    }
}

/// A block a thread holds at the end of its part of the round.
struct Held {
    ptr: *mut u8,
    layout: Layout,
}

// SAFETY: only carries the pointer to the check, after the thread was joined.
unsafe impl Send for Held {}

/// A deterministic spread of sizes 1..=80 and alignments 1..=64.
fn layout_for(thread: usize, i: usize) -> Layout {
    let mixed = (i.wrapping_mul(2_654_435_761) ^ thread.wrapping_mul(40_503)) >> 3;
    Layout::from_size_align(1 + mixed % 80, 1 << ((mixed >> 7) % 7)).expect("valid layout")
}

fn expect_tag(thread: usize, ptr: *mut u8, len: usize, what: &str) {
    // SAFETY: the thread wrote `len` bytes of its tag there and still owns
    // the block.
    if let Some((at, found)) = unsafe { first_mismatch(ptr, len, TAGS[thread]) } {
        panic!(
            "thread {thread}: before {what}, byte {at} of its {len}-byte block holds {found:#04x}, \
             not its tag: another thread was given the same bytes"
        );
    }
}

/// One thread's part: allocate and tag; every third step free the oldest
/// block, every fourth grow the newest with realloc, checking tags first.
fn work<A: Heap>(heap: &A, thread: usize) -> Vec<Held> {
    let mut held: Vec<Held> = Vec::with_capacity(OPS);
    for i in 0..OPS {
        let layout = layout_for(thread, i);
        // SAFETY: the size is not zero.
        let ptr = unsafe { heap.alloc(layout) };
        assert!(!ptr.is_null(), "thread {thread}: alloc({layout:?}) failed");
        // SAFETY: a fresh block of `layout.size()` bytes.
        unsafe { fill(ptr, layout.size(), TAGS[thread]) };
        held.push(Held { ptr, layout });
        if i % 3 == 2 {
            let old = held.remove(0);
            expect_tag(thread, old.ptr, old.layout.size(), "free");
            // SAFETY: ours, from `heap` with this layout, freed once.
            unsafe { heap.dealloc(old.ptr, old.layout) };
        }
        if i % 4 == 3
            && let Some(last) = held.last_mut()
        {
            expect_tag(thread, last.ptr, last.layout.size(), "realloc");
            let new_size = last.layout.size() + 24;
            // SAFETY: ours, from `heap` with this layout; the size is not zero.
            let new = unsafe { heap.realloc(last.ptr, last.layout, new_size) };
            assert!(!new.is_null(), "thread {thread}: realloc failed");
            expect_tag(thread, new, last.layout.size(), "the use after realloc");
            // SAFETY: the block now has `new_size` bytes.
            unsafe { fill(new, new_size, TAGS[thread]) };
            last.ptr = new;
            last.layout = Layout::from_size_align(new_size, last.layout.align()).unwrap();
        }
    }
    held
}

/// After both threads were joined: tags, alignment, no overlap, then free
/// everything and find the region whole again.
fn check_round<A: Heap>(round: usize, heap: &A, per_thread: Vec<Vec<Held>>) {
    let mut ranges = Vec::new();
    for (thread, blocks) in per_thread.iter().enumerate() {
        for block in blocks {
            assert_eq!(
                block.ptr.addr() % block.layout.align(),
                0,
                "round {round}: misaligned"
            );
            expect_tag(thread, block.ptr, block.layout.size(), "the check");
            let start = block.ptr.addr();
            ranges.push((start, start.saturating_add(block.layout.size()), thread));
        }
    }
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "round {round}: blocks of threads {} and {} overlap",
            pair[0].2,
            pair[1].2
        );
    }
    let in_region = per_thread
        .iter()
        .flatten()
        .filter(|b| heap.in_region(b.ptr))
        .count();
    assert_eq!(
        heap.stats().used_blocks,
        in_region,
        "round {round}: used blocks"
    );
    for block in per_thread.into_iter().flatten() {
        // SAFETY: each block from `heap` with its layout, freed once.
        unsafe { heap.dealloc(block.ptr, block.layout) };
    }
    let stats = heap.stats();
    assert_eq!(stats.used_blocks, 0, "round {round}: blocks left in use");
    assert_eq!(
        stats.free_blocks, 1,
        "round {round}: after every free the region is not one block again: {stats:?}"
    );
}

fn race<A: Heap>(rounds: usize) -> race_rounds::Report {
    Rounds::new(2, rounds).run(
        |_round| A::fresh(),
        |heap, thread| work(&**heap, thread),
        |round, heap, per_thread| check_round(round, &*heap, per_thread),
    )
}

#[test]
fn threads_share_the_heap_without_sharing_blocks() {
    let report = race::<FreeListAlloc<REGION>>(ROUNDS);
    eprintln!("{report}");
}

/// The mistake: the same allocator, but the lock's unlock is a `Relaxed`
/// store. The flag still excludes, but nothing orders one holder's writes
/// (to the list, to a freed block) before the next holder's reads.
#[repr(C, align(16))]
struct RelaxedUnlock {
    region: UnsafeCell<[u8; REGION]>,
    locked: AtomicBool,
    heap: UnsafeCell<Option<FreeList>>,
}

// SAFETY: deliberately wrong: the unlock does not publish the holder's
// writes. It exists to be rejected by Miri.
unsafe impl Sync for RelaxedUnlock {}

impl RelaxedUnlock {
    fn with_heap<R>(&self, f: impl FnOnce(&mut FreeList) -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // SAFETY: the flag excludes other holders (the ordering is what is
        // missing).
        let heap = unsafe { &mut *self.heap.get() };
        let heap = heap.get_or_insert_with(|| {
            // SAFETY: the region is ours, 16-aligned, REGION bytes.
            unsafe { FreeList::new(self.region.get().cast(), REGION, Fit::First) }
        });
        let result = f(heap);
        // THE MISTAKE: `Relaxed` instead of `Release`.
        self.locked.store(false, Ordering::Relaxed);
        result
    }
}

// SAFETY: none; see `Sync` above.
unsafe impl GlobalAlloc for RelaxedUnlock {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.with_heap(|heap| heap.alloc(layout)) {
            Some(block) => block.as_ptr(),
            // SAFETY: a non-zero size, as `GlobalAlloc` promises.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match NonNull::new(ptr) {
            Some(block) if self.in_region(ptr) => self.with_heap(|heap| {
                // SAFETY: a region block from `alloc`, freed once.
                unsafe { heap.free(block, layout) }
            }),
            // SAFETY: anything else came from `System`.
            _ => unsafe { System.dealloc(ptr, layout) },
        }
    }
}

impl Heap for RelaxedUnlock {
    fn fresh() -> Arc<Self> {
        Arc::new(RelaxedUnlock {
            region: UnsafeCell::new([0; REGION]),
            locked: AtomicBool::new(false),
            heap: UnsafeCell::new(None),
        })
    }
    fn in_region(&self, ptr: *const u8) -> bool {
        let base = self.region.get().cast::<u8>().addr();
        ptr.addr().checked_sub(base).is_some_and(|o| o < REGION)
    }
    fn stats(&self) -> Stats {
        self.with_heap(|heap| heap.stats())
    }
}

#[test]
#[ignore = "undefined behaviour on purpose: run it under Miri with `--ignored`, which must \
            report a data race (natively, and on x86 in particular, it passes)"]
fn threads_relaxed_unlock_is_rejected_by_miri() {
    let report = race::<RelaxedUnlock>(ROUNDS);
    eprintln!("{report}");
}
