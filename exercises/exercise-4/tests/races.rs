//! Two threads at once on a small budget, many short rounds, each with fresh
//! accounts on a pool that the previous round left empty (see the
//! `race-rounds` crate). A race that loses in one round in a
//! hundred is still caught: the rounds are many and the threads start
//! together. Under Miri (`cargo workbook check 4 --miri`) the same tests
//! explore thread schedules instead of relying on timing.

use std::alloc::{GlobalAlloc, Layout, System};

use exercise_4::{Account, Pool};
use race_rounds::{Rounds, fill, first_mismatch};

/// The size of every block in these tests.
const BLOCK: usize = 64;
/// Rounds per test: many natively, a few under Miri (it explores schedules).
const ROUNDS: usize = if cfg!(miri) { 4 } else { 2000 };

fn block() -> Layout {
    Layout::from_size_align(BLOCK, 8).expect("a valid layout")
}

/// `n` blocks' worth of bytes, for limits and expected totals.
fn blocks(n: usize) -> usize {
    n.checked_mul(BLOCK).expect("a small number of blocks")
}

/// A block a thread was granted, with the tag it wrote into every byte.
struct Granted {
    ptr: *mut u8,
    tag: u8,
}

// SAFETY: a `Granted` is moved to the verifying thread only after the thread
// that filled it has finished (the round joins it), and then only that one
// thread reads and frees it.
unsafe impl Send for Granted {}

/// Takes up to `tries` blocks from `account`, tagging each with the thread's
/// own byte, and keeps them.
fn grab<A: GlobalAlloc>(account: &Account<'_, A>, tries: usize, tag: u8) -> Vec<Granted> {
    let mut granted = Vec::with_capacity(tries);
    for _ in 0..tries {
        // SAFETY: a non-zero size.
        let ptr = unsafe { account.alloc(block()) };
        if !ptr.is_null() {
            // SAFETY: the block is `BLOCK` bytes, ours alone.
            unsafe { fill(ptr, BLOCK, tag) };
            granted.push(Granted { ptr, tag });
        }
    }
    granted
}

/// Checks every block still holds its thread's tag, then frees it through
/// `account`.
fn check_and_free<A: GlobalAlloc>(round: usize, account: &Account<'_, A>, granted: Vec<Granted>) {
    for Granted { ptr, tag } in granted {
        // SAFETY: a live block of `BLOCK` bytes, filled by its thread, which
        // has finished.
        let mismatch = unsafe { first_mismatch(ptr, BLOCK, tag) };
        assert_eq!(
            mismatch, None,
            "round {round}: a block lost its thread's tag, so two threads were handed the same bytes"
        );
        // SAFETY: allocated by `account` with this layout, freed once.
        unsafe { account.dealloc(ptr, block()) };
    }
}

fn tag(thread: usize) -> u8 {
    b'A'.checked_add(u8::try_from(thread).expect("few threads"))
        .expect("few threads")
}

/// The block one account holds through a whole round.
struct Held(*mut u8);

// SAFETY: the racing threads never touch the held block; only the round's
// setup and check, on the test's own thread, use the pointer.
unsafe impl Sync for Held {}

/// Each thread's blocks, after a round.
type Blocks = Vec<Granted>;

/// The total number of blocks granted in a round.
fn total(results: &[Blocks]) -> usize {
    results
        .iter()
        .try_fold(0usize, |sum, granted| sum.checked_add(granted.len()))
        .expect("a handful of blocks")
}

#[test]
fn two_accounts_never_overshoot_the_shared_pool_threads() {
    const FITS: usize = 4;
    let pool = Pool::new(System, blocks(FITS));
    let report = Rounds::new(2, ROUNDS).run(
        |round| {
            assert_eq!(pool.used(), 0, "round {round} starts with an empty pool");
            // Each account could take the whole pool: only the pool limits.
            [pool.account(blocks(FITS)), pool.account(blocks(FITS))]
        },
        |accounts, thread| grab(&accounts[thread], FITS, tag(thread)),
        |round, accounts, results| {
            let granted = total(&results);
            assert!(
                granted <= FITS,
                "round {round}: the pool has room for {FITS} blocks, but the two accounts were \
                 granted {granted}: both threads passed the same check before either charged \
                 (check and charge the pool in ONE atomic step)"
            );
            assert_eq!(
                granted, FITS,
                "round {round}: {FITS} blocks fit and the threads asked for twice that, yet \
                 only {granted} were granted: a request was refused while there was room"
            );
            assert_eq!(
                pool.used(),
                blocks(FITS),
                "round {round}: the pool is charged for every block granted"
            );
            for ((thread, account), granted) in accounts.iter().enumerate().zip(results) {
                assert_eq!(
                    account.used(),
                    blocks(granted.len()),
                    "round {round}: thread {thread}'s account is charged for its blocks"
                );
                check_and_free(round, account, granted);
                assert_eq!(account.used(), 0, "round {round}: every block given back");
            }
            assert_eq!(
                pool.used(),
                0,
                "round {round}: the pool got every block back"
            );
        },
    );
    println!("{report}");
}

#[test]
fn two_threads_on_one_account_never_overshoot_it_threads() {
    const FITS: usize = 4;
    // The pool has plenty of room: only the shared account limits.
    let pool = Pool::new(System, blocks(FITS * 16));
    let report = Rounds::new(2, ROUNDS).run(
        |round| {
            assert_eq!(pool.used(), 0, "round {round} starts with an empty pool");
            pool.account(blocks(FITS))
        },
        |account, thread| grab(account, FITS, tag(thread)),
        |round, account, results| {
            let granted = total(&results);
            assert!(
                granted <= FITS,
                "round {round}: the account has room for {FITS} blocks, but its two threads \
                 were granted {granted}: both passed the same check before either charged \
                 (check and charge the account in ONE atomic step)"
            );
            assert_eq!(
                granted, FITS,
                "round {round}: {FITS} blocks fit and the threads asked for twice that, yet \
                 only {granted} were granted: a request was refused while there was room"
            );
            assert_eq!(
                (account.used(), pool.used()),
                (blocks(FITS), blocks(FITS)),
                "round {round}: the account and the pool are charged for every block granted"
            );
            for granted in results {
                check_and_free(round, &account, granted);
            }
            assert_eq!(
                (account.used(), pool.used()),
                (0, 0),
                "round {round}: every block given back"
            );
        },
    );
    println!("{report}");
}

#[test]
fn a_refused_request_never_crowds_out_one_that_fits_threads() {
    // Thread 0 holds one block and keeps asking for more than its accounts
    // or the pool allow; thread 1 takes and frees one block at a time. At
    // most two blocks are ever live, so thread 1's block always fits, and
    // must be granted every time, however the requests interleave.
    const TRIES: usize = if cfg!(miri) { 4 } else { 100 };
    let pool = Pool::new(System, blocks(3));
    let report = Rounds::new(2, ROUNDS).run(
        |round| {
            assert_eq!(pool.used(), 0, "round {round} starts with an empty pool");
            let holder = pool.account(blocks(2));
            let roomy = pool.account(blocks(4));
            let steady = pool.account(blocks(1));
            // SAFETY: a non-zero size; freed in the check below.
            let held = unsafe { holder.alloc(block()) };
            assert!(!held.is_null(), "round {round}: the first block fits");
            (holder, roomy, steady, Held(held))
        },
        |(holder, roomy, steady, _), thread| {
            let mut granted = 0usize;
            let mut refused = 0usize;
            for _ in 0..TRIES {
                if thread == 0 {
                    // 1 + 2 blocks: past `holder`'s limit of 2 (the pool
                    // alone would have room when thread 1 holds nothing).
                    // SAFETY: a non-zero size; a granted block is kept.
                    let past_account = unsafe { holder.alloc(grown(2)) };
                    // 3 blocks: within `roomy`'s limit, past the pool's
                    // (1 held + 3 > 3).
                    // SAFETY: as above.
                    let past_pool = unsafe { roomy.alloc(grown(3)) };
                    for (ptr, size) in [(past_account, 2), (past_pool, 3)] {
                        if !ptr.is_null() {
                            granted = granted.checked_add(1).expect("few tries");
                            let account = if size == 2 { holder } else { roomy };
                            // SAFETY: just allocated by `account` with this
                            // layout, freed once.
                            unsafe { account.dealloc(ptr, grown(size)) };
                        }
                    }
                } else {
                    // SAFETY: a non-zero size; freed right below.
                    let ptr = unsafe { steady.alloc(block()) };
                    if ptr.is_null() {
                        refused = refused.checked_add(1).expect("few tries");
                        continue;
                    }
                    // SAFETY: `BLOCK` bytes, ours alone until freed.
                    let mismatch = unsafe {
                        fill(ptr, BLOCK, tag(thread));
                        first_mismatch(ptr, BLOCK, tag(thread))
                    };
                    assert_eq!(mismatch, None, "a block was shared with another thread");
                    // SAFETY: allocated by `steady` with this layout, freed once.
                    unsafe { steady.dealloc(ptr, block()) };
                }
            }
            (granted, refused)
        },
        |round, (holder, roomy, steady, held), results| {
            let ((granted, _), (_, refused)) = (results[0], results[1]);
            assert_eq!(
                granted, 0,
                "round {round}: a request past an account's or the pool's limit was granted"
            );
            assert_eq!(
                refused, 0,
                "round {round}: a one-block request was refused {refused} time(s) although at \
                 most two of the pool's three blocks were live: another thread's refused \
                 request held headroom it never got (a total over a limit was stored, even \
                 briefly: add-then-undo, or the pool charged before the account refused)"
            );
            // SAFETY: allocated by `holder` with this layout in the setup.
            unsafe { holder.dealloc(held.0, block()) };
            assert_eq!(
                (holder.used(), roomy.used(), steady.used(), pool.used()),
                (0, 0, 0, 0),
                "round {round}: every account and the pool are back to zero"
            );
        },
    );
    println!("{report}");
}

/// A layout of `n` blocks.
fn grown(n: usize) -> Layout {
    Layout::from_size_align(blocks(n), 8).expect("a valid layout")
}
