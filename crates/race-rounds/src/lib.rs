//! Race tests that do not rely on luck.
//!
//! A two-thread test that spawns its threads and lets each do a thousand
//! allocations mostly measures the operating system: the first thread is
//! often finished before the second has started, and a racy allocator passes.
//! [`Rounds`] runs many short rounds instead. In each round it builds fresh
//! state (a small arena, a small budget), releases all threads at once from a
//! spin barrier, and hands the state and the threads' results to a check.
//! It also counts the rounds in which the threads really ran at the same
//! time, and refuses to report success when they never did: such a run
//! proves nothing about races.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use race_rounds::Rounds;
//!
//! let report = Rounds::new(2, 50).run(
//!     |_round| AtomicUsize::new(0),
//!     |counter, _thread| {
//!         for _ in 0..100 {
//!             counter.fetch_add(1, Ordering::Relaxed);
//!         }
//!     },
//!     |round, counter, _results| {
//!         assert_eq!(counter.into_inner(), 200, "round {round} lost an update");
//!     },
//! );
//! assert!(report.rounds >= 50);
//! ```
//!
//! Native runs make a race likely, never certain. Under Miri the same tests
//! become a proof for the schedules Miri explores: run them with
//! `-Zmiri-many-seeds`.

use std::fmt;
use std::hint::spin_loop;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// When no round has overlapped yet, rounds go on until ten times as many
/// as asked have run AND this much time has passed: a busy machine gets time,
/// not only attempts.
const RETRY_FACTOR: usize = 10;
const RETRY_TIME: Duration = Duration::from_secs(10);

/// Spins before a waiting thread starts yielding its core, so a thread that
/// has not been scheduled yet gets to arrive.
const SPINS_BEFORE_YIELD: u32 = 1_000;

/// A race test: `threads` threads, at least `rounds` rounds.
#[derive(Debug, Clone, Copy)]
pub struct Rounds {
    threads: usize,
    rounds: usize,
}

/// What a [`Rounds::run`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Rounds run (more than asked when the first ones never overlapped).
    pub rounds: usize,
    /// Rounds in which at least two threads ran at the same time: each
    /// started before the other finished.
    pub overlapping: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "threads overlapped in {} of {} rounds",
            self.overlapping, self.rounds
        )
    }
}

impl Rounds {
    /// A test of `threads` threads (at least 2) over `rounds` rounds (at
    /// least 1).
    pub fn new(threads: usize, rounds: usize) -> Self {
        assert!(threads >= 2, "a race needs at least two threads");
        assert!(rounds >= 1, "at least one round");
        Self { threads, rounds }
    }

    /// Runs the rounds. For each round number: `setup(round)` builds the
    /// state, every thread runs `body(&state, thread_index)` at once, then
    /// `verify(round, state, results)` checks the outcome (results in thread
    /// order). A panic in `body` or `verify` fails the test with its own
    /// message.
    ///
    /// The state moves into `verify`. When blocks handed out during the
    /// round point into it, keep the memory behind an `Arc` (or a reference
    /// the test owns) rather than a `Box`: moving a `Box` asserts it is the
    /// only way to reach its memory, so Miri rightly treats pointers made
    /// before the move as invalid.
    ///
    /// # Panics
    /// Besides the panics of `body` and `verify`: when no round overlapped
    /// even after ten times as many rounds and ten seconds, because a test
    /// whose threads never ran together has tested nothing.
    pub fn run<S, R>(
        &self,
        mut setup: impl FnMut(usize) -> S,
        body: impl Fn(&S, usize) -> R + Sync,
        mut verify: impl FnMut(usize, S, Vec<R>),
    ) -> Report
    where
        S: Sync,
        R: Send,
    {
        let mut report = Report {
            rounds: 0,
            overlapping: 0,
        };
        let most = self.rounds.saturating_mul(RETRY_FACTOR);
        let started = Instant::now();
        let keep_trying = |report: &Report| report.rounds < most || started.elapsed() < RETRY_TIME;
        while report.rounds < self.rounds || (report.overlapping == 0 && keep_trying(&report)) {
            let round = report.rounds;
            let state = setup(round);
            let (results, overlapped) = self.one_round(&state, &body);
            verify(round, state, results);
            report.rounds += 1;
            if overlapped {
                report.overlapping += 1;
            }
        }
        assert!(
            report.overlapping > 0,
            "the {} threads never ran at the same time in {} rounds, so this run says nothing \
             about races (is the machine very busy, or has it one core?). Run it again, or run \
             the test under Miri, which explores thread schedules itself.",
            self.threads,
            report.rounds
        );
        report
    }

    /// One round: spawn, release together, join. Returns the results in
    /// thread order and whether two threads ran at the same time.
    fn one_round<S: Sync, R: Send>(
        &self,
        state: &S,
        body: &(impl Fn(&S, usize) -> R + Sync),
    ) -> (Vec<R>, bool) {
        let arrived = AtomicUsize::new(0);
        // One shared clock orders every start and end: SeqCst read-modify-
        // writes on one atomic form a single total order.
        let clock = AtomicUsize::new(0);
        let threads = self.threads;
        let outcomes: Vec<(R, usize, usize)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|thread| {
                    let (arrived, clock) = (&arrived, &clock);
                    scope.spawn(move || {
                        arrived.fetch_add(1, Ordering::SeqCst);
                        let mut spins = 0u32;
                        while arrived.load(Ordering::SeqCst) < threads {
                            if spins < SPINS_BEFORE_YIELD {
                                spins += 1;
                                spin_loop();
                            } else {
                                std::thread::yield_now();
                            }
                        }
                        let start = clock.fetch_add(1, Ordering::SeqCst);
                        let result = body(state, thread);
                        let end = clock.fetch_add(1, Ordering::SeqCst);
                        (result, start, end)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| match handle.join() {
                    Ok(outcome) => outcome,
                    // The thread's own panic message is the one to show.
                    Err(payload) => std::panic::resume_unwind(payload),
                })
                .collect()
        });
        // Two threads ran at once when each started before the other ended.
        let overlapped = outcomes
            .iter()
            .enumerate()
            .any(|(i, a)| outcomes[i + 1..].iter().any(|b| a.1 < b.2 && b.1 < a.2));
        let results = outcomes.into_iter().map(|o| o.0).collect();
        (results, overlapped)
    }
}

/// Writes `tag` into each of the `len` bytes at `ptr`: a thread marks the
/// blocks it was given, so a block handed to two threads shows the wrong tag.
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes.
pub unsafe fn fill(ptr: *mut u8, len: usize, tag: u8) {
    // SAFETY: the caller guarantees `ptr..ptr + len` is writable.
    unsafe { ptr.write_bytes(tag, len) }
}

/// The first of the `len` bytes at `ptr` that is not `tag`, as (offset,
/// byte found), or `None` when every byte still holds the tag.
///
/// # Safety
/// `ptr` must be valid for reads of `len` initialised bytes.
pub unsafe fn first_mismatch(ptr: *const u8, len: usize, tag: u8) -> Option<(usize, u8)> {
    // SAFETY: the caller guarantees `ptr..ptr + len` is readable and
    // initialised.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    bytes
        .iter()
        .position(|&b| b != tag)
        .map(|offset| (offset, bytes[offset]))
}
