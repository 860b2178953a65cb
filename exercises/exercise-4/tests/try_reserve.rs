//! An account as the program's global allocator: a refusal surfaces as a
//! `TryReserveError` the program can handle. Alone in this test binary, so
//! nothing else shares the budget.

use std::alloc::System;

use exercise_4::{Account, Pool};

/// Room for the test harness and the test together.
const POOL_LIMIT: usize = 64 << 20;
/// The program's own account: less than the pool.
const ACCOUNT_LIMIT: usize = 32 << 20;
/// What the program keeps after the refusal (smaller under Miri, which
/// interprets every byte written).
const KEEP: usize = if cfg!(miri) { 4 << 10 } else { 1 << 20 };

static POOL: Pool<System> = Pool::new(System, POOL_LIMIT);

#[global_allocator]
static GLOBAL: Account<'static, System> = POOL.account(ACCOUNT_LIMIT);

#[test]
fn try_reserve_recovers_from_a_refusal() {
    let before = GLOBAL.used();
    assert!(
        before < ACCOUNT_LIMIT,
        "the test harness fits in the account"
    );

    // Room in the pool, none in the account: refused all the same.
    let mut data: Vec<u8> = Vec::new();
    let refused = data.try_reserve_exact(ACCOUNT_LIMIT + (ACCOUNT_LIMIT / 2));
    assert!(
        refused.is_err(),
        "asking for more than the account's limit must fail with an error, not succeed"
    );
    assert!(
        GLOBAL.used() < ACCOUNT_LIMIT && POOL.used() < ACCOUNT_LIMIT,
        "the refused request charged nothing"
    );

    // The program carries on with a request that fits.
    data.try_reserve_exact(KEEP)
        .expect("a request within the budget succeeds after a refusal");
    data.resize(KEEP, 7);
    assert!(GLOBAL.used() >= KEEP, "the accepted bytes are charged");
    assert_eq!(
        data.iter().map(|&b| usize::from(b)).sum::<usize>(),
        KEEP.checked_mul(7).expect("a small sum")
    );
}
