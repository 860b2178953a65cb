//! Exercise 5, a wrong answer: in-place realloc grows a block that is not
//! the most recent one.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A lock-free bump arena over one fixed region; null when it is full.
pub struct BumpArena {
    base: *mut u8,
    len: usize,
    /// Bytes of the region handed out so far, counted from `base`.
    next: AtomicUsize,
}

// SAFETY: the region is only reached through blocks carved (or resized) by
// an atomic update of `next`, so no two threads own the same bytes at once;
// bytes given back by a shrink are handed out again only after the shrink
// happened-before (Release on the resize, Acquire on the claim).
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

    // ANCHOR: is_last
    /// Whether the `size`-byte block at `ptr` is the most recent one: it
    /// ends exactly where the next allocation would start.
    pub fn is_last(&self, ptr: *const u8, size: usize) -> bool {
        self.end_offset(ptr, size) == Some(self.used())
    }

    /// The offset just past the `size`-byte block at `ptr`, if it is ours.
    fn end_offset(&self, ptr: *const u8, size: usize) -> Option<usize> {
        if !self.contains(ptr) {
            return None;
        }
        (ptr.addr() - self.base.addr()).checked_add(size)
    }
    // ANCHOR_END: is_last

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

// SAFETY: blocks are disjoint (each comes from one successful atomic update
// of `next`), lie inside the region and are aligned as asked; `realloc`
// resizes a block in place only when it owns the end of the used part.
// Bytes a shrink gives back were written by the shrinking thread: its
// resize is a Release and every claim of bytes (allocation or growth) an
// Acquire, so those writes happen-before the next owner's.
unsafe impl GlobalAlloc for BumpArena {
    // ANCHOR: alloc
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
            // Acquire on success: these bytes may have been given back by a
            // shrink in another thread, whose writes to them must happen
            // before ours. The failure value only feeds the next attempt.
            match self
                .next
                .compare_exchange_weak(next, end, Ordering::Acquire, Ordering::Relaxed)
            {
                // SAFETY: `start + size <= len`: the block is in the region.
                Ok(_) => return unsafe { self.base.add(start) },
                Err(current) => next = current,
            }
        }
    }
    // ANCHOR_END: alloc

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        // A bump arena frees nothing one by one.
    }

    // ANCHOR: realloc
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if let Some(old_end) = self.end_offset(ptr, layout.size()) {
            let start = old_end - layout.size();
            let new_end = start.checked_add(new_size).filter(|&end| end <= self.len);
            // ANCHOR: mistake
            // WRONG: never asks whether the block is the last one. A block
            // with a neighbour after it grows over that neighbour.
            if let Some(new_end) = new_end {
                self.next.fetch_max(new_end, Ordering::AcqRel);
                return ptr;
            }
            // ANCHOR_END: mistake
        }
        // SAFETY: the caller upholds `realloc`'s contract.
        unsafe { self.realloc_by_copy(ptr, layout, new_size) }
    }
    // ANCHOR_END: realloc
}
