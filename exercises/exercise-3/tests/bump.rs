//! The downward bump arena's promises. Every test builds its own arena over
//! its own region, so the tests are independent under the parallel runner.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use exercise_3::{BumpDown, align_down};
use race_rounds::{Rounds, fill, first_mismatch};

const NOT_SOLVED: &str = "not solved yet (or a bug): `BumpDown::alloc` returned null for a block \
     that fits — see the chapter \"A bump arena\", or run `cargo workbook hint 3`";

/// Backing memory for one arena that starts 16 bytes past a 4096-byte
/// boundary: aligned to 16 and to nothing larger, as a `static` byte array or
/// a `malloc` block may well be. Every length used here is a multiple of 32,
/// so the region's END is also aligned to 16 and not to 32.
struct Region {
    block: *mut u8,
    len: usize,
}

/// How far past a 4096-byte boundary every region starts.
const SKEW: usize = 16;

// SAFETY: a `Region` only owns its block and hands out its address; the
// bytes are reached through the arena built over it, which is `Sync` itself.
unsafe impl Sync for Region {}

impl Region {
    fn new(len: usize) -> Self {
        // SAFETY: the layout has a non-zero size.
        let block = unsafe { std::alloc::alloc_zeroed(Self::layout(len)) };
        assert!(!block.is_null(), "the test could not allocate its region");
        Self { block, len }
    }

    fn layout(len: usize) -> Layout {
        Layout::from_size_align(len + SKEW, 4096).expect("a valid region layout")
    }

    /// The region's first byte.
    fn start(&self) -> *mut u8 {
        self.block.wrapping_add(SKEW)
    }

    /// The address just past the region's last byte.
    fn end(&self) -> usize {
        self.start().addr() + self.len
    }

    /// An arena over this region that sends what does not fit to `fallback`.
    fn arena<F>(&self, fallback: F) -> BumpDown<F> {
        // SAFETY: `start..start + len` lies inside `block`, which outlives
        // every arena of these tests and is touched only through it.
        unsafe { BumpDown::new(self.start(), self.len, fallback) }
    }

    /// Where `ptr` lies in the region, for messages.
    fn offset_of(&self, ptr: *const u8) -> usize {
        ptr.addr().wrapping_sub(self.start().addr())
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: `block` came from `alloc_zeroed` with this layout.
        unsafe { std::alloc::dealloc(self.block, Self::layout(self.len)) }
    }
}

/// What the arena asked of its fallback.
#[derive(Default)]
struct Calls {
    allocs: AtomicUsize,
    deallocs: AtomicUsize,
    /// Arena blocks wrongly passed to the fallback's `dealloc`.
    arena_blocks_freed: AtomicUsize,
    /// The region, so the spy can recognise arena blocks.
    region: (usize, usize),
}

impl Calls {
    fn new(region: &Region) -> Self {
        Self {
            region: (region.start().addr(), region.end()),
            ..Self::default()
        }
    }
    fn allocs(&self) -> usize {
        self.allocs.load(Ordering::Relaxed)
    }
    fn deallocs(&self) -> usize {
        self.deallocs.load(Ordering::Relaxed)
    }
}

/// Requests larger than this are refused by the spy, as a real allocator
/// refuses what it cannot find memory for.
const FALLBACK_LIMIT: usize = 1 << 20;

/// A fallback that records its calls in a `Calls` the test owns (the arena
/// keeps its fallback private) and forwards to `System`. It never passes
/// `System` a pointer that `System` did not give out.
struct Spy<'a>(&'a Calls);

// SAFETY: `alloc` returns null or a `System` block of the layout; `dealloc`
// forwards only blocks that did not come from the arena region, which are
// `System`'s.
unsafe impl GlobalAlloc for Spy<'_> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.allocs.fetch_add(1, Ordering::Relaxed);
        if layout.size() > FALLBACK_LIMIT {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.0.deallocs.fetch_add(1, Ordering::Relaxed);
        let (start, end) = self.0.region;
        if (start..end).contains(&ptr.addr()) {
            // `System` never gave this block out: freeing it there would be
            // undefined behaviour. Record the mistake instead.
            self.0.arena_blocks_freed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // SAFETY: `ptr` is not an arena block, so it came from `System` via
        // `alloc` above, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("a valid layout")
}

fn alloc<F: GlobalAlloc>(arena: &BumpDown<F>, layout: Layout) -> *mut u8 {
    // SAFETY: every layout in these tests has a non-zero size.
    let ptr = unsafe { arena.alloc(layout) };
    assert!(!ptr.is_null(), "{NOT_SOLVED}");
    ptr
}

#[test]
fn align_down_rounds_to_the_multiple_below() {
    assert_eq!(align_down(0, 8), 0);
    assert_eq!(align_down(7, 8), 0);
    assert_eq!(align_down(8, 8), 8);
    assert_eq!(align_down(4097, 4096), 4096);
    assert_eq!(align_down(4097, 1), 4097, "alignment 1 changes nothing");
    assert_eq!(
        align_down(usize::MAX, 16),
        usize::MAX - 15,
        "rounding down never overflows"
    );
}

#[test]
fn blocks_are_packed_downward_and_used_counts_every_byte() {
    let region = Region::new(1024);
    let calls = Calls::new(&region);
    let arena = region.arena(Spy(&calls));
    let a = alloc(&arena, layout(10, 1));
    assert_eq!(
        region.end() - a.addr(),
        10,
        "the first block ends where the region ends: the arena bumps DOWNWARD"
    );
    let b = alloc(&arena, layout(6, 2));
    assert_eq!(
        a.addr() - b.addr(),
        6,
        "a 2-aligned block right below a block at an even address needs no padding"
    );
    assert_eq!(arena.used(), 16);
    let c = alloc(&arena, layout(8, 16));
    assert_eq!(c.addr() % 16, 0);
    assert_eq!(
        b.addr() - c.addr(),
        16,
        "8 bytes below `b` is 8 past a multiple of 16: round the address down to it"
    );
    assert_eq!(
        arena.used(),
        32,
        "padding counts: 16 + 8 skipped + 8 bytes of the block"
    );
    assert_eq!(calls.allocs(), 0, "every block fitted in the arena");
}

#[test]
fn every_alignment_is_honoured_on_a_region_aligned_only_to_16() {
    let region = Region::new(16 * 1024);
    let calls = Calls::new(&region);
    let arena = region.arena(Spy(&calls));
    let mut previous = region.end();
    for align in [1, 2, 4, 8, 16, 32, 64, 512, 4096] {
        let ptr = alloc(&arena, layout(3, align));
        assert_eq!(
            ptr.addr() % align,
            0,
            "a block aligned to {align} was asked for, at offset {} of a region whose start and \
             end are 16 past a multiple of 32: round the ADDRESS down, not the offset",
            region.offset_of(ptr)
        );
        assert!(
            arena.contains(ptr),
            "a fitting block must come from the arena"
        );
        assert!(
            ptr.addr() + 3 <= previous,
            "each block lies below the one before it, without overlapping it"
        );
        previous = ptr.addr();
    }
    assert_eq!(calls.allocs(), 0);
}

#[test]
fn a_block_that_exactly_fits_comes_from_the_arena() {
    let region = Region::new(256);
    let calls = Calls::new(&region);
    let arena = region.arena(Spy(&calls));
    let high = alloc(&arena, layout(200, 8));
    let low = alloc(&arena, layout(56, 8));
    assert_eq!(
        low,
        region.start(),
        "56 bytes are left and 56 are asked for: the block starts at the region's first byte"
    );
    assert!(arena.contains(high) && arena.contains(low));
    assert_eq!(calls.allocs(), 0, "both blocks fit in the arena");
    assert_eq!(arena.used(), 256);
    let outside = alloc(&arena, layout(1, 1));
    assert!(
        !arena.contains(outside),
        "a full arena sends even one byte to the fallback"
    );
    // SAFETY: `outside` came from `arena` with this layout.
    unsafe { arena.dealloc(outside, layout(1, 1)) };
}

#[test]
fn a_full_arena_falls_back_and_frees_only_fallback_blocks() {
    let region = Region::new(256);
    let calls = Calls::new(&region);
    let arena = region.arena(Spy(&calls));
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
        calls.arena_blocks_freed.load(Ordering::Relaxed),
        0,
        "an arena block was passed to the fallback's `dealloc`: the fallback never gave it \
         out, and freeing it there is undefined behaviour"
    );
    assert_eq!(
        calls.deallocs(),
        1,
        "exactly the fallback block goes back to the fallback"
    );
    assert_eq!(arena.used(), 200, "arena blocks are never freed one by one");
}

#[test]
fn a_request_larger_than_memory_falls_back_without_overflow() {
    let region = Region::new(256);
    let calls = Calls::new(&region);
    let arena = region.arena(Spy(&calls));
    let first = alloc(&arena, layout(8, 8));
    assert!(arena.contains(first));
    let huge = layout(isize::MAX as usize, 1);
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { arena.alloc(huge) };
    assert!(
        ptr.is_null(),
        "a block larger than the address space cannot come from the arena: stepping down by its \
         size must not wrap around (use `checked_sub`)"
    );
    assert_eq!(calls.allocs(), 1, "the request went to the fallback");
    assert_eq!(arena.used(), 8, "the arena holds just the first block");
}

/// The state of one race round: a fresh arena over a fresh, small region.
struct Round {
    arena: BumpDown<System>,
    region: Region,
}

#[test]
fn two_threads_never_share_a_byte() {
    const BLOCKS: usize = 16;
    const SIZE: usize = 16;
    let report = Rounds::new(2, if cfg!(miri) { 4 } else { 2000 }).run(
        // Exactly room for every block of both threads.
        |_round| {
            let region = Region::new(2 * BLOCKS * SIZE);
            Round {
                arena: region.arena(System),
                region,
            }
        },
        |state, thread| {
            let tag = u8::try_from(thread + 1).expect("a small thread index");
            let blocks: Vec<*mut u8> = (0..BLOCKS)
                .map(|_| {
                    let ptr = alloc(&state.arena, layout(SIZE, 8));
                    // SAFETY: the block is ours: SIZE writable bytes.
                    unsafe { fill(ptr, SIZE, tag) };
                    ptr
                })
                .collect();
            for &ptr in &blocks {
                // SAFETY: every block is live, SIZE bytes, filled above.
                if let Some((at, found)) = unsafe { first_mismatch(ptr, SIZE, tag) } {
                    panic!(
                        "thread {tag} wrote {tag} into its block at offset {} of the region, \
                         and byte {at} now holds {found}: another thread was given the same \
                         bytes. Reading `low`, computing and storing the result is not one atomic \
                         step: use a compare-and-swap.",
                        state.region.offset_of(ptr)
                    );
                }
            }
            // Addresses, so the results can go back to the checking thread.
            blocks.into_iter().map(|ptr| ptr.addr()).collect::<Vec<_>>()
        },
        |round, state, results| {
            let start = state.region.start();
            let mut blocks: Vec<(usize, u8)> = Vec::new();
            for (thread, addrs) in results.iter().enumerate() {
                let tag = u8::try_from(thread + 1).expect("a small thread index");
                blocks.extend(addrs.iter().map(|&addr| (addr, tag)));
            }
            for &(addr, tag) in &blocks {
                let ptr = start.with_addr(addr);
                assert!(
                    state.arena.contains(ptr),
                    "round {round}: thread {tag} got a block from the fallback although the \
                     arena had room for every block of both threads"
                );
                // SAFETY: `ptr` is an arena block of SIZE bytes, filled by its
                // thread, which has finished.
                if let Some((at, found)) = unsafe { first_mismatch(ptr, SIZE, tag) } {
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
                        .checked_add(SIZE)
                        .is_some_and(|end| end <= pair[1].0),
                    "round {round}: blocks at offsets {} and {} overlap",
                    state.region.offset_of(start.with_addr(pair[0].0)),
                    state.region.offset_of(start.with_addr(pair[1].0)),
                );
            }
            assert_eq!(
                state.arena.used(),
                2 * BLOCKS * SIZE,
                "round {round}: every byte of the arena is handed out exactly once (a lost \
                 update of `low` leaves bytes behind)"
            );
        },
    );
    println!("{report}");
}
