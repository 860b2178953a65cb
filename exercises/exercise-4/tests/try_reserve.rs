//! The budget as the program's global allocator: a refusal surfaces as a
//! `TryReserveError` the program can handle. Alone in this test binary, so
//! nothing else shares the budget.

use std::alloc::System;

use exercise_4::Budget;

const LIMIT: usize = 64 << 20;

#[global_allocator]
static GLOBAL: Budget<System> = Budget::new(System, LIMIT);

#[test]
fn try_reserve_recovers_from_a_refusal() {
    let before = GLOBAL.used();
    assert!(before < LIMIT, "the test harness fits in the budget");

    let mut data: Vec<u8> = Vec::new();
    let refused = data.try_reserve_exact(2 * LIMIT);
    assert!(
        refused.is_err(),
        "asking for twice the budget must fail with an error, not succeed"
    );
    assert!(GLOBAL.used() < LIMIT, "the refused request charged nothing");

    // The program carries on with a request that fits.
    data.try_reserve_exact(1 << 20)
        .expect("a request within the budget succeeds after a refusal");
    data.resize(1 << 20, 7);
    assert!(GLOBAL.used() >= 1 << 20, "the accepted megabyte is charged");
    assert_eq!(data.iter().map(|&b| usize::from(b)).sum::<usize>(), 7 << 20);
}
