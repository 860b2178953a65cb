//! The peak tracker's promises. Each test uses its own tracker, so the
//! counts are exact even though the tests run in parallel.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use exercise_2::PeakTracker;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("a valid layout")
}

/// Allocates `size` bytes from `tracker`, failing the test on null.
fn alloc<A: GlobalAlloc>(tracker: &PeakTracker<A>, size: usize) -> *mut u8 {
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { tracker.alloc(layout(size)) };
    assert!(!ptr.is_null(), "the inner allocator returned null");
    ptr
}

fn dealloc<A: GlobalAlloc>(tracker: &PeakTracker<A>, ptr: *mut u8, size: usize) {
    // SAFETY: `ptr` came from `alloc` above with the same layout.
    unsafe { tracker.dealloc(ptr, layout(size)) }
}

#[test]
fn live_and_peak_follow_allocations() {
    let tracker = PeakTracker::new(System);
    let a = alloc(&tracker, 100);
    let b = alloc(&tracker, 50);
    assert_eq!(
        (tracker.live(), tracker.peak()),
        (150, 150),
        "(live, peak) after 100 + 50 bytes"
    );
    dealloc(&tracker, a, 100);
    assert_eq!(
        (tracker.live(), tracker.peak()),
        (50, 150),
        "freeing lowers live, never the peak"
    );
    let c = alloc(&tracker, 30);
    assert_eq!(
        (tracker.live(), tracker.peak()),
        (80, 150),
        "a smaller high does not move the peak"
    );
    dealloc(&tracker, b, 50);
    dealloc(&tracker, c, 30);
    assert_eq!(
        (tracker.live(), tracker.peak()),
        (0, 150),
        "everything freed"
    );
}

#[test]
fn reset_peak_starts_a_new_window() {
    let tracker = PeakTracker::new(System);
    let a = alloc(&tracker, 1000);
    let b = alloc(&tracker, 24);
    dealloc(&tracker, a, 1000);
    tracker.reset_peak();
    assert_eq!(
        tracker.peak(),
        24,
        "after a reset the peak is what is live now"
    );
    let c = alloc(&tracker, 8);
    assert_eq!(tracker.peak(), 32, "the new window counts from the reset");
    dealloc(&tracker, b, 24);
    dealloc(&tracker, c, 8);
}

/// Which entry points of the inner allocator were used.
#[derive(Default)]
struct Calls {
    plain: AtomicUsize,
    zeroed: AtomicUsize,
}

/// An inner allocator that forwards to `System` and records its calls in a
/// `Calls` the test owns (the tracker keeps its inner allocator private).
struct Spy<'a>(&'a Calls);

// SAFETY: forwards to `System` unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for Spy<'_> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.plain.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.0.zeroed.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[test]
fn alloc_zeroed_is_counted_and_forwarded() {
    let calls = Calls::default();
    let tracker = PeakTracker::new(Spy(&calls));
    let size = 4096;
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { tracker.alloc_zeroed(layout(size)) };
    assert!(!ptr.is_null());
    // SAFETY: `ptr` is valid for `size` initialised (zeroed) bytes.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, size) };
    assert!(
        bytes.iter().all(|&b| b == 0),
        "alloc_zeroed must return zeroed memory"
    );
    assert_eq!(
        tracker.live(),
        size,
        "alloc_zeroed must be counted like alloc"
    );
    assert_eq!(tracker.peak(), size);
    let used = (
        calls.plain.load(Ordering::Relaxed),
        calls.zeroed.load(Ordering::Relaxed),
    );
    assert_eq!(
        used,
        (0, 1),
        "(inner alloc calls, inner alloc_zeroed calls): override `alloc_zeroed` to forward to the \
         inner allocator's `alloc_zeroed` (the default calls `alloc` and zeroes by hand) — \
         `cargo workbook hint 2`"
    );
    dealloc(&tracker, ptr, size);
    assert_eq!(tracker.live(), 0);
}

#[test]
fn two_threads_lose_no_update() {
    let tracker = PeakTracker::new(System);
    let size = 64;
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..10_000 {
                    let p = alloc(&tracker, size);
                    dealloc(&tracker, p, size);
                }
            });
        }
    });
    assert_eq!(
        tracker.live(),
        0,
        "a lost update leaves live bytes behind: use atomic read-modify-write"
    );
    let peak = tracker.peak();
    assert!(
        (size..=2 * size).contains(&peak),
        "two threads each hold at most one {size}-byte block, yet the peak is {peak}"
    );
}
