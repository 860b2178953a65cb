//! Exercise 2: live bytes and their peaks, per size class.
//!
//! `ClassPeaks` wraps another allocator. For each of four size classes it
//! must know how many bytes are live in blocks of that class right now, and
//! the most that were ever live there at once. Make the tests pass:
//! `cargo workbook check 2`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::AtomicUsize;

const NOT_SOLVED: &str = "not solved yet: implement `SizeClass::of`, `ClassPeaks`'s counting \
     (`alloc`, `alloc_zeroed`, `dealloc`, `realloc`) and its `live`, `peak` and `reset_peaks` — \
     see the chapter \"Peak tracking\", or run `cargo workbook hint 2`";

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

    /// The class of a block of `size` bytes: the smallest class whose
    /// [`max_size`](Self::max_size) is at least `size`.
    pub fn of(size: usize) -> SizeClass {
        // TODO: never panic here: the allocator calls it.
        let _ = size;
        panic!("{NOT_SOLVED}")
    }
}

/// Wraps an allocator and records, for each [`SizeClass`], the bytes live in
/// blocks of that class and the most that were ever live at once.
// The fields are read once you implement the methods below.
#[allow(dead_code)]
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

    /// Bytes live in blocks of `class`.
    pub fn live(&self, class: SizeClass) -> usize {
        let _ = class;
        panic!("{NOT_SOLVED}")
    }

    /// The most bytes that were live in blocks of `class` at once, since
    /// creation or the last [`reset_peaks`](Self::reset_peaks).
    pub fn peak(&self, class: SizeClass) -> usize {
        let _ = class;
        panic!("{NOT_SOLVED}")
    }

    /// Starts a new measurement window: every class's peak drops to what is
    /// live in it now. Other threads may be allocating meanwhile: once the
    /// reset and the allocations running beside it have returned, no class's
    /// peak may be below its live total.
    pub fn reset_peaks(&self) {
        panic!("{NOT_SOLVED}")
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments and
// returns its result, so `inner`'s guarantees hold.
unsafe impl<A: GlobalAlloc> GlobalAlloc for ClassPeaks<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // TODO: count the block in its class and raise that class's peak,
        // only if the inner allocator succeeded. Never panic or allocate in
        // here.
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { self.inner.alloc(layout) }
    }

    // TODO: override `alloc_zeroed` too, forwarding to `inner.alloc_zeroed`
    // and counting like `alloc`.

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // TODO: give the bytes back to the block's class.
        // SAFETY: `ptr` came from this allocator, hence from `inner`, with
        // `layout`, as the caller guarantees.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    // TODO: override `realloc`, forwarding to `inner.realloc`. A resized
    // block counts at its new size, in the class of its new size, and is
    // never counted at both sizes at once. On null nothing changed.
}
