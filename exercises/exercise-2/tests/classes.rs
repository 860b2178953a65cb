//! What the tracker counts, one thread at a time. Each test builds its own
//! tracker and calls it directly, so the counts are exact even though the
//! tests run in parallel.

use std::alloc::{GlobalAlloc, Layout, System};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use exercise_2::{ClassPeaks, SizeClass};

use SizeClass::{Huge, Large, Medium, Small};

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("a valid layout")
}

/// A block the test holds. Every inner allocator of these tests takes its
/// blocks from `System`, so if a test fails before giving a block back
/// through the tracker, dropping it frees it through `System`: a failing
/// test leaks nothing (under Miri a leak would be reported before the
/// test's own message).
#[derive(Debug)]
struct Owned {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Owned {
    /// `ptr` from an allocation with `layout`, or `None` for null.
    fn new(ptr: *mut u8, layout: Layout) -> Option<Self> {
        NonNull::new(ptr).map(|ptr| Self { ptr, layout })
    }

    fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Gives the block up without freeing it: the tracker takes it back.
    fn release(self) -> (*mut u8, Layout) {
        let block = ManuallyDrop::new(self);
        (block.ptr.as_ptr(), block.layout)
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the block came from `System` (through the tracker and its
        // inner allocator) with `layout`, and was not given back.
        unsafe { System.dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// Allocates a block with `layout` from `tracker`, failing the test on null.
fn alloc_with<A: GlobalAlloc>(tracker: &ClassPeaks<A>, layout: Layout) -> Owned {
    // SAFETY: every layout the tests use has a non-zero size.
    let ptr = unsafe { tracker.alloc(layout) };
    Owned::new(ptr, layout).expect("the inner allocator returned null")
}

/// Allocates `size` bytes from `tracker`, failing the test on null.
fn alloc<A: GlobalAlloc>(tracker: &ClassPeaks<A>, size: usize) -> Owned {
    alloc_with(tracker, layout(size))
}

/// Gives `block` back through `tracker`.
fn dealloc<A: GlobalAlloc>(tracker: &ClassPeaks<A>, block: Owned) {
    let (ptr, layout) = block.release();
    // SAFETY: `ptr` came from `tracker` with `layout`, and is freed once.
    unsafe { tracker.dealloc(ptr, layout) }
}

/// Resizes `block` through `tracker`: the new block, or the old one when
/// the tracker returned null (the old block is then still valid).
fn realloc<A: GlobalAlloc>(
    tracker: &ClassPeaks<A>,
    block: Owned,
    new_size: usize,
) -> Result<Owned, Owned> {
    // SAFETY: the block came from `tracker` with its layout; every new size
    // the tests use is non-zero.
    let ptr = unsafe { tracker.realloc(block.as_ptr(), block.layout, new_size) };
    let new_layout = Layout::from_size_align(new_size, block.layout.align()).expect("a layout");
    match Owned::new(ptr, new_layout) {
        Some(grown) => {
            // The old block is gone: `realloc` freed or reused it.
            let _ = block.release();
            Ok(grown)
        }
        None => Err(block),
    }
}

/// `live` of every class, smallest first.
fn live<A>(tracker: &ClassPeaks<A>) -> [usize; 4] {
    SizeClass::ALL.map(|class| tracker.live(class))
}

/// `peak` of every class, smallest first.
fn peak<A>(tracker: &ClassPeaks<A>) -> [usize; 4] {
    SizeClass::ALL.map(|class| tracker.peak(class))
}

#[test]
fn a_size_belongs_to_the_smallest_class_that_holds_it() {
    let cases = [
        (1, Small),
        (64, Small),
        (65, Medium),
        (512, Medium),
        (513, Large),
        (4096, Large),
        (4097, Huge),
        (usize::MAX, Huge),
    ];
    for (size, class) in cases {
        assert_eq!(
            SizeClass::of(size),
            class,
            "SizeClass::of({size}): a class holds every size up to AND INCLUDING its max_size"
        );
    }
}

#[test]
fn each_class_counts_its_own_live_and_peak_bytes() {
    let tracker = ClassPeaks::new(System);
    let a = alloc(&tracker, 64);
    let b = alloc(&tracker, 65);
    let c = alloc(&tracker, 4096);
    let d = alloc(&tracker, 5000);
    let e = alloc(&tracker, 10);
    assert_eq!(
        live(&tracker),
        [74, 65, 4096, 5000],
        "live bytes per class [Small, Medium, Large, Huge] after blocks of 64, 65, 4096, 5000 \
         and 10 bytes"
    );
    assert_eq!(
        peak(&tracker),
        [74, 65, 4096, 5000],
        "peaks per class: while nothing was freed, each peak is its class's live total (the \
         total AFTER the allocation, not the one `fetch_add` returns)"
    );
    dealloc(&tracker, a);
    assert_eq!(
        (live(&tracker), peak(&tracker)),
        ([10, 65, 4096, 5000], [74, 65, 4096, 5000]),
        "(live, peak) after freeing the 64-byte block: freeing lowers live, never a peak"
    );
    let f = alloc(&tracker, 30);
    assert_eq!(
        (live(&tracker), peak(&tracker)),
        ([40, 65, 4096, 5000], [74, 65, 4096, 5000]),
        "(live, peak) after 30 more small bytes: a lower high leaves the peak alone"
    );
    // The class goes by the size alone; a large alignment does not move it.
    let aligned = Layout::from_size_align(16, 128).expect("a valid layout");
    let g = alloc_with(&tracker, aligned);
    assert_eq!(
        live(&tracker),
        [56, 65, 4096, 5000],
        "a 16-byte block aligned to 128 is Small: classes go by size"
    );
    for block in [g, b, c, d, e, f] {
        dealloc(&tracker, block);
    }
    assert_eq!(
        (live(&tracker), peak(&tracker)),
        ([0; 4], [74, 65, 4096, 5000]),
        "(live, peak) when everything is freed"
    );
}

#[test]
fn reset_peaks_starts_a_new_window_in_every_class() {
    let tracker = ClassPeaks::new(System);
    let big = alloc(&tracker, 1000);
    let small = alloc(&tracker, 24);
    dealloc(&tracker, big);
    assert_eq!(peak(&tracker), [24, 0, 1000, 0], "peaks before the reset");
    tracker.reset_peaks();
    assert_eq!(
        peak(&tracker),
        [24, 0, 0, 0],
        "after a reset, each class's peak is what is live in it now"
    );
    let more = alloc(&tracker, 8);
    let large = alloc(&tracker, 600);
    assert_eq!(
        peak(&tracker),
        [32, 0, 600, 0],
        "the new window counts from the reset"
    );
    for block in [small, more, large] {
        dealloc(&tracker, block);
    }
}

/// Which entry points of the inner allocator were used.
#[derive(Default)]
struct Calls {
    alloc: AtomicUsize,
    alloc_zeroed: AtomicUsize,
    realloc: AtomicUsize,
}

impl Calls {
    /// (alloc, alloc_zeroed, realloc) calls so far.
    fn get(&self) -> (usize, usize, usize) {
        (
            self.alloc.load(Ordering::Relaxed),
            self.alloc_zeroed.load(Ordering::Relaxed),
            self.realloc.load(Ordering::Relaxed),
        )
    }
}

/// An inner allocator that forwards to `System` and records its calls in a
/// `Calls` the test owns (the tracker keeps its inner allocator private).
struct Spy<'a>(&'a Calls);

// SAFETY: forwards to `System` unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for Spy<'_> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0.alloc.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.0.alloc_zeroed.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.0.realloc.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[test]
fn alloc_zeroed_is_forwarded_and_counted() {
    let calls = Calls::default();
    let tracker = ClassPeaks::new(Spy(&calls));
    let size = 4096;
    // SAFETY: the layout has a non-zero size.
    let ptr = unsafe { tracker.alloc_zeroed(layout(size)) };
    let block = Owned::new(ptr, layout(size)).expect("the inner allocator returned null");
    // SAFETY: the block is valid for `size` initialised (zeroed) bytes.
    let bytes = unsafe { std::slice::from_raw_parts(block.as_ptr(), size) };
    assert!(
        bytes.iter().all(|&b| b == 0),
        "alloc_zeroed must return zeroed memory"
    );
    assert_eq!(
        (live(&tracker), peak(&tracker)),
        ([0, 0, size, 0], [0, 0, size, 0]),
        "(live, peak) per class: a zeroed block is counted like any other"
    );
    assert_eq!(
        calls.get(),
        (0, 1, 0),
        "(inner alloc, alloc_zeroed, realloc calls): override `alloc_zeroed` to forward to the \
         inner allocator's `alloc_zeroed` (the default calls `alloc` and writes the zeros by \
         hand) — `cargo workbook hint 2`"
    );
    dealloc(&tracker, block);
    assert_eq!(live(&tracker), [0; 4]);
}

#[test]
fn realloc_is_forwarded_and_moves_the_bytes_between_classes() {
    let calls = Calls::default();
    let tracker = ClassPeaks::new(Spy(&calls));
    let block = alloc(&tracker, 48);
    // SAFETY: the block has 48 writable bytes.
    unsafe { block.as_ptr().write_bytes(0xA5, 48) };

    let block = realloc(&tracker, block, 100).expect("the inner allocator returned null");
    // SAFETY: the first 48 of the 100 bytes were copied from the old block.
    let kept = unsafe { std::slice::from_raw_parts(block.as_ptr(), 48) };
    assert!(
        kept.iter().all(|&b| b == 0xA5),
        "realloc must keep the block's contents"
    );
    assert_eq!(
        (live(&tracker), peak(&tracker)),
        ([0, 100, 0, 0], [48, 100, 0, 0]),
        "(live, peak) per class after growing 48 -> 100 bytes: the block leaves Small for Medium"
    );

    let block = realloc(&tracker, block, 400).expect("the inner allocator returned null");
    assert_eq!(
        (live(&tracker), peak(&tracker)),
        ([0, 400, 0, 0], [48, 400, 0, 0]),
        "(live, peak) per class after growing 100 -> 400 bytes within Medium: one block of 400 \
         bytes, never 100 and 400 counted at once"
    );

    let block = realloc(&tracker, block, 64).expect("the inner allocator returned null");
    assert_eq!(
        (live(&tracker), peak(&tracker)),
        ([64, 0, 0, 0], [64, 400, 0, 0]),
        "(live, peak) per class after shrinking 400 -> 64 bytes: back to Small"
    );
    assert_eq!(
        calls.get(),
        (1, 0, 3),
        "(inner alloc, alloc_zeroed, realloc calls): override `realloc` to forward to the inner \
         allocator's `realloc` (the default allocates a new block, copies and frees) — \
         `cargo workbook hint 2`"
    );
    dealloc(&tracker, block);
    assert_eq!(live(&tracker), [0; 4]);
}

/// An inner allocator that refuses every request above `limit` bytes.
struct UpTo {
    limit: usize,
}

// SAFETY: forwards to `System` unchanged, or returns null, which every
// method may do to report failure.
unsafe impl GlobalAlloc for UpTo {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > self.limit {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > self.limit {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > self.limit {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[test]
fn a_refused_request_counts_nothing() {
    let tracker = ClassPeaks::new(UpTo { limit: 4096 });
    // SAFETY: the layouts have non-zero sizes.
    let (refused, refused_zeroed) = unsafe {
        (
            tracker.alloc(layout(10_000)),
            tracker.alloc_zeroed(layout(10_000)),
        )
    };
    assert!(refused.is_null() && refused_zeroed.is_null());
    assert_eq!(
        (live(&tracker), peak(&tracker)),
        ([0; 4], [0; 4]),
        "(live, peak) per class after two refused allocations: a null block holds no bytes"
    );
    let block = alloc(&tracker, 100);
    let Err(block) = realloc(&tracker, block, 10_000) else {
        panic!("the inner allocator refuses more than 4096 bytes, yet realloc succeeded")
    };
    assert_eq!(
        (live(&tracker), peak(&tracker)),
        ([0, 100, 0, 0], [0, 100, 0, 0]),
        "(live, peak) per class after a refused realloc: the old block is still there, at its \
         old size"
    );
    dealloc(&tracker, block);
    assert_eq!(live(&tracker), [0; 4]);
}
