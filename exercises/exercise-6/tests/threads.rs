//! Two threads on one pool at once. Each round builds a fresh, small pool,
//! releases both threads together, and every block carries its thread's
//! tag, so a block given to two owners shows the other thread's bytes.
//!
//! A native run makes a broken lock likely to fail, never certain; under
//! Miri (`cargo workbook check 6 --miri`) a missing happens-before is a data
//! race report in the schedules it explores.

mod common;

use std::alloc::{GlobalAlloc, Layout};
use std::collections::VecDeque;

use common::{Fresh, NOT_SOLVED, alloc, layout};
use race_rounds::{Rounds, fill, first_mismatch};

const ROUNDS: usize = if cfg!(miri) { 2 } else { 2000 };
/// Allocations per thread per round.
const OPS: usize = if cfg!(miri) { 6 } else { 32 };

/// Checks the tag of a block a thread is about to free, then frees it.
fn check_and_free(
    pool: &exercise_6::Pool,
    ptr: *mut u8,
    layout: Layout,
    tag: u8,
) -> Result<(), String> {
    // SAFETY: `ptr` is a live block of `layout.size()` bytes this thread
    // filled with `tag`.
    let mismatch = unsafe { first_mismatch(ptr, layout.size(), tag) };
    // SAFETY: `ptr` came from `pool` with `layout`.
    unsafe { pool.dealloc(ptr, layout) };
    match mismatch {
        None => Ok(()),
        Some((offset, found)) => Err(format!(
            "thread {tag} filled its {}-byte block with {tag}, but byte {offset} now holds \
             {found}: the pool gave the same block to both threads",
            layout.size()
        )),
    }
}

#[test]
fn threads_never_share_a_block() {
    const HELD: usize = 2;
    const BLOCKS: usize = 8;
    let block = layout(64, 8);
    // Each thread holds at most HELD blocks, so at most 2 * HELD are live
    // at once and a solved pool never needs more than a few more than that
    // (a block freed just after another thread found the list empty).
    let report = Rounds::new(2, ROUNDS).run(
        |_round| Fresh::new(BLOCKS * 64),
        |fresh, thread| -> Result<(), String> {
            let pool = &fresh.pool;
            let tag = u8::try_from(thread + 1).expect("two threads");
            let mut held = VecDeque::with_capacity(HELD);
            let mut outcome = Ok(());
            for _ in 0..OPS {
                if held.len() == HELD
                    && let Some(oldest) = held.pop_front()
                {
                    outcome = outcome.and(check_and_free(pool, oldest, block, tag));
                }
                let ptr = alloc(pool, block);
                if !pool.owns(ptr) {
                    outcome = outcome.and(Err(format!(
                        "{NOT_SOLVED}. At most {} blocks of 64 bytes are in use at once and \
                         the region holds {BLOCKS}, so a solved pool never runs out: a freed \
                         block was lost instead of reused",
                        2 * HELD
                    )));
                }
                // SAFETY: the block is ours: 64 writable bytes.
                unsafe { fill(ptr, 64, tag) };
                held.push_back(ptr);
            }
            for ptr in held {
                outcome = outcome.and(check_and_free(pool, ptr, block, tag));
            }
            outcome
        },
        |round, fresh, results| {
            for result in results {
                if let Err(message) = result {
                    panic!("round {round}: {message}");
                }
            }
            // Every block is free again: each carved block must be on the
            // list exactly once.
            let pool = &fresh.pool;
            let carved = pool.carved();
            let count = carved / 64;
            let mut again: Vec<_> = (0..count).map(|_| alloc(pool, block)).collect();
            assert!(
                again.iter().all(|&ptr| pool.owns(ptr)) && pool.carved() == carved,
                "round {round}: after both threads freed all {count} carved blocks, the free \
                 list no longer holds them all: a push was lost"
            );
            again.sort();
            again.dedup();
            assert_eq!(
                again.len(),
                count,
                "round {round}: the free list handed out one block twice: two pushes or pops \
                 overlapped"
            );
            for ptr in again {
                // SAFETY: each came from `pool` with `block`.
                unsafe { pool.dealloc(ptr, block) };
            }
        },
    );
    println!("{report}");
}

#[test]
fn threads_with_mixed_layouts_get_fitting_blocks() {
    const HELD: usize = 3;
    // Sizes and alignments of every class, and one too large for any; the
    // region is small, so some requests also find it full and go to System.
    const LAYOUTS: [(usize, usize); 8] = [
        (1, 1),
        (24, 8),
        (16, 64),
        (64, 16),
        (100, 4),
        (128, 128),
        (8, 32),
        (200, 8),
    ];
    let report = Rounds::new(2, ROUNDS).run(
        |_round| Fresh::new(512),
        |fresh, thread| -> Result<usize, String> {
            let pool = &fresh.pool;
            let tag = u8::try_from(thread + 1).expect("two threads");
            let mut held = VecDeque::with_capacity(HELD);
            let mut from_region = 0;
            let mut outcome = Ok(());
            for op in 0..OPS {
                if held.len() == HELD
                    && let Some((oldest, was)) = held.pop_front()
                {
                    outcome = outcome.and(check_and_free(pool, oldest, was, tag));
                }
                let (size, align) = LAYOUTS[(op + 3 * thread) % LAYOUTS.len()];
                let wanted = layout(size, align);
                let ptr = alloc(pool, wanted);
                if !ptr.addr().is_multiple_of(align) {
                    outcome = outcome.and(Err(format!(
                        "a block for {size} bytes aligned to {align} is at {ptr:p}, not a \
                         multiple of {align}"
                    )));
                    // Misaligned: do not write through it; System will not
                    // have made it, so hand it back.
                    // SAFETY: `ptr` came from `pool` with `wanted`.
                    unsafe { pool.dealloc(ptr, wanted) };
                    continue;
                }
                if pool.owns(ptr) {
                    from_region += 1;
                }
                // SAFETY: the block is ours: `size` writable bytes.
                unsafe { fill(ptr, size, tag) };
                held.push_back((ptr, wanted));
            }
            for (ptr, was) in held {
                outcome = outcome.and(check_and_free(pool, ptr, was, tag));
            }
            outcome.map(|()| from_region)
        },
        |round, _fresh, results| {
            let mut from_region = 0;
            for result in results {
                match result {
                    Ok(count) => from_region += count,
                    Err(message) => panic!("round {round}: {message}"),
                }
            }
            assert!(from_region > 0, "round {round}: {NOT_SOLVED}");
        },
    );
    println!("{report}");
}
