//! The benchmark's counting shim with process-wide atomic counters.
//!
//! It does the bookkeeping of the chapter's `counting::CountingAlloc` (live
//! bytes and calls in shared atomics) but, like the per-thread shim
//! `alloc_measure::PerThread`, forwards `alloc_zeroed` and `realloc` to
//! `System` instead of using the trait's defaults. The default `realloc`
//! allocates a new block, copies and frees the old one, where `System` can
//! often grow a block in place; with the defaults, the global shim would be
//! measured doing more work than the per-thread one, not just counting
//! differently.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `System` plus three process-wide atomic counters.
#[derive(Debug, Default)]
pub struct CountingGlobal {
    live_bytes: AtomicUsize,
    /// Successful `alloc` and `alloc_zeroed` calls.
    allocs: AtomicUsize,
    /// Successful `realloc` calls.
    reallocs: AtomicUsize,
}

impl CountingGlobal {
    /// A shim with every counter at zero.
    pub const fn new() -> Self {
        Self {
            live_bytes: AtomicUsize::new(0),
            allocs: AtomicUsize::new(0),
            reallocs: AtomicUsize::new(0),
        }
    }

    /// Bytes handed out and not yet given back.
    pub fn live_bytes(&self) -> usize {
        self.live_bytes.load(Ordering::Relaxed)
    }

    /// Successful `alloc` and `alloc_zeroed` calls so far.
    pub fn allocs(&self) -> usize {
        self.allocs.load(Ordering::Relaxed)
    }

    /// Successful `realloc` calls so far.
    pub fn reallocs(&self) -> usize {
        self.reallocs.load(Ordering::Relaxed)
    }

    fn count_alloc(&self, ptr: *mut u8, size: usize) -> *mut u8 {
        // A null pointer means nothing was handed out: count nothing.
        if !ptr.is_null() {
            self.live_bytes.fetch_add(size, Ordering::Relaxed);
            self.allocs.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged and returns what it returns, so `System`'s guarantees are ours.
// The bookkeeping is relaxed atomic arithmetic: no allocation, no panic.
unsafe impl GlobalAlloc for CountingGlobal {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { System.alloc(layout) };
        self.count_alloc(ptr, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        self.count_alloc(ptr, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so
        // from `System`) with this `layout`.
        unsafe { System.dealloc(ptr, layout) };
        self.live_bytes.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr`/`layout` came from this
        // allocator (so from `System`) and `new_size` is valid for `layout`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        // On null the old block is untouched and still counted.
        if !new.is_null() {
            let old_size = layout.size();
            if new_size >= old_size {
                self.live_bytes
                    .fetch_add(new_size - old_size, Ordering::Relaxed);
            } else {
                self.live_bytes
                    .fetch_sub(old_size - new_size, Ordering::Relaxed);
            }
            self.reallocs.fetch_add(1, Ordering::Relaxed);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).expect("a valid layout")
    }

    #[test]
    fn every_method_is_forwarded_and_counted() {
        let shim = CountingGlobal::new();
        // SAFETY: non-zero sizes; each block is used with its current size
        // and freed once, by the shim that allocated it.
        unsafe {
            let a = shim.alloc(layout(100));
            assert!(!a.is_null());
            a.write_bytes(7, 100);
            let z = shim.alloc_zeroed(layout(64));
            assert!(!z.is_null());
            assert!(
                std::slice::from_raw_parts(z, 64).iter().all(|&b| b == 0),
                "alloc_zeroed hands out zeroed bytes"
            );
            assert_eq!((shim.allocs(), shim.live_bytes()), (2, 164));

            let grown = shim.realloc(a, layout(100), 300);
            assert!(!grown.is_null());
            assert!(
                std::slice::from_raw_parts(grown, 100)
                    .iter()
                    .all(|&b| b == 7),
                "realloc keeps the contents"
            );
            assert_eq!(
                (shim.allocs(), shim.reallocs(), shim.live_bytes()),
                (2, 1, 364),
                "a forwarded realloc is one realloc, not an alloc and a dealloc"
            );
            let shrunk = shim.realloc(grown, layout(300), 50);
            assert!(!shrunk.is_null());
            assert_eq!((shim.reallocs(), shim.live_bytes()), (2, 114));

            shim.dealloc(shrunk, layout(50));
            shim.dealloc(z, layout(64));
        }
        assert_eq!((shim.allocs(), shim.live_bytes()), (2, 0));
    }
}
