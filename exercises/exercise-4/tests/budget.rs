//! The budget's promises, each on its own local budget so the counts are
//! exact under the parallel test runner.

use std::alloc::{GlobalAlloc, Layout, System};

use exercise_4::Budget;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("a valid layout")
}

#[test]
fn refuses_past_the_limit_and_recovers_after_a_free() {
    let budget = Budget::new(System, 1000);
    // SAFETY: non-zero sizes; every block is freed below with its layout.
    unsafe {
        let a = budget.alloc(layout(600));
        assert!(!a.is_null(), "600 of 1000 bytes fit");
        assert_eq!(budget.used(), 600);
        let refused = budget.alloc(layout(600));
        assert!(
            refused.is_null(),
            "1200 bytes exceed the 1000-byte budget: return null"
        );
        assert_eq!(budget.used(), 600, "a refusal charges nothing");
        let b = budget.alloc(layout(400));
        assert!(!b.is_null(), "exactly up to the limit is allowed");
        assert_eq!(budget.used(), 1000);
        budget.dealloc(a, layout(600));
        assert_eq!(budget.used(), 400);
        let c = budget.alloc(layout(600));
        assert!(!c.is_null(), "freed bytes can be allocated again");
        budget.dealloc(b, layout(400));
        budget.dealloc(c, layout(600));
    }
    assert_eq!(budget.used(), 0);
    assert_eq!(budget.limit(), 1000);
}

#[test]
fn two_threads_never_overshoot() {
    const BLOCK: usize = 64;
    const FITS: usize = 1000;
    let budget = Budget::new(System, BLOCK * FITS);
    // Both threads try to take all of it; together they may get FITS blocks.
    let granted: Vec<Vec<usize>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    (0..FITS)
                        // SAFETY: a non-zero size.
                        .map(|_| unsafe { budget.alloc(layout(BLOCK)) })
                        .filter(|p| !p.is_null())
                        .map(|p| p.expose_provenance())
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect()
    });
    let total: usize = granted.iter().map(Vec::len).sum();
    assert_eq!(
        total, FITS,
        "exactly {FITS} blocks fit; more means a race (check and charge in ONE atomic step)"
    );
    assert_eq!(budget.used(), BLOCK * FITS);
    for addr in granted.into_iter().flatten() {
        // SAFETY: each address is a live block from `budget` with this layout.
        unsafe { budget.dealloc(std::ptr::with_exposed_provenance_mut(addr), layout(BLOCK)) };
    }
    assert_eq!(budget.used(), 0);
}
