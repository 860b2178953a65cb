//! Exercise 4: accounts under one shared budget.
//!
//! A [`Pool`] owns the inner allocator and a limit for everybody together.
//! Each [`Account`] draws on the pool and has a limit of its own, so one
//! greedy part of a program cannot take the whole pool. An allocation
//! through an account succeeds only if it fits BOTH limits, even when
//! several threads ask at once; otherwise it returns null.
//! Check your work with `cargo workbook check 4`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::AtomicUsize;

const NOT_SOLVED: &str = "not solved yet: implement `Pool::used` and `Account::used`, make \
     `Account::alloc` charge the account and the pool (or refuse, charging neither) and \
     `Account::dealloc` give the bytes back to both — see the chapter \"A budget guardrail\", \
     section \"Reserve first, in one atomic step\", or run `cargo workbook hint 4`";

/// The inner allocator and the limit on the bytes live through all of its
/// accounts together.
// `used` is read once you implement the methods below.
#[allow(dead_code)]
pub struct Pool<A> {
    inner: A,
    limit: usize,
    used: AtomicUsize,
}

impl<A> Pool<A> {
    /// A pool of `limit` bytes over `inner`, nothing used yet.
    pub const fn new(inner: A, limit: usize) -> Self {
        Self {
            inner,
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// Bytes currently charged against the pool, by all accounts together.
    pub fn used(&self) -> usize {
        panic!("{NOT_SOLVED}")
    }

    /// The most bytes that may be live through all accounts at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A new account of `limit` bytes drawing on this pool.
    pub const fn account(&self, limit: usize) -> Account<'_, A> {
        Account {
            pool: self,
            limit,
            used: AtomicUsize::new(0),
        }
    }
}

/// An allocator that draws on a [`Pool`] and may hold at most `limit` bytes
/// of it at once.
// `used` is read once you implement the methods below.
#[allow(dead_code)]
pub struct Account<'p, A> {
    pool: &'p Pool<A>,
    limit: usize,
    used: AtomicUsize,
}

impl<A> Account<'_, A> {
    /// Bytes currently charged against this account.
    pub fn used(&self) -> usize {
        panic!("{NOT_SOLVED}")
    }

    /// The most bytes this account may hold at once.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

// SAFETY: every block comes from the pool's inner allocator unchanged, so its
// guarantees hold; refusing with null is always allowed.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Account<'_, A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // TODO: charge `layout.size()` to this account AND to the pool, or
        // return null having charged neither. If the inner allocator then
        // returns null, give both charges back. Never panic or allocate in
        // here.
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { self.pool.inner.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // TODO: give the bytes back to the account and to the pool.
        // SAFETY: `ptr` came from this account, hence from the pool's inner
        // allocator, with `layout`, as the caller guarantees.
        unsafe { self.pool.inner.dealloc(ptr, layout) }
    }
}
