//! Exercise 2: a peak tracker.
//!
//! `PeakTracker` wraps another allocator and must know, at any moment, how
//! many bytes are live and the most that were ever live at once. Make the
//! tests pass: `cargo workbook check 2`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::AtomicUsize;

const NOT_SOLVED: &str = "not solved yet: implement `PeakTracker`'s counting (`alloc`, `dealloc`, \
     `alloc_zeroed`) and its `live`, `peak` and `reset_peak` — see the chapter \"Peak tracking\", \
     or run `cargo workbook hint 2`";

/// Wraps an allocator and records the bytes live now and the most that were
/// ever live at once.
// The fields are read once you implement the methods below.
#[allow(dead_code)]
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

    /// Bytes allocated and not yet freed.
    pub fn live(&self) -> usize {
        panic!("{NOT_SOLVED}")
    }

    /// The highest value `live` has reached since creation or the last
    /// [`reset_peak`](Self::reset_peak).
    pub fn peak(&self) -> usize {
        panic!("{NOT_SOLVED}")
    }

    /// Starts a new measurement window: the peak drops to what is live now.
    pub fn reset_peak(&self) {
        panic!("{NOT_SOLVED}")
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments and
// returns its result, so `inner`'s guarantees hold.
unsafe impl<A: GlobalAlloc> GlobalAlloc for PeakTracker<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // TODO: count the bytes and update the peak (only if the allocation
        // succeeded). Never panic or allocate in here.
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { self.inner.alloc(layout) }
    }

    // TODO: override `alloc_zeroed` too, forwarding to `inner.alloc_zeroed`
    // and counting like `alloc`.

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // TODO: give the bytes back.
        // SAFETY: `ptr` came from this allocator, hence from `inner`, with
        // `layout`, as the caller guarantees.
        unsafe { self.inner.dealloc(ptr, layout) }
    }
}
