//! Two threads updating one tracker at the same time, round after round.
//!
//! Every round builds fresh state and releases both threads together from a
//! spin barrier ([`race_rounds::Rounds`]). Two of the races run against the
//! real [`ByteMeter`] and against a copy of it with one classic mistake, and
//! must reject the copy:
//!
//! - [`RacyPeak`] raises the peak with "load, compare, store" instead of
//!   `fetch_max`, so a smaller total can overwrite a larger one.
//! - [`RacyReset`] resets the peak with "load live, store it as the peak",
//!   so an allocation that lands in between is lost from the peak.
//! - [`StaleReset`] stores first, as it should, but re-reads the live total
//!   with a plain load, which may return a total older than the store.

use std::alloc::{GlobalAlloc, Layout};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};

use peak::{ByteMeter, PeakAlloc};
use race_rounds::{Report, Rounds, fill, first_mismatch};

const ROUNDS: usize = if cfg!(miri) { 4 } else { 2000 };
/// The most rounds a wrong meter may survive. It is usually caught much
/// sooner; the margin is for a busy machine, where the threads overlap less.
const WRONG_ROUNDS: usize = if cfg!(miri) { 100 } else { 10 * ROUNDS };

/// What the races need from a meter, so the same routine can run against
/// [`ByteMeter`] and the wrong copies below.
trait Meter: Default + Sync {
    fn add(&self, size: usize) -> usize;
    fn sub(&self, size: usize);
    fn live(&self) -> usize;
    fn peak(&self) -> usize;
    fn reset_peak(&self);
}

impl Meter for ByteMeter {
    fn add(&self, size: usize) -> usize {
        ByteMeter::add(self, size)
    }
    fn sub(&self, size: usize) {
        ByteMeter::sub(self, size)
    }
    fn live(&self) -> usize {
        ByteMeter::live(self)
    }
    fn peak(&self) -> usize {
        ByteMeter::peak(self)
    }
    fn reset_peak(&self) {
        ByteMeter::reset_peak(self)
    }
}

// --- The peak must never go down -------------------------------------------

/// Additions per thread per round.
const ADDS: usize = if cfg!(miri) { 8 } else { 1000 };

/// Both threads add to one meter. Before each addition a thread checks that
/// the peak is still at least the highest total its own additions produced:
/// the peak only ever goes up, so a lower peak means one was overwritten.
fn peak_race<M: Meter>(rounds: usize) -> Report {
    Rounds::new(2, rounds).run(
        |round| (round, M::default()),
        |(round, meter), thread| {
            let size = thread + 1;
            let mut highest_seen = 0;
            for _ in 0..ADDS {
                let peak = meter.peak();
                assert!(
                    peak >= highest_seen,
                    "round {round}: thread {thread} made the live total {highest_seen}, yet the \
                     peak is now {peak}: a smaller total overwrote the peak"
                );
                highest_seen = highest_seen.max(meter.add(size));
            }
            highest_seen
        },
        |round, (_, meter), highest_seen| {
            let added = (1 + 2) * ADDS;
            assert_eq!(meter.live(), added, "round {round}: an addition was lost");
            // Nothing is subtracted, so the last total is the highest.
            let highest = highest_seen.into_iter().max().unwrap_or(0);
            assert_eq!(highest, added, "round {round}");
            assert_eq!(
                meter.peak(),
                added,
                "round {round}: the live total reached {added}, the peak says {}: a smaller \
                 total overwrote the peak",
                meter.peak()
            );
        },
    )
}

#[test]
fn threads_never_lose_a_peak() {
    let report = peak_race::<ByteMeter>(ROUNDS);
    eprintln!("{report}");
}

/// [`ByteMeter`] with the peak raised by "load, compare, store".
#[derive(Default)]
struct RacyPeak {
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl RacyPeak {
    fn note_peak(&self, live_total: usize) {
        // THE MISTAKE: another thread can store a larger peak between this
        // load and the store below, which then overwrites it.
        if live_total > self.peak.load(Ordering::Relaxed) {
            self.peak.store(live_total, Ordering::Relaxed);
        }
    }
}

impl Meter for RacyPeak {
    fn add(&self, size: usize) -> usize {
        let previous = self.live.fetch_add(size, Ordering::Acquire);
        let now = previous.wrapping_add(size);
        self.note_peak(now);
        now
    }
    fn sub(&self, size: usize) {
        self.live.fetch_sub(size, Ordering::Relaxed);
    }
    fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
    fn reset_peak(&self) {
        self.peak.store(self.live(), Ordering::Relaxed);
        let now = self.live.fetch_add(0, Ordering::Release);
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}

/// Natively this mistake is next to invisible: between the load and the
/// store the thread holds the cache line, so the other thread almost never
/// gets in (not once in 20 000 rounds of 1000 additions each on a 2-core
/// x86 machine). Miri finds it in a few rounds: its scheduler switches
/// threads between any two operations, and a `Relaxed` load may return an
/// older peak, as the memory model allows.
#[test]
#[cfg_attr(
    not(miri),
    ignore = "natively the race window is a few cycles and almost never hit; run it under Miri"
)]
fn threads_test_rejects_a_peak_raised_by_load_compare_store() {
    expect_rejection("load, compare, store", || {
        peak_race::<RacyPeak>(WRONG_ROUNDS)
    });
}

// --- A reset must not lose a concurrent allocation ---------------------------

/// Meters per round: one thread resets them in order while the other
/// allocates on them in reverse order, so the two meet on one of them at
/// full speed in every round.
const METERS: usize = if cfg!(miri) { 4 } else { 1000 };
/// Live before the round; the peak starts higher, at `BASE + EARLIER`.
const BASE: usize = 100;
const EARLIER: usize = 1000;
/// What the allocating thread adds to each meter.
const SIZE: usize = 10;

/// Thread 0 resets the peak of every meter while thread 1 allocates on
/// every meter. Whatever the order, the peak must end at exactly the live
/// total, `BASE + SIZE`: lower means the reset lost the allocation, higher
/// means the reset did not reset.
fn reset_race<M: Meter>(rounds: usize) -> Report {
    Rounds::new(2, rounds).run(
        |_round| {
            let meters: Vec<M> = (0..METERS).map(|_| M::default()).collect();
            for meter in &meters {
                meter.add(BASE);
                meter.add(EARLIER);
                meter.sub(EARLIER);
            }
            meters
        },
        |meters, thread| {
            if thread == 0 {
                meters.iter().for_each(M::reset_peak);
            } else {
                for meter in meters.iter().rev() {
                    meter.add(SIZE);
                }
            }
        },
        |round, meters, _| {
            for (index, meter) in meters.iter().enumerate() {
                let (live, peak) = (meter.live(), meter.peak());
                assert_eq!(live, BASE + SIZE, "round {round}, meter {index}");
                assert!(
                    peak >= live,
                    "round {round}, meter {index}: the peak is {peak} but {live} bytes are \
                     live: the reset stored an old live total over a newer allocation's peak"
                );
                assert_eq!(
                    peak, live,
                    "round {round}, meter {index}: the reset did not lower the peak"
                );
            }
        },
    )
}

#[test]
fn threads_reset_peak_never_leaves_the_peak_below_live() {
    let report = reset_race::<ByteMeter>(ROUNDS);
    eprintln!("{report}");
}

/// [`ByteMeter`] with the reset written as "load live, store it as the peak".
#[derive(Default)]
struct RacyReset {
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl Meter for RacyReset {
    fn add(&self, size: usize) -> usize {
        let previous = self.live.fetch_add(size, Ordering::Acquire);
        let now = previous.wrapping_add(size);
        self.peak.fetch_max(now, Ordering::Relaxed);
        now
    }
    fn sub(&self, size: usize) {
        self.live.fetch_sub(size, Ordering::Relaxed);
    }
    fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
    fn reset_peak(&self) {
        // THE MISTAKE: an allocation between this load and the store raises
        // the old, higher peak (no change), then the store overwrites it
        // with a total that no longer counts that allocation.
        self.peak.store(self.live(), Ordering::Relaxed);
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "catching the wrong reset takes native rounds; Miri runs only a few"
)]
fn threads_test_rejects_a_reset_that_loads_then_stores() {
    expect_rejection("load live, store it as the peak", || {
        reset_race::<RacyReset>(WRONG_ROUNDS)
    });
}

/// [`ByteMeter`] with the second read of the live total a plain load
/// instead of a read-modify-write. A load may return a total older than an
/// addition whose `fetch_max` the store has already overwritten: even x86
/// lets a load run ahead of an earlier store to another address.
#[derive(Default)]
struct StaleReset {
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl Meter for StaleReset {
    fn add(&self, size: usize) -> usize {
        let previous = self.live.fetch_add(size, Ordering::Acquire);
        let now = previous.wrapping_add(size);
        self.peak.fetch_max(now, Ordering::Relaxed);
        now
    }
    fn sub(&self, size: usize) {
        self.live.fetch_sub(size, Ordering::Relaxed);
    }
    fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
    fn reset_peak(&self) {
        self.peak.store(self.live(), Ordering::Relaxed);
        // THE MISTAKE: a load may read a stale total; only a
        // read-modify-write is sure to read the latest one.
        let now = self.live.load(Ordering::Relaxed);
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}

/// Caught natively (the load runs ahead of the store still in the store
/// buffer) and under Miri (a `Relaxed` load may return an older value).
#[test]
fn threads_test_rejects_a_reset_that_rereads_with_a_plain_load() {
    expect_rejection("a plain load to re-read the live total", || {
        reset_race::<StaleReset>(WRONG_ROUNDS)
    });
}

// --- The tracker as a whole ------------------------------------------------

/// Requests per thread per round.
const REQUESTS: usize = if cfg!(miri) { 6 } else { 24 };
/// The tag each thread writes into its blocks.
const TAGS: [u8; 2] = [0xA0, 0xB1];

fn bytes(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("valid test layout")
}

/// A block one thread holds, as that thread saw it.
struct Block {
    ptr: *mut u8,
    size: usize,
}

// SAFETY: a `Block` only carries the pointer from the thread that allocated
// it to the check, which runs after that thread was joined.
unsafe impl Send for Block {}

/// Both threads allocate (plain and zeroed) and grow blocks through one
/// [`PeakAlloc`], tagging every block. Nothing is freed during a round, so
/// live and peak bytes must both equal what the threads hold, exactly.
#[test]
fn threads_sharing_a_tracker_count_every_byte() {
    let report = Rounds::new(2, ROUNDS).run(
        |_round| PeakAlloc::new(),
        |tracker, thread| {
            let mut blocks: Vec<Block> = Vec::with_capacity(REQUESTS);
            for request in 0..REQUESTS {
                let size = 8 + (request * 7 + thread * 13) % 120;
                // SAFETY: non-zero sizes; a grown block is this thread's own,
                // with the size it has, and only the new pointer is kept.
                let (ptr, size) = unsafe {
                    match (request % 3, blocks.pop()) {
                        (2, Some(last)) => {
                            let grown = last.size + size;
                            (tracker.realloc(last.ptr, bytes(last.size), grown), grown)
                        }
                        (choice, last) => {
                            blocks.extend(last);
                            let ptr = if choice == 0 {
                                tracker.alloc(bytes(size))
                            } else {
                                tracker.alloc_zeroed(bytes(size))
                            };
                            (ptr, size)
                        }
                    }
                };
                assert!(!ptr.is_null(), "thread {thread}: out of memory");
                // SAFETY: a fresh block of `size` bytes, this thread's alone.
                unsafe { fill(ptr, size, TAGS[thread]) };
                blocks.push(Block { ptr, size });
            }
            blocks
        },
        |round, tracker, per_thread| {
            let mut held = 0usize;
            for (thread, blocks) in per_thread.iter().enumerate() {
                for block in blocks {
                    // SAFETY: the block has `size` bytes, all written by its
                    // thread, which has been joined.
                    let mismatch = unsafe { first_mismatch(block.ptr, block.size, TAGS[thread]) };
                    assert_eq!(mismatch, None, "round {round}: thread {thread}'s block");
                    held = held.checked_add(block.size).expect("fits in usize");
                }
            }
            assert_eq!(
                tracker.live_bytes(),
                held,
                "round {round}: the tracker counts {} live bytes, the threads hold {held}: \
                 an update was lost",
                tracker.live_bytes()
            );
            assert_eq!(
                tracker.peak_bytes(),
                held,
                "round {round}: the peak is lost"
            );
            let calls = tracker.alloc_calls() + tracker.realloc_calls();
            assert_eq!(calls, 2 * REQUESTS, "round {round}: a call was not counted");
            for block in per_thread.into_iter().flatten() {
                // SAFETY: each block came from `tracker` with this size and
                // is freed once.
                unsafe { tracker.dealloc(block.ptr, bytes(block.size)) };
            }
            assert_eq!(tracker.live_bytes(), 0, "round {round}: bytes left behind");
        },
    );
    eprintln!("{report}");
}

// --- Helpers ----------------------------------------------------------------

/// Runs a race against a wrong meter and checks that the race failed, for
/// the race's own reason.
fn expect_rejection(mistake: &str, race: impl FnOnce() -> Report) {
    let outcome = panic::catch_unwind(AssertUnwindSafe(race));
    let Err(payload) = outcome else {
        panic!(
            "the race test passed a meter that uses \"{mistake}\" in {WRONG_ROUNDS} rounds: it \
             cannot catch that mistake"
        );
    };
    let message = if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else {
        String::from("(no message)")
    };
    eprintln!("rejected: {message}");
    assert!(
        message.contains("round ") && !message.contains("never ran at the same time"),
        "the wrong meter failed for another reason than the race: {message}"
    );
}
