//! Exercise 6, a wrong answer: a block from `System` is freed onto a free list.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

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
/// A spin lock guards it rather than a lock-free (Treiber) stack: the
/// critical section is two pointer moves, the lock never allocates, and it
/// avoids both the ABA problem and a lock-free pop's read of a block that
/// another thread may already have popped and be writing to.
struct FreeList {
    locked: AtomicBool,
    head: UnsafeCell<*mut u8>,
}

impl FreeList {
    const fn new() -> Self {
        Self {
            locked: AtomicBool::new(false),
            head: UnsafeCell::new(std::ptr::null_mut()),
        }
    }

    /// Runs `f` on the head with the lock held. `f` must not panic: there
    /// is no guard to release the lock on unwind.
    fn locked<R>(&self, f: impl FnOnce(&mut *mut u8) -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // SAFETY: holding the lock gives us the only access to `head`. Our
        // `Acquire` read the `false` of the previous holder's `Release`
        // store, so everything it did before unlocking (moving the head,
        // writing links, and its owner's writes into the blocks it pushed)
        // happens before everything we do now.
        let result = f(unsafe { &mut *self.head.get() });
        // `Release`: hands all of the above to the next holder.
        self.locked.store(false, Ordering::Release);
        result
    }

    /// A free block, or null if there is none.
    fn pop(&self) -> *mut u8 {
        self.locked(|head| {
            let block = *head;
            if !block.is_null() {
                // SAFETY: a listed block is free, word-aligned and stores
                // the next link in its first word (written by `push`).
                *head = unsafe { block.cast::<*mut u8>().read() };
            }
            block
        })
    }

    /// Puts a block back on the list.
    ///
    /// # Safety
    /// `block` is free, belongs to this list's class and is at least a word
    /// long and word-aligned.
    unsafe fn push(&self, block: *mut u8) {
        self.locked(|head| {
            // SAFETY: the caller gives us the block; its first word is ours.
            unsafe { block.cast::<*mut u8>().write(*head) };
            *head = block;
        });
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

// SAFETY: a block is owned by exactly one party at a time: carved once by
// an atomic update of `carved`, then moved between users and the free lists
// under each list's lock, whose Release/Acquire pair makes each owner's
// accesses to the block happen before the next owner's.
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

    // ANCHOR: mistake
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // The layout decides, not the address: a small block that `System`
        // served (because the region was full) goes onto a free list too.
        if let Some(list) = class_of(layout).and_then(|class| self.free.get(class)) {
            // SAFETY: (wrong) assumes every block of a class came from the
            // region, at the class's size and alignment.
            unsafe { list.push(ptr) };
        } else {
            // SAFETY: a block of no class came from `System` with `layout`.
            unsafe { System.dealloc(ptr, layout) }
        }
    }
    // ANCHOR_END: mistake
}
// ANCHOR_END: global_alloc
