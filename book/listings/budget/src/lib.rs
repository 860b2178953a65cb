//! Chapter: a memory-budget guardrail that flags or refuses.
//!
//! [`BudgetAlloc`] forwards to an inner allocator (by default [`System`])
//! and compares the live bytes with a limit. Under [`Policy::FlagOnly`] it
//! serves every request and raises a flag once the limit is passed, a cheap
//! alarm for tests and CI. Under [`Policy::Refuse`] it returns null instead,
//! so fallible APIs such as `Vec::try_reserve` report an error the program
//! can handle.
//!
//! ```
//! use std::alloc::{GlobalAlloc, Layout};
//! use budget::BudgetAlloc;
//!
//! let guard = BudgetAlloc::refusing(1024);
//! let too_big = Layout::from_size_align(2048, 8).unwrap();
//! // SAFETY: the layout has a non-zero size.
//! let block = unsafe { guard.alloc(too_big) };
//! assert!(block.is_null());
//! assert_eq!(guard.refusals(), 1);
//! assert_eq!(guard.live_bytes(), 0);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use peak::ByteMeter;

/// What happens when an allocation would take live bytes over the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Policy {
    /// Serve it anyway and remember that the budget was exceeded.
    FlagOnly = 0,
    /// Return null, the allocator's way of saying "out of memory".
    Refuse = 1,
}

impl Policy {
    const fn from_u8(value: u8) -> Policy {
        if value == Policy::Refuse as u8 {
            Policy::Refuse
        } else {
            Policy::FlagOnly
        }
    }
}

// ANCHOR: struct
/// A forwarding allocator that enforces a limit on live bytes.
///
/// The limit and the policy are atomics, so they can change while the
/// program runs (the playground's slider does exactly that).
#[derive(Debug)]
pub struct BudgetAlloc<A = System> {
    inner: A,
    bytes: ByteMeter,
    limit: AtomicUsize,
    policy: AtomicU8,
    over_budget: AtomicBool,
    refusals: AtomicUsize,
}
// ANCHOR_END: struct

impl BudgetAlloc<System> {
    /// A budget of `limit` live bytes over [`System`] that only raises a flag.
    pub const fn flag_only(limit: usize) -> Self {
        Self::over(System, limit, Policy::FlagOnly)
    }

    /// A budget of `limit` live bytes over [`System`] that refuses requests
    /// that would exceed it.
    pub const fn refusing(limit: usize) -> Self {
        Self::over(System, limit, Policy::Refuse)
    }
}

impl<A> BudgetAlloc<A> {
    /// A budget of `limit` live bytes over `inner`, with `policy`.
    pub const fn over(inner: A, limit: usize, policy: Policy) -> Self {
        BudgetAlloc {
            inner,
            bytes: ByteMeter::new(),
            limit: AtomicUsize::new(limit),
            policy: AtomicU8::new(policy as u8),
            over_budget: AtomicBool::new(false),
            refusals: AtomicUsize::new(0),
        }
    }

    /// The wrapped allocator.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Bytes currently allocated through this budget.
    pub fn live_bytes(&self) -> usize {
        self.bytes.live()
    }

    /// The most bytes that were live at once.
    pub fn peak_bytes(&self) -> usize {
        self.bytes.peak()
    }

    /// The current limit on live bytes.
    pub fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Changes the limit. Memory already live stays live even if it is now
    /// over the limit; only later requests are judged by the new value.
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::Relaxed);
    }

    /// The current policy.
    pub fn policy(&self) -> Policy {
        Policy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    /// Changes the policy for later requests.
    pub fn set_policy(&self, policy: Policy) {
        self.policy.store(policy as u8, Ordering::Relaxed);
    }

    /// Whether a request went over the limit since creation or the last
    /// [`clear_flag`](Self::clear_flag): served under [`Policy::FlagOnly`],
    /// refused under [`Policy::Refuse`].
    pub fn over_budget(&self) -> bool {
        self.over_budget.load(Ordering::Relaxed)
    }

    /// Lowers the over-budget flag (the refusal count is kept).
    pub fn clear_flag(&self) {
        self.over_budget.store(false, Ordering::Relaxed);
    }

    /// How many requests were refused so far.
    pub fn refusals(&self) -> usize {
        self.refusals.load(Ordering::Relaxed)
    }

    // ANCHOR: admit
    /// Lets `size` more bytes in under the current policy: `allocate` asks
    /// the inner allocator and returns null on failure. Allocation-free and
    /// panic-free, like everything on the allocation path.
    ///
    /// # Safety
    ///
    /// `allocate` may make one unsafe call to the inner allocator (`alloc`,
    /// `alloc_zeroed` or a growing `realloc`) whose contract the caller
    /// upholds, and on success it must hand out exactly `size` bytes more
    /// than the caller held. `admit` calls it at most once, so a `realloc`
    /// never runs twice on one pointer.
    unsafe fn admit(&self, size: usize, allocate: impl FnOnce() -> *mut u8) -> *mut u8 {
        let limit = self.limit();
        match self.policy() {
            Policy::FlagOnly => {
                let ptr = allocate();
                if !ptr.is_null() && self.bytes.add(size) > limit {
                    // Only a flag: printing here would allocate, re-entering us.
                    self.over_budget.store(true, Ordering::Relaxed);
                }
                ptr
            }
            Policy::Refuse => {
                // Reserve first, in one atomic step, so no other thread can
                // take the same headroom while the inner allocator works.
                let Some(live_total) = self.bytes.reserve_within(size, limit) else {
                    self.over_budget.store(true, Ordering::Relaxed);
                    self.refusals.fetch_add(1, Ordering::Relaxed);
                    return ptr::null_mut();
                };
                let ptr = allocate();
                if ptr.is_null() {
                    // The inner allocator failed: hand the reservation back.
                    self.bytes.sub(size);
                } else {
                    self.bytes.note_peak(live_total);
                }
                ptr
            }
        }
    }
    // ANCHOR_END: admit
}

// ANCHOR: alloc
// SAFETY: every method forwards to `A` with the caller's arguments unchanged
// and returns either `A`'s result or null (always allowed: it means "out of
// memory" and hands nothing out), so `A`'s guarantees are ours. The
// bookkeeping is atomic arithmetic that neither allocates nor panics.
unsafe impl<A: GlobalAlloc> GlobalAlloc for BudgetAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the closure makes the one call `admit` allows, with
        // `layout`, for which our caller upholds `alloc`'s contract; on
        // success it hands out `layout.size()` new bytes.
        unsafe { self.admit(layout.size(), || self.inner.alloc(layout)) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`, for `alloc_zeroed`'s contract.
        unsafe { self.admit(layout.size(), || self.inner.alloc_zeroed(layout)) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so
        // from `A`) with this `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.bytes.sub(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old_size = layout.size();
        if new_size > old_size {
            // Growth is judged like a new allocation of the difference. If
            // it is refused, null leaves the old block valid and counted.
            // SAFETY: our caller guarantees `ptr`/`layout` came from this
            // allocator (so from `A`) and `new_size` is valid for `layout`;
            // `admit` makes this one `realloc` call at most once, and on
            // success it hands out `new_size - old_size` more bytes.
            return unsafe {
                self.admit(new_size - old_size, || {
                    self.inner.realloc(ptr, layout, new_size)
                })
            };
        }
        // Shrinking never needs permission.
        // SAFETY: as above: our caller upholds `realloc`'s contract.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            self.bytes.sub(old_size - new_size);
        }
        new_ptr
    }
}
// ANCHOR_END: alloc
