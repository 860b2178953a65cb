//! Reusing memory: size classes, a free list threaded through the free
//! blocks, and a spin lock that never allocates.
//!
//! The pieces are kept apart on purpose. [`Slab`] is the algorithm for one
//! class and one thread (`&mut self`, no atomics); [`SpinLock`] is what
//! makes any such algorithm shareable without allocating.

use std::alloc::Layout;
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};

// ANCHOR: classes
/// The smallest class: a free block must hold one link.
pub const MIN_CLASS: usize = 16;
/// The largest class; bigger requests go to another allocator.
pub const MAX_CLASS: usize = 4096;

/// The power-of-two class for `layout`, judged by its size alone. Wrong for
/// a general allocator: a block is aligned only to its class size.
pub fn class_by_size(layout: Layout) -> Option<usize> {
    let class = layout.size().max(MIN_CLASS).checked_next_power_of_two()?;
    (class <= MAX_CLASS).then_some(class)
}

/// The power-of-two class that holds both the size and the alignment.
pub fn class_by_size_and_align(layout: Layout) -> Option<usize> {
    let need = layout.size().max(layout.align()).max(MIN_CLASS);
    let class = need.checked_next_power_of_two()?;
    (class <= MAX_CLASS).then_some(class)
}
// ANCHOR_END: classes

// ANCHOR: free_list
/// What a free block holds: the address of the next free block.
struct Link {
    next: Option<NonNull<Link>>,
}

/// Free blocks of one size, linked through their own first bytes: the list
/// needs no memory of its own.
pub struct FreeList {
    head: Option<NonNull<Link>>,
}

impl FreeList {
    pub const fn new() -> Self {
        Self { head: None }
    }

    /// Puts a free block on the list.
    ///
    /// # Safety
    /// `block` is valid for writes of a `Link`, aligned for one, and nobody
    /// uses it until `pop` hands it out again.
    pub unsafe fn push(&mut self, block: NonNull<u8>) {
        let link = block.cast::<Link>();
        // SAFETY: the caller gives us the block, big and aligned enough.
        unsafe { link.write(Link { next: self.head }) };
        self.head = Some(link);
    }

    /// Takes the block pushed last, if any.
    pub fn pop(&mut self) -> Option<NonNull<u8>> {
        let link = self.head?;
        // SAFETY: a listed block holds the `Link` that `push` wrote, and
        // nobody else uses it while it is listed.
        self.head = unsafe { link.read().next };
        Some(link.cast())
    }
}
// ANCHOR_END: free_list

impl Default for FreeList {
    fn default() -> Self {
        Self::new()
    }
}

/// One class, one thread: blocks of `block` bytes carved from a region,
/// and reused through a [`FreeList`] once freed.
pub struct Slab {
    region: NonNull<u8>,
    region_layout: Layout,
    block: usize,
    carved: usize,
    free: FreeList,
}

impl Slab {
    /// A slab of `blocks` blocks of `block` bytes (a power of two, at least
    /// [`MIN_CLASS`]), each aligned to its size.
    ///
    /// # Panics
    /// If `block` is not such a power of two or the region is too large.
    pub fn new(block: usize, blocks: usize) -> Self {
        assert!(
            block.is_power_of_two() && block >= MIN_CLASS,
            "a block size is a power of two of at least {MIN_CLASS}"
        );
        let len = block.checked_mul(blocks).expect("a region that fits");
        let region_layout = Layout::from_size_align(len, block).expect("a valid region");
        assert!(len > 0, "a slab of at least one block");
        // SAFETY: the layout has a non-zero size.
        let region = unsafe { std::alloc::alloc(region_layout) };
        let Some(region) = NonNull::new(region) else {
            std::alloc::handle_alloc_error(region_layout)
        };
        Self {
            region,
            region_layout,
            block,
            carved: 0,
            free: FreeList::new(),
        }
    }

    /// A free block if there is one, else a fresh one, else `None`.
    pub fn alloc(&mut self) -> Option<NonNull<u8>> {
        if let Some(block) = self.free.pop() {
            return Some(block);
        }
        let end = self.carved.checked_add(self.block)?;
        if end > self.region_layout.size() {
            return None;
        }
        // SAFETY: `carved + block <= len`: inside the region.
        let block = unsafe { self.region.add(self.carved) };
        self.carved = end;
        Some(block)
    }

    /// Gives a block back for reuse.
    ///
    /// # Safety
    /// `block` came from this slab's `alloc` and is not used any more.
    pub unsafe fn free(&mut self, block: NonNull<u8>) {
        // SAFETY: every block is at least 16 bytes and aligned to its size,
        // enough for a `Link`, and the caller is done with it.
        unsafe { self.free.push(block) }
    }

    /// Where `block` sits, in bytes from the start of the region.
    pub fn offset_of(&self, block: NonNull<u8>) -> usize {
        block.addr().get() - self.region.addr().get()
    }

    /// Bytes carved from the region so far.
    pub fn carved(&self) -> usize {
        self.carved
    }
}

// SAFETY: a slab owns its region alone; moving it to another thread moves
// that ownership with it.
unsafe impl Send for Slab {}

impl Drop for Slab {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the blocks die with
        // the slab.
        unsafe { std::alloc::dealloc(self.region.as_ptr(), self.region_layout) }
    }
}

// ANCHOR: spin_lock
/// A lock that is one `AtomicBool`: taking it never allocates, never
/// blocks in the kernel, never fails.
pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock lets one thread at a time reach the value, and its
// Acquire/Release pair orders each holder after the previous one, so a `T`
// that may move between threads may be shared this way.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    pub fn lock(&self) -> SpinGuard<'_, T> {
        // `Acquire`: whatever the previous holder wrote before its
        // `Release` store is visible once we own the lock.
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Wait with plain loads, which leave the cache line shared,
            // until the lock looks free; then try to take it again.
            while self.locked.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        }
        SpinGuard { lock: self }
    }
}

/// Access to the value while the lock is held; dropping it unlocks.
pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        // `Release`: our writes to the value happen before the next
        // holder's `Acquire` sees `false`.
        self.lock.locked.store(false, Ordering::Release);
    }
}
// ANCHOR_END: spin_lock

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only
        // reference through the guard.
        unsafe { &mut *self.lock.value.get() }
    }
}
