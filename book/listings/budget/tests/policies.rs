//! Each policy, request by request, on local instances (exact under the
//! parallel test runner: nothing else allocates through them).

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;

use budget::{BudgetAlloc, Policy};
use peak::PeakAlloc;

/// An inner allocator that serves small blocks only, so the budget's
/// "inner allocator failed" path can be reached on demand.
struct SmallOnly {
    max: usize,
}

// SAFETY: requests above `max` get null (always allowed); the rest are
// forwarded to `System` unchanged, so its guarantees are ours.
unsafe impl GlobalAlloc for SmallOnly {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > self.max {
            return ptr::null_mut();
        }
        // SAFETY: our caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: every block we hand out came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn bytes(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("valid test layout")
}

/// Allocates `size` bytes from `budget`, which must succeed.
fn take<A: GlobalAlloc>(budget: &BudgetAlloc<A>, size: usize) -> *mut u8 {
    // SAFETY: test sizes are non-zero.
    let block = unsafe { budget.alloc(bytes(size)) };
    assert!(!block.is_null(), "{size} bytes should have been served");
    block
}

/// Frees a block `take` returned.
fn give_back<A: GlobalAlloc>(budget: &BudgetAlloc<A>, block: *mut u8, size: usize) {
    // SAFETY: `block` came from `budget` with this size and is freed once.
    unsafe { budget.dealloc(block, bytes(size)) };
}

#[test]
fn constructors_set_limit_and_policy() {
    assert_eq!(BudgetAlloc::flag_only(10).policy(), Policy::FlagOnly);
    let refusing = BudgetAlloc::refusing(20);
    assert_eq!((refusing.policy(), refusing.limit()), (Policy::Refuse, 20));
    let wrapped = BudgetAlloc::over(PeakAlloc::new(), 30, Policy::FlagOnly);
    assert_eq!(wrapped.limit(), 30);
    assert_eq!(wrapped.inner().alloc_calls(), 0);
}

#[test]
fn flag_only_serves_over_the_limit_and_raises_the_flag() {
    let budget = BudgetAlloc::flag_only(1000);
    let under = take(&budget, 1000);
    assert!(!budget.over_budget(), "exactly the limit is within budget");
    let over = take(&budget, 1);
    assert!(budget.over_budget());
    assert_eq!(budget.refusals(), 0);
    assert_eq!((budget.live_bytes(), budget.peak_bytes()), (1001, 1001));
    give_back(&budget, under, 1000);
    give_back(&budget, over, 1);
    assert!(budget.over_budget(), "the flag stays up until cleared");
    budget.clear_flag();
    assert!(!budget.over_budget());
    assert_eq!(budget.live_bytes(), 0);
}

#[test]
fn refuse_returns_null_and_counts_nothing() {
    let budget = BudgetAlloc::refusing(1000);
    let kept = take(&budget, 600);
    // SAFETY: non-zero sizes; a null result hands nothing out.
    unsafe {
        assert!(budget.alloc(bytes(401)).is_null());
        assert!(budget.alloc_zeroed(bytes(401)).is_null());
    }
    assert_eq!(budget.refusals(), 2);
    assert!(budget.over_budget());
    assert_eq!((budget.live_bytes(), budget.peak_bytes()), (600, 600));
    let rest = take(&budget, 400);
    assert_eq!(budget.live_bytes(), 1000);
    give_back(&budget, kept, 600);
    give_back(&budget, rest, 400);
    assert_eq!(budget.live_bytes(), 0);
}

#[test]
fn a_failing_inner_allocator_gets_its_reservation_back() {
    let budget = BudgetAlloc::over(SmallOnly { max: 100 }, 10_000, Policy::Refuse);
    // SAFETY: non-zero size; the inner allocator returns null.
    let block = unsafe { budget.alloc(bytes(5000)) };
    assert!(block.is_null());
    assert_eq!(budget.live_bytes(), 0, "the reservation was returned");
    assert_eq!(budget.peak_bytes(), 0, "a failed request sets no peak");
    assert_eq!(budget.refusals(), 0, "the budget itself did not refuse");
    assert!(!budget.over_budget());
}

#[test]
fn growing_realloc_respects_the_limit_under_both_policies() {
    for policy in [Policy::Refuse, Policy::FlagOnly] {
        let budget = BudgetAlloc::over(System, 1000, policy);
        let block = take(&budget, 500);
        // SAFETY: `block` has 500 bytes; after a successful realloc only the
        // returned pointer is used, with its new size.
        unsafe {
            block.write(9);
            let grown = budget.realloc(block, bytes(500), 1001);
            match policy {
                Policy::Refuse => {
                    assert!(grown.is_null(), "growth past the limit is refused");
                    assert_eq!(block.read(), 9, "the old block is untouched");
                    assert_eq!(budget.live_bytes(), 500);
                    assert_eq!(budget.refusals(), 1);
                    let fits = budget.realloc(block, bytes(500), 1000);
                    assert!(!fits.is_null());
                    assert_eq!(fits.read(), 9);
                    assert_eq!(budget.live_bytes(), 1000);
                    give_back(&budget, fits, 1000);
                }
                Policy::FlagOnly => {
                    assert!(!grown.is_null());
                    assert_eq!(grown.read(), 9);
                    assert_eq!(budget.live_bytes(), 1001);
                    give_back(&budget, grown, 1001);
                }
            }
        }
        assert!(budget.over_budget(), "{policy:?}");
        assert_eq!(budget.live_bytes(), 0, "{policy:?}");
    }
}

#[test]
fn shrinking_is_allowed_even_over_a_lowered_limit() {
    let budget = BudgetAlloc::refusing(1000);
    let block = take(&budget, 800);
    budget.set_limit(100);
    // SAFETY: `block` has 800 bytes; only the returned pointer is used after.
    let shrunk = unsafe { budget.realloc(block, bytes(800), 200) };
    assert!(!shrunk.is_null());
    assert_eq!(budget.live_bytes(), 200);
    assert_eq!(budget.refusals(), 0);
    give_back(&budget, shrunk, 200);
}

#[test]
fn limit_and_policy_change_at_run_time() {
    let budget = BudgetAlloc::refusing(100);
    // SAFETY: non-zero size; a null result hands nothing out.
    assert!(unsafe { budget.alloc(bytes(200)) }.is_null());
    budget.set_limit(300);
    let block = take(&budget, 200);
    budget.set_policy(Policy::FlagOnly);
    assert_eq!(budget.policy(), Policy::FlagOnly);
    let extra = take(&budget, 200);
    assert_eq!(budget.live_bytes(), 400);
    assert_eq!(budget.refusals(), 1);
    give_back(&budget, block, 200);
    give_back(&budget, extra, 200);
}

#[test]
fn an_inner_peak_tracker_sees_only_what_was_admitted() {
    let budget = BudgetAlloc::over(PeakAlloc::new(), 4096, Policy::Refuse);
    let block = take(&budget, 4000);
    // SAFETY: non-zero size; a null result hands nothing out.
    assert!(unsafe { budget.alloc(bytes(200)) }.is_null());
    assert_eq!(
        budget.inner().alloc_calls(),
        1,
        "the refused request never reached it"
    );
    assert_eq!(budget.inner().live_bytes(), 4000);
    give_back(&budget, block, 4000);
    assert_eq!(budget.inner().live_bytes(), 0);
}
