//! Exercise 6: a size-class pool.
//!
//! Serve small blocks from per-class free lists over one fixed region, so a
//! freed block is reused, and send everything else to `System`. Two threads
//! will hammer it at once. Write `class_of`, the free lists, and the pool's
//! `alloc`/`dealloc`, until `cargo workbook check 6` passes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

const NOT_SOLVED: &str = "not solved yet: implement `class_of`, the free lists, and `Pool`'s \
     `alloc`/`dealloc` — see the chapter \"Reusing memory: size classes and free lists\", or run \
     `cargo workbook hint 6`";

/// The block sizes the pool serves; each block is aligned to its size.
pub const CLASSES: [usize; 4] = [16, 32, 64, 128];

/// The index in [`CLASSES`] of the smallest class that holds `layout`
/// (size and alignment both), or `None` if it is too big for the pool.
pub fn class_of(_layout: Layout) -> Option<usize> {
    panic!("{NOT_SOLVED}")
}

// TODO: a thread-safe free list per class. Inside `alloc`/`dealloc` you may
// not allocate, so no `Mutex<Vec<_>>`: link free blocks through their own
// first word, and guard each list with a spin lock built on an `AtomicBool`.
// Say in a `// SAFETY:` comment why the next owner of a block sees every
// byte its previous owner wrote (which orderings give that happens-before).
//
// Not a lock-free (Treiber) stack with the links inside the blocks: an ABA
// tag on its head stops a stale swap from succeeding, but its pop still
// reads the link from a block that another thread may already have popped
// and be writing into, which is a data race whatever the tag. Lock-free
// would need the links kept outside the blocks (an array of atomics, one
// per block) AND a head that swaps index and tag together. The chapter
// explains both problems.

/// Serves small blocks from free lists over one fixed region, and
/// everything else from `System`.
pub struct Pool {
    base: *mut u8,
    len: usize,
    /// Bytes of the region carved into blocks so far, counted from `base`.
    carved: AtomicUsize,
    // TODO: your free lists go here, one per class.
}

// SAFETY: blocks are carved by an atomic update of `carved`, so no two
// threads get the same bytes (keep it so with your free lists).
unsafe impl Sync for Pool {}

impl Pool {
    /// A pool over `len` bytes at `base`.
    ///
    /// # Safety
    /// `base..base + len` must be valid for reads and writes, and used by
    /// nothing else, for as long as this pool or any block it returned is in
    /// use.
    pub const unsafe fn new(base: *mut u8, len: usize) -> Self {
        Self {
            base,
            len,
            carved: AtomicUsize::new(0),
        }
    }

    /// Whether `ptr` points into the region.
    pub fn owns(&self, ptr: *const u8) -> bool {
        ptr.addr()
            .checked_sub(self.base.addr())
            .is_some_and(|offset| offset < self.len)
    }

    /// Bytes of the region carved into blocks so far, padding included.
    pub fn carved(&self) -> usize {
        self.carved.load(Ordering::Relaxed)
    }

    // Ready for you to use.
    #[allow(dead_code)]
    /// A fresh block of `size` bytes aligned to `size`, or null if the
    /// region is used up.
    fn carve(&self, size: usize) -> *mut u8 {
        let base = self.base.addr();
        let mut start = 0;
        let claimed = self
            .carved
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |carved| {
                let aligned = base.checked_add(carved)?.checked_next_multiple_of(size)?;
                let end = aligned.checked_add(size)? - base;
                start = aligned - base;
                (end <= self.len).then_some(end)
            });
        match claimed {
            // SAFETY: `start + size <= len`: the block is inside the region.
            Ok(_) => unsafe { self.base.add(start) },
            Err(_) => std::ptr::null_mut(),
        }
    }
}

// SAFETY: (the promise your solution must keep) a pool block is handed to
// one owner at a time and is at least as large and as aligned as the layout;
// everything else comes from `System` and goes back to it.
unsafe impl GlobalAlloc for Pool {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // TODO: for a layout with a class, pop a free block of that class or
        // carve a new one; fall back to `System` when there is neither.
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // TODO: a block of the region goes onto its class's free list.
        // SAFETY: every block so far came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}
