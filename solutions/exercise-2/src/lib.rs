//! Exercise 2, solved: a peak tracker.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Wraps an allocator and records the bytes live now and the most that were
/// ever live at once.
pub struct PeakTracker<A> {
    inner: A,
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl<A> PeakTracker<A> {
    /// A tracker around `inner` with nothing counted yet.
    pub const fn new(inner: A) -> Self {
        Self {
            inner,
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    // ANCHOR: accessors
    /// Bytes allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The highest value `live` has reached since creation or the last
    /// [`reset_peak`](Self::reset_peak).
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Starts a new measurement window: the peak drops to what is live now.
    pub fn reset_peak(&self) {
        self.peak.store(self.live(), Ordering::Relaxed);
    }
    // ANCHOR_END: accessors

    // ANCHOR: record
    fn record_alloc(&self, size: usize) {
        // `fetch_add` returns the value BEFORE the addition.
        let before = self.live.fetch_add(size, Ordering::Relaxed);
        self.peak
            .fetch_max(before.saturating_add(size), Ordering::Relaxed);
    }
    // ANCHOR_END: record
}

// ANCHOR: global_alloc
// SAFETY: every method forwards to `inner` with the caller's arguments and
// returns its result, so `inner`'s guarantees hold; the bookkeeping only
// touches atomics, never allocates and never panics.
unsafe impl<A: GlobalAlloc> GlobalAlloc for PeakTracker<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            self.record_alloc(layout.size());
        }
        ptr
    }

    // Without this override the default would call `alloc` and then zero
    // the block by hand; forwarding keeps the inner allocator's fast path
    // (calloc can hand out pages that are already zero).
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            self.record_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, hence from `inner`, with
        // `layout`, as the caller guarantees.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}
// ANCHOR_END: global_alloc
