//! Pre-faulting for the arena programs besides `bench-bump` (which has its
//! own copy, shown in the book): before each run, write the pages the run
//! will carve from, so the timed run does not pay the first-touch page
//! faults that an allocator reusing freed memory does not pay either.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::faults::touch_pages;

/// Headroom past the largest run seen.
const SLACK_BYTES: usize = 256 << 10;

/// What one arena program remembers between runs.
#[derive(Debug)]
pub struct Prefault {
    /// The arena offset below which every page has been written.
    touched_to: AtomicUsize,
    /// The arena offset when the previous run started (`usize::MAX`: none).
    previous_start: AtomicUsize,
    /// The most arena bytes one run has taken so far.
    largest_run: AtomicUsize,
}

impl Prefault {
    pub const fn new() -> Self {
        Self {
            touched_to: AtomicUsize::new(0),
            previous_start: AtomicUsize::new(usize::MAX),
            largest_run: AtomicUsize::new(0),
        }
    }

    /// Writes the arena from `used` on, as far as the largest run so far
    /// plus [`SLACK_BYTES`] (and not past `capacity`).
    ///
    /// # Safety
    ///
    /// `arena` is valid for writes of `capacity` bytes; no block handed out
    /// lies at or past `used`; no thread allocates from the arena during
    /// the call, and the next allocations that hand these bytes out happen
    /// after it (the workloads' threads have ended between runs, and the
    /// next run's threads are spawned after this call).
    pub unsafe fn before_run(&self, arena: *mut u8, used: usize, capacity: usize) {
        let previous = self.previous_start.swap(used, Ordering::Relaxed);
        let run = used.saturating_sub(previous);
        let largest = self.largest_run.fetch_max(run, Ordering::Relaxed).max(run);
        let start = self.touched_to.load(Ordering::Relaxed).max(used);
        let end = used
            .saturating_add(largest)
            .saturating_add(SLACK_BYTES)
            .min(capacity);
        if start >= end {
            return;
        }
        // SAFETY: `start..end` lies inside the arena and at or past `used`,
        // so it holds no block; the caller rules out concurrent allocation.
        unsafe { touch_pages(arena.wrapping_add(start), end - start) };
        self.touched_to.store(end, Ordering::Relaxed);
    }
}

impl Default for Prefault {
    fn default() -> Self {
        Self::new()
    }
}
