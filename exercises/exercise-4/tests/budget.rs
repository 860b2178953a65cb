//! The budget's promises, one request at a time, each test on pools of its
//! own so the counts are exact under the parallel test runner.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use exercise_4::Pool;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("a valid layout")
}

/// An inner allocator that fails every request larger than `max` and
/// counts in `requests` the requests that reach it: the machine running out
/// of memory, on demand.
struct FailsAbove<'c> {
    max: usize,
    requests: &'c AtomicUsize,
}

// SAFETY: every block comes from `System` unchanged, or the answer is null,
// which is always allowed.
unsafe impl GlobalAlloc for FailsAbove<'_> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if layout.size() > self.max {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with `layout` (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[test]
fn an_account_refuses_past_its_own_limit_and_recovers_after_a_free() {
    let pool = Pool::new(System, 10_000);
    let account = pool.account(1000);
    assert_eq!((pool.used(), account.used()), (0, 0), "nothing charged yet");
    // SAFETY: non-zero sizes; every block is freed below with its layout.
    unsafe {
        let a = account.alloc(layout(600));
        assert!(!a.is_null(), "600 of the account's 1000 bytes fit");
        assert_eq!(account.used(), 600, "the account is charged");
        assert_eq!(pool.used(), 600, "and so is the pool");
        let refused = account.alloc(layout(600));
        assert!(
            refused.is_null(),
            "1200 bytes exceed the account's 1000 (the pool has room, the account has not): return null"
        );
        assert_eq!(
            (account.used(), pool.used()),
            (600, 600),
            "a refusal charges nothing, to the account or to the pool"
        );
        let b = account.alloc(layout(400));
        assert!(!b.is_null(), "exactly up to the account's limit is allowed");
        assert_eq!((account.used(), pool.used()), (1000, 1000));
        account.dealloc(a, layout(600));
        assert_eq!(
            (account.used(), pool.used()),
            (400, 400),
            "`dealloc` gives the block's size back to the account and to the pool"
        );
        let c = account.alloc(layout(600));
        assert!(!c.is_null(), "freed bytes can be allocated again");
        account.dealloc(b, layout(400));
        account.dealloc(c, layout(600));
    }
    assert_eq!(
        (account.used(), pool.used()),
        (0, 0),
        "everything given back"
    );
    assert_eq!((account.limit(), pool.limit()), (1000, 10_000));
}

#[test]
fn the_pool_refuses_what_the_accounts_together_would_pass() {
    let pool = Pool::new(System, 1000);
    let first = pool.account(800);
    let second = pool.account(800);
    assert_eq!((first.used(), second.used(), pool.used()), (0, 0, 0));
    // SAFETY: non-zero sizes; every block is freed below with its layout.
    unsafe {
        let a = first.alloc(layout(600));
        assert!(!a.is_null(), "600 bytes fit the first account and the pool");
        let refused = second.alloc(layout(600));
        assert!(
            refused.is_null(),
            "the second account has room for 600, but the pool has only 400 left: return null"
        );
        assert_eq!(
            second.used(),
            0,
            "the pool refused, so the account's charge must be given back (else the account \
             loses 600 bytes of its limit for good)"
        );
        assert_eq!(pool.used(), 600, "the refusal charged the pool nothing");
        let b = second.alloc(layout(400));
        assert!(!b.is_null(), "exactly up to the pool's limit is allowed");
        assert_eq!((first.used(), second.used(), pool.used()), (600, 400, 1000));
        first.dealloc(a, layout(600));
        assert_eq!(
            (first.used(), pool.used()),
            (0, 400),
            "`dealloc` gives back to the account that allocated and to the pool"
        );
        let c = second.alloc(layout(400));
        assert!(
            !c.is_null(),
            "the second account may use what the first freed"
        );
        second.dealloc(b, layout(400));
        second.dealloc(c, layout(400));
    }
    assert_eq!((first.used(), second.used(), pool.used()), (0, 0, 0));
}

#[test]
fn a_failing_inner_allocator_gets_both_charges_back() {
    let requests = AtomicUsize::new(0);
    let inner = FailsAbove {
        max: 500,
        requests: &requests,
    };
    let pool = Pool::new(inner, 1000);
    let account = pool.account(1000);
    assert_eq!((account.used(), pool.used()), (0, 0));
    // SAFETY: non-zero sizes; every block is freed below with its layout.
    unsafe {
        let failed = account.alloc(layout(600));
        assert!(
            failed.is_null(),
            "the inner allocator failed: return its null"
        );
        assert_eq!(
            (account.used(), pool.used()),
            (0, 0),
            "nothing was handed out, so the charge must be given back to the account and the \
             pool (else 600 bytes of the budget are lost for good)"
        );
        // With the charge given back, the whole budget is still there.
        let a = account.alloc(layout(500));
        let b = account.alloc(layout(500));
        assert!(
            !a.is_null() && !b.is_null(),
            "after the failure, 500 + 500 bytes must still fit the 1000-byte budget"
        );
        assert_eq!((account.used(), pool.used()), (1000, 1000));
        account.dealloc(a, layout(500));
        account.dealloc(b, layout(500));
    }
    assert_eq!((account.used(), pool.used()), (0, 0));
}

#[test]
fn a_refusal_never_reaches_the_inner_allocator() {
    let requests = AtomicUsize::new(0);
    let inner = FailsAbove {
        max: usize::MAX,
        requests: &requests,
    };
    let pool = Pool::new(inner, 1000);
    let small = pool.account(100);
    let large = pool.account(5000);
    assert_eq!((small.used(), large.used(), pool.used()), (0, 0, 0));
    // SAFETY: non-zero sizes; nothing is handed out.
    unsafe {
        assert!(
            small.alloc(layout(200)).is_null(),
            "past the account's limit"
        );
        assert!(large.alloc(layout(2000)).is_null(), "past the pool's limit");
    }
    assert_eq!(
        requests.load(Ordering::Relaxed),
        0,
        "a request the budget refuses is answered with null without asking the inner allocator"
    );
    assert_eq!((small.used(), large.used(), pool.used()), (0, 0, 0));
}
