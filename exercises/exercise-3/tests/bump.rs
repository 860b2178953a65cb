//! The bump arena's promises. Every test builds its own arena over its own
//! region, so the tests are independent under the parallel runner.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use exercise_3::{BumpAlloc, align_up};

const NOT_SOLVED: &str = "not solved yet (or a bug): `BumpAlloc::alloc` returned null for a block \
     that fits — see the chapter \"A bump arena\", or run `cargo workbook hint 3`";

/// How often the arena turned to its fallback.
#[derive(Default)]
struct Calls {
    allocs: AtomicUsize,
    deallocs: AtomicUsize,
}

impl Calls {
    fn allocs(&self) -> usize {
        self.allocs.load(Ordering::Relaxed)
    }
    fn deallocs(&self) -> usize {
        self.deallocs.load(Ordering::Relaxed)
    }
}

/// A fallback that forwards to `System` and records its calls in a `Calls`
/// the test owns (the arena keeps its fallback private).
struct Spy<'a>(&'a Calls);

// SAFETY: forwards to `System` unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for Spy<'_> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.allocs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.0.deallocs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Backing memory for one arena whose base is 16-aligned but NOT 32-aligned,
/// as a `static` byte array or a `malloc` block may well be.
struct Region {
    buffer: Vec<u8>,
    len: usize,
}

impl Region {
    fn new(len: usize) -> Self {
        Self {
            buffer: vec![0; len + 4096 + 16],
            len,
        }
    }

    /// An arena over this region, reporting fallback calls to `calls`.
    fn arena<'a>(&mut self, calls: &'a Calls) -> BumpAlloc<Spy<'a>> {
        let start = self.buffer.as_mut_ptr();
        // 4096-aligned plus 16: 16-aligned, never 32-aligned.
        let skip = start.align_offset(4096) + 16;
        // SAFETY: `skip + len` is within the buffer, and each test keeps the
        // region alive and untouched while its arena hands out blocks.
        unsafe { BumpAlloc::new(start.add(skip), self.len, Spy(calls)) }
    }

    /// The `len` bytes at address `addr`, which lies in this region.
    fn bytes_at(&self, addr: usize, len: usize) -> &[u8] {
        &self.buffer[addr - self.buffer.as_ptr().addr()..][..len]
    }
}

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("a valid layout")
}

fn alloc(arena: &BumpAlloc<Spy<'_>>, layout: Layout) -> *mut u8 {
    // SAFETY: every layout in these tests has a non-zero size.
    let ptr = unsafe { arena.alloc(layout) };
    assert!(!ptr.is_null(), "{NOT_SOLVED}");
    ptr
}

#[test]
fn align_up_rounds_to_the_next_multiple() {
    assert_eq!(align_up(0, 8), Some(0));
    assert_eq!(align_up(1, 8), Some(8));
    assert_eq!(align_up(16, 16), Some(16));
    assert_eq!(align_up(17, 4096), Some(4096));
    assert_eq!(align_up(4097, 1), Some(4097));
    assert_eq!(
        align_up(usize::MAX, 2),
        None,
        "overflow must give None, not wrap or panic"
    );
}

#[test]
fn every_alignment_is_honoured_from_a_16_aligned_base() {
    let mut region = Region::new(16 * 1024);
    let calls = Calls::default();
    let arena = region.arena(&calls);
    let mut previous_end = 0;
    for align in [1, 2, 4, 8, 16, 32, 64, 512, 4096] {
        let ptr = alloc(&arena, layout(3, align));
        assert_eq!(
            ptr.addr() % align,
            0,
            "a block aligned to {align} was asked for: align the ADDRESS, not the offset"
        );
        assert!(
            arena.contains(ptr),
            "a fitting block must come from the arena"
        );
        assert!(ptr.addr() >= previous_end, "blocks must not overlap");
        previous_end = ptr.addr() + 3;
    }
    assert_eq!(calls.allocs(), 0);
}

#[test]
fn blocks_are_packed_and_used_counts_every_byte() {
    let mut region = Region::new(1024);
    let calls = Calls::default();
    let arena = region.arena(&calls);
    let a = alloc(&arena, layout(10, 1));
    let b = alloc(&arena, layout(6, 2));
    assert_eq!(
        b.addr() - a.addr(),
        10,
        "a 2-aligned block right after 10 bytes needs no padding"
    );
    assert_eq!(arena.used(), 16);
    let c = alloc(&arena, layout(8, 16));
    assert_eq!(c.addr() % 16, 0);
    assert_eq!(
        arena.used(),
        24,
        "the base is 16-aligned, so 16 bytes in needs no padding"
    );
}

#[test]
fn a_full_arena_falls_back_and_frees_only_fallback_blocks() {
    let mut region = Region::new(256);
    let calls = Calls::default();
    let arena = region.arena(&calls);
    let inside = layout(200, 8);
    let in_arena = alloc(&arena, inside);
    assert!(arena.contains(in_arena));
    let outside = alloc(&arena, inside);
    assert!(
        !arena.contains(outside),
        "200 more bytes do not fit in a 256-byte arena"
    );
    assert_eq!(
        calls.allocs(),
        1,
        "the block that did not fit comes from the fallback"
    );
    // SAFETY: both blocks came from `arena` with `inside`.
    unsafe {
        arena.dealloc(outside, inside);
        arena.dealloc(in_arena, inside);
    }
    assert_eq!(
        calls.deallocs(),
        1,
        "exactly the fallback block goes back to the fallback"
    );
    assert_eq!(arena.used(), 200, "arena blocks are never freed one by one");
}

#[test]
fn two_threads_never_share_a_byte() {
    const PER_THREAD: usize = 1000;
    const SIZE: usize = 16;
    let mut region = Region::new(2 * PER_THREAD * SIZE);
    let calls = Calls::default();
    let arena = region.arena(&calls);
    let blocks: Vec<Vec<usize>> = std::thread::scope(|s| {
        let workers: Vec<_> = (1..=2u8)
            .map(|tag| {
                let arena = &arena;
                s.spawn(move || {
                    (0..PER_THREAD)
                        .map(|_| {
                            let ptr = alloc(arena, layout(SIZE, 8));
                            // SAFETY: the block is ours: SIZE writable bytes.
                            unsafe { ptr.write_bytes(tag, SIZE) };
                            ptr.addr()
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect()
    });
    assert_eq!(
        arena.used(),
        2 * PER_THREAD * SIZE,
        "every byte of the arena was handed out once"
    );
    assert_eq!(calls.allocs(), 0);
    for (tag, addrs) in (1..=2u8).zip(&blocks) {
        for &addr in addrs {
            let bytes = region.bytes_at(addr, SIZE);
            assert!(
                bytes.iter().all(|&b| b == tag),
                "two threads were given the same bytes"
            );
        }
    }
}
