//! Chapter: live and peak bytes, with alloc_zeroed and realloc forwarded exactly.
//!
//! [`PeakAlloc`] wraps another allocator (by default [`System`]) and keeps
//! its counters in fields, not statics, so a program (or a test) can own
//! several independent trackers. The live/peak arithmetic lives in
//! [`ByteMeter`], which the budget chapter reuses.
//!
//! ```
//! use std::alloc::{GlobalAlloc, Layout};
//! use peak::PeakAlloc;
//!
//! let tracker = PeakAlloc::new();
//! let layout = Layout::from_size_align(4096, 8).unwrap();
//! // SAFETY: the layout has a non-zero size; the block is freed below with
//! // the same layout by the allocator that produced it.
//! unsafe {
//!     let block = tracker.alloc(layout);
//!     assert!(!block.is_null());
//!     tracker.dealloc(block, layout);
//! }
//! assert_eq!(tracker.live_bytes(), 0);
//! assert_eq!(tracker.peak_bytes(), 4096);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

// ANCHOR: meter
/// Live bytes and their high-water mark, updated without locks.
///
/// Every method is allocation-free and panic-free, so it may run inside
/// `alloc`. The counters publish no other memory, so `Relaxed` suffices
/// everywhere except one pair: [`reset_peak`](Self::reset_peak) and the
/// additions it races with (see there).
#[derive(Debug, Default)]
pub struct ByteMeter {
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl ByteMeter {
    /// A meter at zero.
    pub const fn new() -> Self {
        ByteMeter {
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Bytes currently counted as live.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The most bytes that were live at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Counts `size` more live bytes and returns the new live total.
    pub fn add(&self, size: usize) -> usize {
        // `fetch_add` returns the value BEFORE the addition. `Acquire` pairs
        // with `reset_peak`'s `Release`: an addition that comes after a
        // reset also sees the reset's lowered peak, so its `fetch_max` below
        // cannot be overwritten by it.
        let previous = self.live.fetch_add(size, Ordering::Acquire);
        let now = previous.wrapping_add(size);
        self.note_peak(now);
        now
    }

    /// Counts `size` fewer live bytes. `size` must have been added before.
    pub fn sub(&self, size: usize) {
        self.live.fetch_sub(size, Ordering::Relaxed);
    }

    /// Raises the peak to `live_total` if that is higher. `fetch_max` makes
    /// this a single atomic step, so concurrent updates cannot lose a peak.
    pub fn note_peak(&self, live_total: usize) {
        self.peak.fetch_max(live_total, Ordering::Relaxed);
    }

    /// Restarts the high-water mark from the current live total.
    ///
    /// Call it where a new phase starts, to ask what that phase needs. Other
    /// threads may allocate meanwhile: once it returns, the peak is at least
    /// every live total reached since, so no concurrent allocation is lost.
    /// (A reader running at the same moment may see the peak briefly below
    /// the live total.)
    pub fn reset_peak(&self) {
        // Lower the peak first, then read the live total again and raise the
        // peak to it. "Load live, store it as the peak" would lose an
        // allocation that lands between the load and the store: its
        // `fetch_max` runs against the old, higher peak and changes nothing,
        // then the store writes the smaller total over it.
        self.peak.store(self.live(), Ordering::Relaxed);
        // A read-modify-write reads the latest total: every addition is
        // either counted in it or comes after it, and then (`Release` here,
        // `Acquire` in `add`) the store above happens before its `fetch_max`.
        let now = self.live.fetch_add(0, Ordering::Release);
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}
// ANCHOR_END: meter

impl ByteMeter {
    // ANCHOR: reserve
    /// Adds `size` live bytes only if the total stays at or under `limit`,
    /// and returns the new total; `None` (and no change) otherwise.
    ///
    /// The check and the addition are one atomic step (`fetch_update`
    /// retries if another thread changed the total in between), so two
    /// threads can never both squeeze under the limit. The peak is not
    /// touched: call [`note_peak`](Self::note_peak) once the reservation is
    /// kept, or [`sub`](Self::sub) to give it back.
    pub fn reserve_within(&self, size: usize, limit: usize) -> Option<usize> {
        // `Acquire` on success, like `add`: the peak noted afterwards must
        // not be overwritten by a concurrent `reset_peak`.
        self.live
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |live| {
                live.checked_add(size).filter(|&total| total <= limit)
            })
            .ok()
            .map(|previous| previous.wrapping_add(size))
    }
    // ANCHOR_END: reserve
}

// ANCHOR: struct
/// A forwarding allocator that tracks live bytes, peak bytes and calls.
///
/// Install it with `#[global_allocator] static GLOBAL: PeakAlloc = PeakAlloc::new();`,
/// or wrap another allocator with [`PeakAlloc::wrapping`].
#[derive(Debug, Default)]
pub struct PeakAlloc<A = System> {
    inner: A,
    bytes: ByteMeter,
    alloc_calls: AtomicUsize,
    zeroed_calls: AtomicUsize,
    dealloc_calls: AtomicUsize,
    realloc_calls: AtomicUsize,
}
// ANCHOR_END: struct

impl PeakAlloc<System> {
    /// A tracker around [`System`], usable in a `static`.
    pub const fn new() -> Self {
        Self::wrapping(System)
    }
}

impl<A> PeakAlloc<A> {
    /// A tracker around `inner`, usable in a `static`.
    pub const fn wrapping(inner: A) -> Self {
        PeakAlloc {
            inner,
            bytes: ByteMeter::new(),
            alloc_calls: AtomicUsize::new(0),
            zeroed_calls: AtomicUsize::new(0),
            dealloc_calls: AtomicUsize::new(0),
            realloc_calls: AtomicUsize::new(0),
        }
    }

    /// The wrapped allocator.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Bytes currently allocated through this tracker.
    pub fn live_bytes(&self) -> usize {
        self.bytes.live()
    }

    /// The most bytes that were live at once (since creation or the last
    /// [`reset_peak`](Self::reset_peak)).
    pub fn peak_bytes(&self) -> usize {
        self.bytes.peak()
    }

    /// Successful `alloc` and `alloc_zeroed` calls.
    pub fn alloc_calls(&self) -> usize {
        self.alloc_calls.load(Ordering::Relaxed)
    }

    /// Successful `alloc_zeroed` calls (a subset of [`alloc_calls`](Self::alloc_calls)).
    pub fn zeroed_calls(&self) -> usize {
        self.zeroed_calls.load(Ordering::Relaxed)
    }

    /// `dealloc` calls.
    pub fn dealloc_calls(&self) -> usize {
        self.dealloc_calls.load(Ordering::Relaxed)
    }

    /// Successful `realloc` calls.
    pub fn realloc_calls(&self) -> usize {
        self.realloc_calls.load(Ordering::Relaxed)
    }

    /// Sets the peak to the current live total, to measure a new phase (see
    /// [`ByteMeter::reset_peak`]: other threads may allocate meanwhile).
    pub fn reset_peak(&self) {
        self.bytes.reset_peak();
    }

    /// Counts a block the inner allocator returned (nothing if it is null).
    fn track_new(&self, ptr: *mut u8, size: usize, zeroed: bool) -> *mut u8 {
        if !ptr.is_null() {
            self.bytes.add(size);
            self.alloc_calls.fetch_add(1, Ordering::Relaxed);
            if zeroed {
                self.zeroed_calls.fetch_add(1, Ordering::Relaxed);
            }
        }
        ptr
    }
}

// ANCHOR: alloc
// SAFETY: every method forwards to `A` with the caller's arguments unchanged
// and returns `A`'s result, so `A`'s guarantees are ours. The bookkeeping is
// relaxed atomic arithmetic: it neither allocates nor panics.
unsafe impl<A: GlobalAlloc> GlobalAlloc for PeakAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc(layout) };
        self.track_new(ptr, layout.size(), false)
    }

    // Forwarded rather than left to the default (alloc + memset), so the
    // inner allocator can hand out memory it knows is already zero.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        self.track_new(ptr, layout.size(), true)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so
        // from `A`) with this `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.bytes.sub(layout.size());
        self.dealloc_calls.fetch_add(1, Ordering::Relaxed);
    }

    // Forwarded so the inner allocator may grow in place; the default would
    // be alloc + copy + dealloc.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr`/`layout` came from this
        // allocator (so from `A`) and that `new_size` is valid for `layout`.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        // On null the old block is untouched and still live: count nothing.
        if !new_ptr.is_null() {
            let old_size = layout.size();
            if new_size >= old_size {
                self.bytes.add(new_size - old_size);
            } else {
                self.bytes.sub(old_size - new_size);
            }
            self.realloc_calls.fetch_add(1, Ordering::Relaxed);
        }
        new_ptr
    }
}
// ANCHOR_END: alloc
