//! Exercise 5: grow and shrink the newest bump block in place.
//!
//! The arena below allocates the way the chapter's arena does (upward, one
//! compare-and-swap, the address aligned). Its `realloc` is yours: write
//! `is_last`, then a `realloc` that resizes the most recent block where it
//! is, until `cargo workbook check 5` passes. Then run
//! `cargo workbook check 5 --miri`: once a block can shrink, bytes one
//! thread wrote go to another, and only Miri sees whether they arrive in
//! order.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

const NOT_SOLVED: &str = "not solved yet: implement `BumpArena::is_last`, then make \
     `BumpArena::realloc` resize the most recent block in place — see the chapter \"A bump \
     arena\", or run `cargo workbook hint 5`";

/// A lock-free bump arena over one fixed region; null when it is full.
pub struct BumpArena {
    base: *mut u8,
    len: usize,
    /// Bytes of the region handed out so far, counted from `base`.
    next: AtomicUsize,
}

// SAFETY: the region is only reached through blocks carved (or resized) by
// an atomic update of `next`, so no two threads own the same bytes at once.
// (Once `realloc` can give bytes back: is that enough? See the comment on
// `GlobalAlloc` below.)
unsafe impl Sync for BumpArena {}

impl BumpArena {
    /// An arena over `len` bytes at `base`.
    ///
    /// # Safety
    /// `base..base + len` must be valid for reads and writes, and used by
    /// nothing else, for as long as this arena or any block it returned is
    /// in use.
    pub const unsafe fn new(base: *mut u8, len: usize) -> Self {
        Self {
            base,
            len,
            next: AtomicUsize::new(0),
        }
    }

    /// Bytes of the region consumed so far, alignment padding included.
    pub fn used(&self) -> usize {
        self.next.load(Ordering::Relaxed)
    }

    /// Whether `ptr` points into the region.
    pub fn contains(&self, ptr: *const u8) -> bool {
        ptr.addr()
            .checked_sub(self.base.addr())
            .is_some_and(|offset| offset < self.len)
    }

    /// Whether the `size`-byte block at `ptr` is the most recent one: it
    /// ends exactly where the next allocation would start.
    pub fn is_last(&self, _ptr: *const u8, _size: usize) -> bool {
        panic!("{NOT_SOLVED}")
    }

    /// What the default `realloc` does: a new block, a copy, and the old
    /// block freed (which, in a bump arena, frees nothing).
    ///
    /// # Safety
    /// As for [`GlobalAlloc::realloc`].
    pub unsafe fn realloc_by_copy(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        // SAFETY: the caller guarantees `new_size` is non-zero and valid.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // `copy`, which allows overlap, although blocks of a correct
            // arena never overlap: an arena that wrongly handed out
            // overlapping blocks then fails a test instead of aborting it.
            // SAFETY: both blocks are live and at least this long.
            unsafe { std::ptr::copy(ptr, new, layout.size().min(new_size)) };
            // SAFETY: `ptr` came from this arena with `layout`.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

// SAFETY: (the promise your solution must keep) blocks are disjoint (each
// comes from one successful atomic update of `next`), lie inside the region
// and are aligned as asked; `realloc` resizes a block in place only when it
// owns the end of the used part. TODO: a shrink gives back bytes its thread
// wrote, and the next allocation hands them to another thread. State here
// what orders those writes before the new owner's, and make it true.
unsafe impl GlobalAlloc for BumpArena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = self.base.addr();
        let mut next = self.next.load(Ordering::Relaxed);
        loop {
            // Align the address, not the offset, as the chapter's arena does.
            let Some(start) = base
                .checked_add(next)
                .and_then(|addr| addr.checked_next_multiple_of(layout.align()))
                .map(|addr| addr - base)
            else {
                return std::ptr::null_mut();
            };
            let Some(end) = start
                .checked_add(layout.size())
                .filter(|&end| end <= self.len)
            else {
                return std::ptr::null_mut();
            };
            // Relaxed, as in the chapter, where no byte is handed out twice.
            // TODO: is it still enough once `realloc` gives bytes back?
            match self
                .next
                .compare_exchange_weak(next, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                // SAFETY: `start + size <= len`: the block is in the region.
                Ok(_) => return unsafe { self.base.add(start) },
                Err(current) => next = current,
            }
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        // A bump arena frees nothing one by one.
    }

    unsafe fn realloc(&self, _ptr: *mut u8, _layout: Layout, _new_size: usize) -> *mut u8 {
        // TODO: if the block is the most recent one and `new_size` fits,
        // move `next` with ONE atomic step and return the same pointer.
        // Everything else goes to `self.realloc_by_copy`. Never panic or
        // allocate in here (this panic is the stub's, not yours to keep).
        panic!("{NOT_SOLVED}")
    }
}
