//! Exercise 4, solved: a memory budget that refuses.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Wraps an allocator and refuses (returns null) any allocation that would
/// take the live total past `limit` bytes.
pub struct Budget<A> {
    inner: A,
    limit: usize,
    used: AtomicUsize,
}

impl<A> Budget<A> {
    /// A budget of `limit` bytes over `inner`, nothing used yet.
    pub const fn new(inner: A, limit: usize) -> Self {
        Self {
            inner,
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// Bytes currently charged against the budget.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The most bytes that may be live at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    // ANCHOR: charge
    /// Charges `size` bytes if they fit, in one atomic step: a separate
    /// load, check and store would let two threads both pass the check.
    fn charge(&self, size: usize) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(size).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }
    // ANCHOR_END: charge
}

// ANCHOR: global_alloc
// SAFETY: a block is only ever returned by `inner` (or null), so `inner`'s
// guarantees hold; the budget only adds refusals, which the contract allows.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Budget<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !self.charge(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc(layout) };
        if ptr.is_null() {
            // The inner allocator refused after all: give the charge back.
            self.used.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, hence from `inner`, with
        // `layout`, as the caller guarantees.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.used.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}
// ANCHOR_END: global_alloc
