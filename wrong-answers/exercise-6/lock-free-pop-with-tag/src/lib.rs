//! Exercise 6, a wrong answer: a lock-free free list with an ABA tag, still racy.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// The block sizes the pool serves; each block is aligned to its size.
pub const CLASSES: [usize; 4] = [16, 32, 64, 128];

// ANCHOR: class_of
/// The index in [`CLASSES`] of the smallest class that holds `layout`
/// (size and alignment both), or `None` if it is too big for the pool.
pub fn class_of(layout: Layout) -> Option<usize> {
    let need = layout.size().max(layout.align());
    CLASSES.iter().position(|&class| class >= need)
}
// ANCHOR_END: class_of

// ANCHOR: free_list
/// A stack of free blocks of one class, linked through their first word.
///
/// Lock-free (a Treiber stack) with an ABA tag: blocks are 16-aligned, so
/// the low four bits of the head carry a counter that every push and pop
/// changes, and a head that went away and came back no longer compares
/// equal.
struct FreeList {
    head: AtomicPtr<u8>,
}

/// The low bits of a block address, always zero, that hold the tag.
const TAG: usize = 0b1111;

impl FreeList {
    const fn new() -> Self {
        Self {
            head: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    // ANCHOR: mistake
    /// A free block, or null if there is none.
    fn pop(&self) -> *mut u8 {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let block = head.map_addr(|addr| addr & !TAG);
            if block.is_null() {
                return block;
            }
            // SAFETY: (wrong) the tag makes a stale swap fail, but this read
            // comes before the swap: another thread may have popped `block`
            // already and be writing into it, and the read races with that
            // write whatever the swap does next.
            let next = unsafe { block.cast::<*mut u8>().read() };
            let tagged = next.map_addr(|addr| addr | (head.addr().wrapping_add(1) & TAG));
            match self
                .head
                .compare_exchange_weak(head, tagged, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return block,
                Err(now) => head = now,
            }
        }
    }
    // ANCHOR_END: mistake

    /// Puts a block back on the list.
    ///
    /// # Safety
    /// `block` is free, belongs to this list's class and is at least a word
    /// long and aligned to 16.
    unsafe fn push(&self, block: *mut u8) {
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: the caller gives us the block; its first word is ours
            // until the swap publishes it.
            unsafe {
                block
                    .cast::<*mut u8>()
                    .write(head.map_addr(|addr| addr & !TAG))
            };
            let tagged = block.map_addr(|addr| addr | (head.addr().wrapping_add(1) & TAG));
            match self.head.compare_exchange_weak(
                head,
                tagged,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }
}
// ANCHOR_END: free_list

/// Serves small blocks from free lists over one fixed region, and
/// everything else from `System`.
pub struct Pool {
    base: *mut u8,
    len: usize,
    /// Bytes of the region carved into blocks so far, counted from `base`.
    carved: AtomicUsize,
    free: [FreeList; CLASSES.len()],
}

// SAFETY: (wrong) meant to hold because each block has one owner at a
// time, but the lock-free pop reads blocks it does not own.
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
            free: [const { FreeList::new() }; CLASSES.len()],
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

// ANCHOR: global_alloc
// SAFETY: a pool block is handed to one owner at a time (see `Sync`) and is
// at least as large and as aligned as the layout, because its class is;
// everything else comes from `System` and goes back to it.
unsafe impl GlobalAlloc for Pool {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(class) = class_of(layout)
            && let (Some(&size), Some(list)) = (CLASSES.get(class), self.free.get(class))
        {
            let mut block = list.pop();
            if block.is_null() {
                block = self.carve(size);
            }
            if !block.is_null() {
                return block;
            }
        }
        // Too big, or the region is used up.
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if self.owns(ptr) {
            // A pool block was carved for this layout's class, so the class
            // exists; the `if let` only avoids a panic path.
            if let Some(list) = class_of(layout).and_then(|class| self.free.get(class)) {
                // SAFETY: the block is free now, of this class, and every
                // class is at least a word long and word-aligned.
                unsafe { list.push(ptr) };
            }
        } else {
            // SAFETY: a block outside the region came from `System` with
            // `layout`.
            unsafe { System.dealloc(ptr, layout) }
        }
    }
}
// ANCHOR_END: global_alloc
