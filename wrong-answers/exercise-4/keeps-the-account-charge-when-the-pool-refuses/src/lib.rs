//! Exercise 4, a wrong answer: returns null when the pool refuses without undoing the account's charge.
//! Everything else is the reference solution.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

// ANCHOR: ceiling
/// A count of charged bytes that never passes its limit.
struct Ceiling {
    limit: usize,
    used: AtomicUsize,
}

impl Ceiling {
    const fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Charges `size` bytes if the total stays within the limit. The check
    /// and the charge are one atomic step, so no total over the limit is
    /// ever stored, not even for a moment.
    fn charge(&self, size: usize) -> bool {
        let fits = |used: usize| used.checked_add(size).filter(|&total| total <= self.limit);
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, fits)
            .is_ok()
    }

    /// Gives back `size` bytes charged earlier.
    fn give_back(&self, size: usize) {
        self.used.fetch_sub(size, Ordering::Relaxed);
    }
}
// ANCHOR_END: ceiling

/// The inner allocator and the limit on the bytes live through all of its
/// accounts together.
pub struct Pool<A> {
    inner: A,
    ceiling: Ceiling,
}

impl<A> Pool<A> {
    /// A pool of `limit` bytes over `inner`, nothing used yet.
    pub const fn new(inner: A, limit: usize) -> Self {
        Self {
            inner,
            ceiling: Ceiling::new(limit),
        }
    }

    /// Bytes currently charged against the pool, by all accounts together.
    pub fn used(&self) -> usize {
        self.ceiling.used()
    }

    /// The most bytes that may be live through all accounts at once.
    pub fn limit(&self) -> usize {
        self.ceiling.limit
    }

    /// A new account of `limit` bytes drawing on this pool.
    pub const fn account(&self, limit: usize) -> Account<'_, A> {
        Account {
            pool: self,
            ceiling: Ceiling::new(limit),
        }
    }
}

/// An allocator that draws on a [`Pool`] and may hold at most `limit` bytes
/// of it at once.
pub struct Account<'p, A> {
    pool: &'p Pool<A>,
    ceiling: Ceiling,
}

impl<A> Account<'_, A> {
    /// Bytes currently charged against this account.
    pub fn used(&self) -> usize {
        self.ceiling.used()
    }

    /// The most bytes this account may hold at once.
    pub fn limit(&self) -> usize {
        self.ceiling.limit
    }
}

// ANCHOR: global_alloc
// SAFETY: a block is only ever returned by the pool's inner allocator (or
// null), so its guarantees hold; the budget only adds refusals, which the
// contract allows. The bookkeeping is atomic arithmetic: no allocation, no
// panic.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Account<'_, A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let size = layout.size();
        // The account first: while the pool decides, the charge is held
        // against this account only, never against the other accounts.
        if !self.ceiling.charge(size) {
            return std::ptr::null_mut();
        }
        // ANCHOR: mistake
        if !self.pool.ceiling.charge(size) {
            // The account's charge is not undone.
            return std::ptr::null_mut();
        }
        // ANCHOR_END: mistake
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { self.pool.inner.alloc(layout) };
        if ptr.is_null() {
            // The inner allocator refused after all: undo both charges.
            self.pool.ceiling.give_back(size);
            self.ceiling.give_back(size);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this account, hence from the pool's inner
        // allocator, with `layout`, as the caller guarantees.
        unsafe { self.pool.inner.dealloc(ptr, layout) };
        self.pool.ceiling.give_back(layout.size());
        self.ceiling.give_back(layout.size());
    }
}
// ANCHOR_END: global_alloc
