//! Exercise 4: a memory budget that refuses.
//!
//! `Budget` must return null for any allocation that would take the live
//! total past its limit, even when two threads race for the last bytes.
//! Check your work with `cargo workbook check 4`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::AtomicUsize;

const NOT_SOLVED: &str = "not solved yet: implement `Budget::used`, and make `Budget::alloc` \
     charge (or refuse) and `Budget::dealloc` give back — see the chapter \"A budget guardrail\", \
     or run `cargo workbook hint 4`";

/// Wraps an allocator and refuses (returns null) any allocation that would
/// take the live total past `limit` bytes.
// `used` is read once you implement the methods below.
#[allow(dead_code)]
pub struct Budget<A> {
    inner: A,
    limit: usize,
    used: AtomicUsize,
}

impl<A> Budget<A> {
    /// A budget of `limit` bytes over `inner`, nothing used yet.
    pub const fn new(inner: A, limit: usize) -> Self {
        Self {
            inner,
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// Bytes currently charged against the budget.
    pub fn used(&self) -> usize {
        panic!("{NOT_SOLVED}")
    }

    /// The most bytes that may be live at once.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

// SAFETY: every block comes from `inner` unchanged, so `inner`'s guarantees
// hold; refusing with null is always allowed.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Budget<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // TODO: charge `layout.size()` against the budget, or return null if
        // it does not fit. Never panic or allocate in here.
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // TODO: give the bytes back to the budget.
        // SAFETY: `ptr` came from this allocator, hence from `inner`, with
        // `layout`, as the caller guarantees.
        unsafe { self.inner.dealloc(ptr, layout) }
    }
}
