//! Exercise 3, a wrong answer: the downward arena steps down by the size
//! without checking that the subtraction stays above zero.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

// ANCHOR: align_down
/// The largest multiple of `align` (a power of two) that is `<= addr`.
pub fn align_down(addr: usize, align: usize) -> usize {
    // Clearing the low bits can only make a number smaller: no overflow.
    addr & !align.wrapping_sub(1)
}
// ANCHOR_END: align_down

/// Hands out blocks from one fixed region, from its end toward its start,
/// and sends what does not fit to `fallback`. Arena blocks are never freed
/// one by one; the whole region is reclaimed when its owner drops it.
pub struct BumpDown<F = System> {
    /// The region's first byte: no block may start below it.
    start: *mut u8,
    len: usize,
    /// Offset from `start` of the lowest byte handed out so far. It begins
    /// at `len` (nothing handed out) and only moves toward 0.
    low: AtomicUsize,
    fallback: F,
}

// SAFETY: the region is only reached through blocks carved by an atomic
// update of `low`, so two threads never receive overlapping blocks; the
// raw pointer itself is never written through by the allocator.
unsafe impl<F: Sync> Sync for BumpDown<F> {}

impl<F> BumpDown<F> {
    /// An arena over the `len` bytes from `start`.
    ///
    /// # Safety
    /// `start..start + len` must be valid for reads and writes, and used by
    /// nothing else, for as long as this allocator or any block it returned
    /// is in use.
    pub const unsafe fn new(start: *mut u8, len: usize, fallback: F) -> Self {
        Self {
            start,
            len,
            low: AtomicUsize::new(len),
            fallback,
        }
    }

    /// Bytes of the region consumed so far, alignment padding included.
    pub fn used(&self) -> usize {
        self.len - self.low.load(Ordering::Relaxed)
    }

    /// Whether `ptr` points into the region.
    pub fn contains(&self, ptr: *const u8) -> bool {
        ptr.addr()
            .checked_sub(self.start.addr())
            .is_some_and(|offset| offset < self.len)
    }
}

// ANCHOR: global_alloc
// SAFETY: arena blocks are disjoint (each comes from one successful
// compare-and-swap of `low`, and lies below every block handed out before
// it), lie inside the region and are aligned as the layout asks; every
// other block comes from `fallback` and goes back to it.
unsafe impl<F: GlobalAlloc> GlobalAlloc for BumpDown<F> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let start = self.start.addr();
        let mut low = self.low.load(Ordering::Relaxed);
        loop {
            // ANCHOR: mistake
            // WRONG: a size larger than the address overflows: a panic
            // inside the allocator in a debug build, a wrapped address far
            // outside the region in a release build.
            let addr = start + low - layout.size();
            // ANCHOR_END: mistake
            // Round the ADDRESS down: the region's start and end may be less
            // aligned than the layout asks, so a rounded offset could be a
            // misaligned address. Rounding down moves the block further from
            // the one above it, never into it.
            let addr = align_down(addr, layout.align());
            if addr < start {
                break;
            }
            let offset = addr - start;
            // Relaxed is enough: the arena never hands a byte out twice, so
            // no thread can receive bytes another thread wrote.
            match self
                .low
                .compare_exchange_weak(low, offset, Ordering::Relaxed, Ordering::Relaxed)
            {
                // SAFETY: `start <= addr` and `addr + size <= start + low <=
                // start + len`, so the block is inside the region.
                Ok(_) => return unsafe { self.start.add(offset) },
                // Another thread moved `low`: start again from its value.
                Err(current) => low = current,
            }
        }
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { self.fallback.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Arena blocks stay until the region goes; only fallback blocks are
        // returned.
        if !self.contains(ptr) {
            // SAFETY: a block outside the region came from `fallback` with
            // `layout`.
            unsafe { self.fallback.dealloc(ptr, layout) }
        }
    }
}
// ANCHOR_END: global_alloc
