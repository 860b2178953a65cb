//! Exercise 3, solved: a lock-free bump arena with a fallback allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

// ANCHOR: align_up
/// The smallest multiple of `align` (a power of two) that is `>= addr`, or
/// `None` if it does not fit in a `usize`.
pub fn align_up(addr: usize, align: usize) -> Option<usize> {
    let mask = align.checked_sub(1)?;
    Some(addr.checked_add(mask)? & !mask)
}
// ANCHOR_END: align_up

/// Hands out blocks from one fixed region by moving an offset forward, and
/// sends what does not fit to `fallback`. Arena blocks are never freed one by
/// one; the whole region is reclaimed when its owner drops it.
pub struct BumpAlloc<F = System> {
    base: *mut u8,
    len: usize,
    /// Bytes of the region handed out so far, counted from `base`.
    next: AtomicUsize,
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

// ANCHOR: global_alloc
// SAFETY: arena blocks are disjoint (each comes from one successful atomic
// update of `next`), lie inside the region and are aligned as the layout
// asks; every other block comes from `fallback` and goes back to it.
unsafe impl<F: GlobalAlloc> GlobalAlloc for BumpAlloc<F> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.base.addr();
        let mut start = 0;
        let claimed = self
            .next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |next| {
                // Align the ADDRESS, not the offset: the region's base may
                // be less aligned than the layout asks.
                let aligned = align_up(base.checked_add(next)?, layout.align())?;
                let end = aligned.checked_add(layout.size())? - base;
                start = aligned - base;
                (end <= self.len).then_some(end)
            });
        match claimed {
            // SAFETY: `start + size <= len`, so the block is inside the region.
            Ok(_) => unsafe { self.base.add(start) },
            // SAFETY: the caller upholds `alloc`'s contract for `layout`.
            Err(_) => unsafe { self.fallback.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Arena blocks stay until the region goes; only fallback blocks are
        // returned.
        if !self.contains(ptr) {
            // SAFETY: a block outside the region came from `fallback` with
            // `layout`.
            unsafe { self.fallback.dealloc(ptr, layout) }
        }
    }
}
// ANCHOR_END: global_alloc
