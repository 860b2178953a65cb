//! Two threads hammer one refusing budget through its `GlobalAlloc`
//! methods. The budget is a local instance, so the parallel test runner's
//! own allocations do not touch it.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use budget::{BudgetAlloc, Policy};
use peak::PeakAlloc;

const LIMIT: usize = 64 * 1024;
const ROUNDS: usize = 20_000;
/// Blocks each thread keeps alive at once: enough to press on the limit.
const HELD: usize = 16;

/// A small xorshift generator: sizes that look random but repeat per seed.
struct Sizes(u64);

impl Sizes {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        1 + (self.0 % 8192) as usize
    }
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 16).expect("valid test layout")
}

/// Allocates, grows and frees blocks of random sizes, recording the highest
/// live total it ever observes right after a successful request.
fn hammer<A: GlobalAlloc>(budget: &BudgetAlloc<A>, seed: u64, max_seen: &AtomicUsize) {
    let mut sizes = Sizes(seed);
    let mut held: [Option<(*mut u8, usize)>; HELD] = [None; HELD];
    for round in 0..ROUNDS {
        let slot = &mut held[round % HELD];
        // SAFETY: every block is used with the size it currently has and is
        // freed exactly once, by the allocator that produced it.
        unsafe {
            match *slot {
                Some((block, size)) if round % 3 == 0 => {
                    let new_size = sizes.next();
                    let moved = budget.realloc(block, layout(size), new_size);
                    if !moved.is_null() {
                        *slot = Some((moved, new_size));
                    }
                }
                Some((block, size)) => {
                    budget.dealloc(block, layout(size));
                    *slot = None;
                }
                None => {
                    let size = sizes.next();
                    let block = if round % 2 == 0 {
                        budget.alloc(layout(size))
                    } else {
                        budget.alloc_zeroed(layout(size))
                    };
                    if !block.is_null() {
                        *slot = Some((block, size));
                    }
                }
            }
        }
        max_seen.fetch_max(budget.live_bytes(), Ordering::Relaxed);
    }
    for (block, size) in held.into_iter().flatten() {
        // SAFETY: still held, so not freed yet; freed with its own size.
        unsafe { budget.dealloc(block, layout(size)) };
    }
}

#[test]
fn two_threads_never_push_live_bytes_over_the_limit() {
    // The inner tracker measures what really reached the system allocator.
    let budget = BudgetAlloc::over(PeakAlloc::new(), LIMIT, Policy::Refuse);
    let max_seen = AtomicUsize::new(0);
    thread::scope(|s| {
        for seed in [0x9E37_79B9_7F4A_7C15, 0xD1B5_4A32_D192_ED03] {
            let (budget, max_seen) = (&budget, &max_seen);
            s.spawn(move || hammer(budget, seed, max_seen));
        }
    });

    let max_seen = max_seen.load(Ordering::Relaxed);
    assert!(
        max_seen <= LIMIT,
        "observed {max_seen} live bytes, limit {LIMIT}"
    );
    assert!(budget.peak_bytes() <= LIMIT, "peak {}", budget.peak_bytes());
    assert!(
        budget.inner().peak_bytes() <= LIMIT,
        "inner peak {}",
        budget.inner().peak_bytes()
    );
    assert!(
        budget.refusals() > 0,
        "the test must actually reach the limit"
    );
    assert!(budget.over_budget());
    assert_eq!(budget.live_bytes(), 0, "every reservation was given back");
    assert_eq!(budget.inner().live_bytes(), 0);
}

#[test]
fn flag_only_serves_everything_but_remembers() {
    // One thread alone holds more than a quarter of LIMIT at some point
    // (fixed seeds), and the budget counts both threads.
    let budget = BudgetAlloc::over(PeakAlloc::new(), LIMIT / 4, Policy::FlagOnly);
    let max_seen = AtomicUsize::new(0);
    thread::scope(|s| {
        for seed in [7, 11] {
            let (budget, max_seen) = (&budget, &max_seen);
            s.spawn(move || hammer(budget, seed, max_seen));
        }
    });
    assert_eq!(budget.refusals(), 0);
    assert!(
        budget.peak_bytes() > budget.limit(),
        "peak {}",
        budget.peak_bytes()
    );
    assert!(budget.over_budget());
    assert_eq!(budget.live_bytes(), 0);
    assert_eq!(budget.inner().live_bytes(), 0);
}
