//! `PeakAlloc` driven directly through its `GlobalAlloc` methods on local
//! instances: nothing else touches their counters, so every assertion is
//! exact under the parallel test runner.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use peak::{ByteMeter, PeakAlloc};

/// An inner allocator that records which of its methods was called.
#[derive(Default)]
struct Recording {
    allocs: AtomicUsize,
    zeroed: AtomicUsize,
    reallocs: AtomicUsize,
    deallocs: AtomicUsize,
}

// SAFETY: every method forwards to `System` unchanged; the counters are
// atomics that neither allocate nor panic.
unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.allocs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: our caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.zeroed.fetch_add(1, Ordering::Relaxed);
        // SAFETY: our caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.deallocs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with `layout`, as our caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.reallocs.fetch_add(1, Ordering::Relaxed);
        // SAFETY: our caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// An inner allocator that is always out of memory.
struct Exhausted;

// SAFETY: returning null is always a valid answer; `dealloc` is never
// reached because no block is ever handed out.
unsafe impl GlobalAlloc for Exhausted {
    unsafe fn alloc(&self, _layout: Layout) -> *mut u8 {
        ptr::null_mut()
    }
    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

fn bytes(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("valid test layout")
}

#[test]
fn alloc_zeroed_is_forwarded_to_the_inner_alloc_zeroed() {
    let tracker = PeakAlloc::wrapping(Recording::default());
    let layout = bytes(4096);
    // SAFETY: non-zero size; freed below with the same layout and allocator.
    unsafe {
        let block = tracker.alloc_zeroed(layout);
        assert!(!block.is_null());
        assert!(
            std::slice::from_raw_parts(block, 4096)
                .iter()
                .all(|&b| b == 0)
        );
        assert_eq!(tracker.live_bytes(), 4096);
        tracker.dealloc(block, layout);
    }
    let inner = tracker.inner();
    assert_eq!(inner.zeroed.load(Ordering::Relaxed), 1);
    assert_eq!(
        inner.allocs.load(Ordering::Relaxed),
        0,
        "no alloc + memset fallback"
    );
    assert_eq!((tracker.alloc_calls(), tracker.zeroed_calls()), (1, 1));
    assert_eq!(tracker.live_bytes(), 0);
}

#[test]
fn realloc_is_forwarded_and_adjusts_live_by_the_difference() {
    let tracker = PeakAlloc::wrapping(Recording::default());
    let layout = bytes(100);
    // SAFETY: each block is used with the layout it currently has and freed
    // once, by the allocator that produced it.
    unsafe {
        let block = tracker.alloc(layout);
        assert!(!block.is_null());
        block.write(42);
        let grown = tracker.realloc(block, layout, 1000);
        assert!(!grown.is_null());
        assert_eq!(grown.read(), 42, "contents survive the move");
        assert_eq!(tracker.live_bytes(), 1000);
        assert_eq!(tracker.peak_bytes(), 1000);
        let shrunk = tracker.realloc(grown, bytes(1000), 10);
        assert!(!shrunk.is_null());
        assert_eq!(tracker.live_bytes(), 10);
        assert_eq!(tracker.peak_bytes(), 1000, "shrinking keeps the peak");
        tracker.dealloc(shrunk, bytes(10));
    }
    let inner = tracker.inner();
    assert_eq!(inner.reallocs.load(Ordering::Relaxed), 2);
    assert_eq!(
        inner.allocs.load(Ordering::Relaxed),
        1,
        "no alloc + copy fallback"
    );
    assert_eq!(inner.deallocs.load(Ordering::Relaxed), 1);
    assert_eq!(tracker.realloc_calls(), 2);
    assert_eq!(tracker.dealloc_calls(), 1);
    assert_eq!(tracker.live_bytes(), 0);
}

#[test]
fn peak_is_the_high_water_mark_and_reset_restarts_it() {
    let tracker = PeakAlloc::new();
    let (big, small) = (bytes(16_000), bytes(16));
    // SAFETY: every block is freed once with its own layout.
    unsafe {
        let a = tracker.alloc(big);
        let b = tracker.alloc(big);
        assert!(!a.is_null() && !b.is_null());
        tracker.dealloc(a, big);
        tracker.dealloc(b, big);
        let c = tracker.alloc(small);
        assert!(!c.is_null());
        assert_eq!(tracker.live_bytes(), 16);
        assert_eq!(tracker.peak_bytes(), 32_000);
        tracker.reset_peak();
        assert_eq!(tracker.peak_bytes(), 16);
        tracker.dealloc(c, small);
    }
    assert_eq!((tracker.alloc_calls(), tracker.dealloc_calls()), (3, 3));
}

#[test]
fn a_failed_allocation_counts_nothing() {
    let tracker = PeakAlloc::wrapping(Exhausted);
    // SAFETY: non-zero size; nothing is returned, so nothing needs freeing.
    unsafe {
        assert!(tracker.alloc(bytes(64)).is_null());
        assert!(tracker.alloc_zeroed(bytes(64)).is_null());
    }
    assert_eq!((tracker.live_bytes(), tracker.peak_bytes()), (0, 0));
    assert_eq!((tracker.alloc_calls(), tracker.zeroed_calls()), (0, 0));
}

#[test]
fn instances_keep_separate_counts() {
    let (one, two) = (PeakAlloc::new(), PeakAlloc::new());
    // SAFETY: the block is freed by the allocator that produced it.
    unsafe {
        let block = one.alloc(bytes(256));
        assert!(!block.is_null());
        assert_eq!((one.live_bytes(), two.live_bytes()), (256, 0));
        one.dealloc(block, bytes(256));
    }
    assert_eq!(two.alloc_calls(), 0);
}

#[test]
fn reserve_within_never_passes_the_limit() {
    let meter = ByteMeter::new();
    assert_eq!(meter.reserve_within(60, 100), Some(60));
    assert_eq!(meter.reserve_within(41, 100), None, "101 would exceed 100");
    assert_eq!(
        meter.reserve_within(40, 100),
        Some(100),
        "exactly the limit is allowed"
    );
    assert_eq!(
        meter.reserve_within(usize::MAX, usize::MAX),
        None,
        "overflow is refused"
    );
    assert_eq!(meter.peak(), 0, "reserving leaves the peak to the caller");
    meter.note_peak(meter.live());
    assert_eq!(meter.peak(), 100);
    meter.sub(100);
    assert_eq!(meter.live(), 0);
}
