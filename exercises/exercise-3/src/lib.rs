//! Exercise 3: a lock-free bump arena with a fallback allocator.
//!
//! Write `align_up`, then `BumpAlloc::alloc` and `BumpAlloc::dealloc`, until
//! `cargo workbook check 3` passes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

const NOT_SOLVED: &str = "not solved yet: implement `align_up`, then `BumpAlloc::alloc` and \
     `BumpAlloc::dealloc` — see the chapter \"A bump arena\", or run `cargo workbook hint 3`";

/// The smallest multiple of `align` (a power of two) that is `>= addr`, or
/// `None` if it does not fit in a `usize`.
pub fn align_up(_addr: usize, _align: usize) -> Option<usize> {
    panic!("{NOT_SOLVED}")
}

/// Hands out blocks from one fixed region by moving an offset forward, and
/// sends what does not fit to `fallback`. Arena blocks are never freed one by
/// one; the whole region is reclaimed when its owner drops it.
pub struct BumpAlloc<F = System> {
    base: *mut u8,
    len: usize,
    /// Bytes of the region handed out so far, counted from `base`.
    next: AtomicUsize,
    // Read once you implement `alloc` and `dealloc`.
    #[allow(dead_code)]
    fallback: F,
}

// SAFETY: the region is only reached through blocks carved by an atomic
// update of `next`, so two threads never receive overlapping blocks; the
// raw pointer itself is never written through by the allocator.
unsafe impl<F: Sync> Sync for BumpAlloc<F> {}

impl<F> BumpAlloc<F> {
    /// An arena over `len` bytes at `base`.
    ///
    /// # Safety
    /// `base..base + len` must be valid for reads and writes, and used by
    /// nothing else, for as long as this allocator or any block it returned
    /// is in use.
    pub const unsafe fn new(base: *mut u8, len: usize, fallback: F) -> Self {
        Self {
            base,
            len,
            next: AtomicUsize::new(0),
            fallback,
        }
    }

    /// Bytes of the region consumed so far, alignment padding included.
    pub fn used(&self) -> usize {
        self.next.load(Ordering::Relaxed)
    }

    /// Whether `ptr` points into the region.
    pub fn contains(&self, ptr: *const u8) -> bool {
        ptr.addr()
            .checked_sub(self.base.addr())
            .is_some_and(|offset| offset < self.len)
    }
}

// SAFETY: (the promise your solution must keep) arena blocks are disjoint
// (each comes from one successful atomic update of `next`), lie inside the
// region and are aligned as the layout asks; every other block comes from
// `fallback` and goes back to it.
unsafe impl<F: GlobalAlloc> GlobalAlloc for BumpAlloc<F> {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        // TODO: claim `layout.size()` bytes at an address aligned to
        // `layout.align()` with one atomic update of `next`; if they do not
        // fit, ask `fallback`. Never panic or allocate in here.
        std::ptr::null_mut()
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        // TODO: arena blocks stay; blocks from `fallback` go back to it.
    }
}
