//! Chapter: a counting shim around System with global atomics.
//!
//! [`CountingAlloc`] does the bookkeeping and hands the real work to
//! [`System`]. Its counters are process-wide `static` atomics: a program has
//! exactly one global allocator, so one set of counters is all it needs.
//!
//! ```no_run
//! use counting::{CountingAlloc, live_bytes};
//!
//! #[global_allocator]
//! static GLOBAL: CountingAlloc = CountingAlloc;
//!
//! fn main() {
//!     let before = live_bytes();
//!     let v = vec![0u64; 1000];
//!     assert_eq!(live_bytes() - before, 8000);
//!     drop(v);
//! }
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

// ANCHOR: counters
/// Bytes handed out and not yet given back.
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Successful calls to `alloc` (including the ones `alloc_zeroed` and
/// `realloc` make through their default implementations).
static ALLOC_CALLS: AtomicUsize = AtomicUsize::new(0);
// ANCHOR_END: counters

// ANCHOR: shim
/// A global allocator that counts, then forwards to [`System`].
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAlloc;

// SAFETY: both methods forward to `System` with the caller's arguments
// unchanged and return what it returns, so `System`'s guarantees (a block of
// `layout.size()` bytes aligned to `layout.align()`, or null) are ours. The
// bookkeeping is two relaxed atomic operations: no allocation, no panic.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract (non-zero size).
        let ptr = unsafe { System.alloc(layout) };
        // A null pointer means nothing was handed out: count nothing.
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
            ALLOC_CALLS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so
        // from `System`) with this same `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}
// ANCHOR_END: shim

// ANCHOR: readers
/// Bytes currently allocated through [`CountingAlloc`].
///
/// Relaxed ordering is enough: each counter is a standalone number, and no
/// other memory is published through it.
pub fn live_bytes() -> usize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// How many allocations [`CountingAlloc`] has served so far.
pub fn alloc_calls() -> usize {
    ALLOC_CALLS.load(Ordering::Relaxed)
}
// ANCHOR_END: readers
