//! Exact, per-thread allocation measurement.
//!
//! `cargo test` runs tests on several threads and the test harness allocates
//! on its own, so a process-wide counter sees everybody's allocations. This
//! crate counts only the calling thread:
//!
//! ```
//! use std::alloc::System;
//! use alloc_measure::{PerThread, measure};
//!
//! #[global_allocator]
//! static GLOBAL: PerThread<System> = PerThread(System);
//!
//! fn main() {
//!     let stats = measure(|| drop(std::hint::black_box(vec![0u64; 1000])));
//!     assert_eq!(stats.bytes_allocated, 8000);
//!     assert_eq!(stats.bytes_freed, 8000);
//! }
//! ```
//!
//! The counters are `const`-initialised `thread_local!` cells of plain
//! integers: they have no destructor and need no lazy initialisation, so
//! touching them from inside `alloc` never allocates and never re-enters the
//! allocator. (The same technique serves divan's `AllocProfiler` and the
//! `allocation-counter` crate.)
//!
//! Any global allocator can feed these counters by calling [`record_alloc`],
//! [`record_dealloc`] and [`record_realloc`]; [`PerThread`] is the ready-made
//! wrapper that does so around an inner allocator.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;

/// What one thread allocated while a closure ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocStats {
    /// Calls to `alloc` and `alloc_zeroed`.
    pub allocs: u64,
    /// Calls to `dealloc`.
    pub deallocs: u64,
    /// Calls to `realloc`.
    pub reallocs: u64,
    /// Bytes handed out (a growing `realloc` adds its growth).
    pub bytes_allocated: u64,
    /// Bytes given back (a shrinking `realloc` adds its shrinkage).
    pub bytes_freed: u64,
    /// The highest live total reached during the closure, counted from the
    /// live total at its start (so memory that was already live is excluded).
    pub peak_live: u64,
}

impl AllocStats {
    /// Bytes still live at the end that were allocated during the closure
    /// (negative if the closure freed memory allocated before it).
    pub fn net_bytes(&self) -> i64 {
        self.bytes_allocated as i64 - self.bytes_freed as i64
    }
}

/// Cumulative counters of one thread. `Cell<u64>` has no destructor, so the
/// thread-local below is registered with no destructor either.
struct Counters {
    allocs: Cell<u64>,
    deallocs: Cell<u64>,
    reallocs: Cell<u64>,
    bytes_allocated: Cell<u64>,
    bytes_freed: Cell<u64>,
    /// `bytes_allocated - bytes_freed` as a signed running total: a thread
    /// may free memory another thread allocated.
    live: Cell<i64>,
    /// Highest `live` seen since the innermost `measure` began.
    peak: Cell<i64>,
}

// ANCHOR: tls
thread_local! {
    static COUNTERS: Counters = const {
        Counters {
            allocs: Cell::new(0),
            deallocs: Cell::new(0),
            reallocs: Cell::new(0),
            bytes_allocated: Cell::new(0),
            bytes_freed: Cell::new(0),
            live: Cell::new(0),
            peak: Cell::new(0),
        }
    };
}
// ANCHOR_END: tls

#[inline]
fn bump(cell: &Cell<u64>, by: u64) {
    cell.set(cell.get().wrapping_add(by));
}

#[inline]
fn add_live(c: &Counters, delta: i64) {
    let live = c.live.get().wrapping_add(delta);
    c.live.set(live);
    if live > c.peak.get() {
        c.peak.set(live);
    }
}

// ANCHOR: record
/// Records an allocation of `size` bytes on the current thread.
///
/// Allocation-free and panic-free: safe to call from inside `alloc`. During
/// thread teardown, when the thread-local is gone, the event is dropped.
#[inline]
pub fn record_alloc(size: usize) {
    let _ = COUNTERS.try_with(|c| {
        bump(&c.allocs, 1);
        bump(&c.bytes_allocated, size as u64);
        add_live(c, size as i64);
    });
}
// ANCHOR_END: record

/// Records a deallocation of `size` bytes on the current thread.
#[inline]
pub fn record_dealloc(size: usize) {
    let _ = COUNTERS.try_with(|c| {
        bump(&c.deallocs, 1);
        bump(&c.bytes_freed, size as u64);
        add_live(c, -(size as i64));
    });
}

/// Records a reallocation from `old_size` to `new_size` bytes.
#[inline]
pub fn record_realloc(old_size: usize, new_size: usize) {
    let _ = COUNTERS.try_with(|c| {
        bump(&c.reallocs, 1);
        if new_size >= old_size {
            bump(&c.bytes_allocated, (new_size - old_size) as u64);
        } else {
            bump(&c.bytes_freed, (old_size - new_size) as u64);
        }
        add_live(c, new_size as i64 - old_size as i64);
    });
}

/// Runs `f` and returns what the current thread allocated while it ran.
///
/// Requires a global allocator that records (such as [`PerThread`]);
/// otherwise every count is zero. Allocations made by other threads, even
/// ones `f` spawns, are not counted. Calls may nest.
pub fn measure<R>(f: impl FnOnce() -> R) -> AllocStats {
    measure_with(f).1
}

/// Like [`measure`], and also returns the closure's result (which is still
/// alive, so its memory counts as allocated and not freed).
///
/// If `f` panics, the panic passes through unchanged and the enclosing
/// measurement (if any) keeps its own high-water mark: a drop guard restores
/// it while the stack unwinds.
pub fn measure_with<R>(f: impl FnOnce() -> R) -> (R, AllocStats) {
    let (start, outer_peak) = COUNTERS.with(|c| {
        let outer_peak = c.peak.get();
        c.peak.set(c.live.get());
        (snapshot(c), outer_peak)
    });
    // Dropped on return AND on unwind, so a panic inside `f` cannot leave the
    // enclosing measurement with this one's (lower) high-water mark.
    let restore = RestorePeak { outer_peak };
    let result = f();
    let (end, peak) = COUNTERS.with(|c| (snapshot(c), c.peak.get()));
    drop(restore);
    let stats = AllocStats {
        allocs: end.allocs - start.allocs,
        deallocs: end.deallocs - start.deallocs,
        reallocs: end.reallocs - start.reallocs,
        bytes_allocated: end.bytes_allocated - start.bytes_allocated,
        bytes_freed: end.bytes_freed - start.bytes_freed,
        peak_live: (peak - start.live).max(0) as u64,
    };
    (result, stats)
}

/// Gives the enclosing measurement its high-water mark back when a
/// measurement ends, whether `f` returned or panicked.
struct RestorePeak {
    outer_peak: i64,
}

impl Drop for RestorePeak {
    fn drop(&mut self) {
        // The enclosing window saw everything this one saw, and more.
        // `try_with`: a measurement unwinding during thread teardown finds
        // the counters gone and has nothing left to restore.
        let _ = COUNTERS.try_with(|c| c.peak.set(self.outer_peak.max(c.peak.get())));
    }
}

struct Snapshot {
    allocs: u64,
    deallocs: u64,
    reallocs: u64,
    bytes_allocated: u64,
    bytes_freed: u64,
    live: i64,
}

fn snapshot(c: &Counters) -> Snapshot {
    Snapshot {
        allocs: c.allocs.get(),
        deallocs: c.deallocs.get(),
        reallocs: c.reallocs.get(),
        bytes_allocated: c.bytes_allocated.get(),
        bytes_freed: c.bytes_freed.get(),
        live: c.live.get(),
    }
}

/// A global allocator that forwards to `A` and records every call on the
/// calling thread's counters (see the crate example).
#[derive(Debug, Default)]
pub struct PerThread<A>(pub A);

// SAFETY: every method forwards to `A` with the caller's arguments unchanged
// and returns `A`'s result, so `A`'s guarantees are ours; the bookkeeping only
// touches thread-local integers and neither allocates nor panics.
unsafe impl<A: GlobalAlloc> GlobalAlloc for PerThread<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { self.0.alloc(layout) };
        if !ptr.is_null() {
            record_alloc(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let ptr = unsafe { self.0.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record_alloc(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was returned by this allocator (hence by `A`) with
        // `layout`, as the caller guarantees.
        unsafe { self.0.dealloc(ptr, layout) };
        record_dealloc(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr`/`layout` came from this
        // allocator (hence from `A`) and `new_size` is valid for `layout`.
        let new = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record_realloc(layout.size(), new_size);
        }
        new
    }
}
