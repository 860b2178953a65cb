//! Exercise 3: a lock-free arena that bumps DOWNWARD, with a fallback
//! allocator.
//!
//! The chapter's arena starts at the beginning of its region and moves up.
//! This one starts at the END and moves down, as bumpalo does: each block
//! goes just below the previous one. Write `align_down`, then
//! `BumpDown::alloc` and `BumpDown::dealloc`, until `cargo workbook check 3`
//! passes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

const NOT_SOLVED: &str = "not solved yet: implement `align_down`, then `BumpDown::alloc` and \
     `BumpDown::dealloc` — see the chapter \"A bump arena\", or run `cargo workbook hint 3`";

/// The largest multiple of `align` (a power of two) that is `<= addr`.
pub fn align_down(_addr: usize, _align: usize) -> usize {
    panic!("{NOT_SOLVED}")
}

/// Hands out blocks from one fixed region, from its end toward its start,
/// and sends what does not fit to `fallback`. Arena blocks are never freed
/// one by one; the whole region is reclaimed when its owner drops it.
pub struct BumpDown<F = System> {
    /// The region's first byte: no block may start below it.
    start: *mut u8,
    len: usize,
    /// Offset from `start` of the lowest byte handed out so far. It begins
    /// at `len` (nothing handed out) and only moves toward 0.
    low: AtomicUsize,
    // Read once you implement `alloc` and `dealloc`.
    #[allow(dead_code)]
    fallback: F,
}

// SAFETY: the region is only reached through blocks carved by an atomic
// update of `low`, so two threads never receive overlapping blocks; the
// raw pointer itself is never written through by the allocator.
unsafe impl<F: Sync> Sync for BumpDown<F> {}

impl<F> BumpDown<F> {
    /// An arena over the `len` bytes from `start`.
    ///
    /// # Safety
    /// `start..start + len` must be valid for reads and writes, and used by
    /// nothing else, for as long as this allocator or any block it returned
    /// is in use.
    pub const unsafe fn new(start: *mut u8, len: usize, fallback: F) -> Self {
        Self {
            start,
            len,
            low: AtomicUsize::new(len),
            fallback,
        }
    }

    /// Bytes of the region consumed so far, alignment padding included.
    pub fn used(&self) -> usize {
        self.len - self.low.load(Ordering::Relaxed)
    }

    /// Whether `ptr` points into the region.
    pub fn contains(&self, ptr: *const u8) -> bool {
        ptr.addr()
            .checked_sub(self.start.addr())
            .is_some_and(|offset| offset < self.len)
    }
}

// SAFETY: (the promise your solution must keep) arena blocks are disjoint
// (each comes from one successful atomic update of `low`, and lies below
// every block handed out before it), lie inside the region and are aligned
// as the layout asks; every other block comes from `fallback` and goes back
// to it.
unsafe impl<F: GlobalAlloc> GlobalAlloc for BumpDown<F> {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        // TODO: the block ends where the lowest block so far begins. Step
        // down by `layout.size()`, round the ADDRESS down to
        // `layout.align()`, and claim it with one atomic update of `low`;
        // if it would begin below `start`, ask `fallback`. Never panic or
        // allocate in here: an overflow must also end at `fallback`.
        std::ptr::null_mut()
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        // TODO: arena blocks stay; blocks from `fallback` go back to it.
    }
}
