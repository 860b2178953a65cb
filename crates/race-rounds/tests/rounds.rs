//! What `Rounds` promises: fresh state per round, results in thread order,
//! panics passed through, and a racy update caught without luck.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use race_rounds::{Rounds, fill, first_mismatch};

#[test]
fn threads_get_fresh_state_and_results_in_order() {
    let rounds = if cfg!(miri) { 3 } else { 200 };
    let mut seen = Vec::new();
    let report = Rounds::new(3, rounds).run(
        |round| (round, AtomicUsize::new(0)),
        |(_, uses), thread| {
            for _ in 0..100 {
                std::hint::black_box(uses.load(Ordering::Relaxed));
            }
            uses.fetch_add(1, Ordering::Relaxed);
            thread * 10
        },
        |round, (made_for, uses), results| {
            assert_eq!(made_for, round, "each round gets its own state");
            assert_eq!(uses.into_inner(), 3, "every thread ran once");
            assert_eq!(results, vec![0, 10, 20], "results come in thread order");
            seen.push(round);
        },
    );
    assert_eq!(seen, (0..report.rounds).collect::<Vec<_>>());
    assert!(
        report.rounds >= rounds && report.overlapping >= 1,
        "{report}"
    );
}

#[test]
#[should_panic(expected = "thread 1 found a bad block")]
fn threads_panic_reaches_the_test_with_its_message() {
    Rounds::new(2, 1).run(
        |_| (),
        |_, thread| assert!(thread != 1, "thread {thread} found a bad block"),
        |_, _, _| {},
    );
}

/// The mistake these rounds exist for: an update written as load, then
/// store. Run until a round loses an update; a correct `fetch_add` never does
/// (the doc example). Natively only: it needs two cores really at once.
#[test]
#[cfg_attr(
    miri,
    ignore = "a native demonstration; under Miri, races are found by its data-race detector instead"
)]
fn threads_catch_a_lost_update() {
    const ADDS: usize = 20_000;
    let lost = Mutex::new(0usize);
    let report = Rounds::new(2, 500).run(
        |_| AtomicUsize::new(0),
        |counter, _| {
            for _ in 0..ADDS {
                let seen = counter.load(Ordering::Relaxed);
                counter.store(seen + 1, Ordering::Relaxed);
            }
        },
        |_, counter, _| {
            if counter.into_inner() < 2 * ADDS {
                *lost.lock().unwrap() += 1;
            }
        },
    );
    let lost = lost.into_inner().unwrap();
    assert!(
        lost > 0,
        "no round lost an update in {report}: the rounds did not make the race visible"
    );
}

#[test]
fn tags_show_a_shared_block() {
    let mut block = vec![0u8; 64];
    // SAFETY: `block` is 64 writable, initialised bytes.
    unsafe { fill(block.as_mut_ptr(), 64, 0xA1) };
    // SAFETY: as above.
    assert_eq!(unsafe { first_mismatch(block.as_ptr(), 64, 0xA1) }, None);
    block[40] = 0xA2;
    // SAFETY: as above.
    let found = unsafe { first_mismatch(block.as_ptr(), 64, 0xA1) };
    assert_eq!(found, Some((40, 0xA2)));
}
