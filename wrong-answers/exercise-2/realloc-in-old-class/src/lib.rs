//! Exercise 2, a wrong answer: `realloc` counts the change of size in the old class.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The four size classes a block can fall into, by its size in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SizeClass {
    /// 64 bytes or fewer.
    Small,
    /// 65 to 512 bytes.
    Medium,
    /// 513 to 4096 bytes.
    Large,
    /// More than 4096 bytes.
    Huge,
}

impl SizeClass {
    /// Every class, smallest first: `class as usize` is its index here.
    pub const ALL: [SizeClass; 4] = [
        SizeClass::Small,
        SizeClass::Medium,
        SizeClass::Large,
        SizeClass::Huge,
    ];

    /// The largest block size the class holds (bounds are inclusive).
    pub const fn max_size(self) -> usize {
        match self {
            SizeClass::Small => 64,
            SizeClass::Medium => 512,
            SizeClass::Large => 4096,
            SizeClass::Huge => usize::MAX,
        }
    }

    // ANCHOR: of
    /// The class of a block of `size` bytes: the smallest class whose
    /// [`max_size`](Self::max_size) is at least `size`.
    pub fn of(size: usize) -> SizeClass {
        // `Huge` holds every size, so `find` always finds; the fallback only
        // spares the allocator a panic path.
        Self::ALL
            .into_iter()
            .find(|class| size <= class.max_size())
            .unwrap_or(SizeClass::Huge)
    }
    // ANCHOR_END: of
}

/// Wraps an allocator and records, for each [`SizeClass`], the bytes live in
/// blocks of that class and the most that were ever live at once.
pub struct ClassPeaks<A> {
    inner: A,
    /// Live bytes per class, indexed by `SizeClass as usize`.
    live: [AtomicUsize; 4],
    /// The high-water mark of `live`, per class.
    peak: [AtomicUsize; 4],
}

impl<A> ClassPeaks<A> {
    /// A tracker around `inner` with nothing counted yet.
    pub const fn new(inner: A) -> Self {
        Self {
            inner,
            live: [const { AtomicUsize::new(0) }; 4],
            peak: [const { AtomicUsize::new(0) }; 4],
        }
    }

    // ANCHOR: readers
    /// Bytes live in blocks of `class`.
    pub fn live(&self, class: SizeClass) -> usize {
        self.live[class as usize].load(Ordering::Relaxed)
    }

    /// The most bytes that were live in blocks of `class` at once, since
    /// creation or the last [`reset_peaks`](Self::reset_peaks).
    pub fn peak(&self, class: SizeClass) -> usize {
        self.peak[class as usize].load(Ordering::Relaxed)
    }
    // ANCHOR_END: readers

    // ANCHOR: count
    /// Counts `size` more live bytes in `class` and raises its peak.
    fn count(&self, class: SizeClass, size: usize) {
        let index = class as usize;
        // `fetch_add` returns the total from BEFORE this addition: the total
        // this block made is that plus `size`, whatever other threads do.
        let before = self.live[index].fetch_add(size, Ordering::Relaxed);
        // `fetch_max` compares and stores in one step, so a higher total
        // recorded meanwhile by another thread is never overwritten.
        // `Release` pairs with the `Acquire` swap in `reset_peaks`.
        self.peak[index].fetch_max(before.saturating_add(size), Ordering::Release);
    }

    /// Counts `size` fewer live bytes in `class` (bytes counted before).
    fn uncount(&self, class: SizeClass, size: usize) {
        self.live[class as usize].fetch_sub(size, Ordering::Relaxed);
    }
    // ANCHOR_END: count

    // ANCHOR: reset
    /// Starts a new measurement window: every class's peak drops to what is
    /// live in it now.
    ///
    /// Call it where a phase of the program begins, to learn what that
    /// phase needs. Other threads may allocate meanwhile, and none of their
    /// totals is lost: once the reset and the allocations running beside it
    /// have returned, each peak is at least the live total of its class,
    /// and counts every total reached after the reset. An allocation that
    /// runs at the same moment lands in one window or the other, and a
    /// reader running at that moment may see a peak briefly below the live
    /// total.
    pub fn reset_peaks(&self) {
        for (live, peak) in self.live.iter().zip(&self.peak) {
            // Lower the peak to a recent live total. A swap, not a store: as
            // a read-modify-write with `Acquire`, it synchronizes with the
            // `Release` of every `fetch_max` before it on this peak.
            peak.swap(live.load(Ordering::Relaxed), Ordering::Acquire);
            // An allocation whose `fetch_max` came before the swap (and so
            // was erased by it) happens before this load, which therefore
            // sees its bytes; one that comes after the swap raises the peak
            // itself. Either way no total is lost.
            peak.fetch_max(live.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }
    // ANCHOR_END: reset
}

// ANCHOR: global_alloc
// SAFETY: every method forwards to `inner` with the caller's arguments
// unchanged and returns its result, so `inner`'s guarantees are ours. The
// bookkeeping is atomic arithmetic: it never allocates, locks or panics.
unsafe impl<A: GlobalAlloc> GlobalAlloc for ClassPeaks<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            self.count(SizeClass::of(layout.size()), layout.size());
        }
        ptr
    }

    // Forwarded, not left to the default (our `alloc`, then writing zeros):
    // the inner allocator may have memory that is zero already.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            self.count(SizeClass::of(layout.size()), layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator, so
        // from `inner`, with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.uncount(SizeClass::of(layout.size()), layout.size());
    }

    // Forwarded, not left to the default (alloc, copy, dealloc), so the
    // inner allocator may resize in place, and so the block is never
    // counted twice.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so
        // from `inner`) with `layout`, and that `new_size` is valid for it.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        // Null: the old block is still there, at its old size; count nothing.
        if !new_ptr.is_null() {
            let old_size = layout.size();
            // ANCHOR: mistake
            // The difference, always in the class of the old size.
            let class = SizeClass::of(old_size);
            if new_size > old_size {
                self.count(class, new_size - old_size);
            } else {
                self.uncount(class, old_size - new_size);
            }
            // ANCHOR_END: mistake
        }
        new_ptr
    }
}
// ANCHOR_END: global_alloc
