//! Two threads on one tracker. Each test runs many short rounds, and each
//! round many steps: every step has a fresh tracker of its own, the two
//! threads enter it together (they move in lockstep), and after the step one
//! thread records what the tracker says, for the round's check to compare
//! with the exact answer. A racy update (a `load` and a separate `store`)
//! loses a change in some steps; `cargo workbook check 2 --miri` explores
//! thread schedules instead of waiting for an unlucky one.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::spin_loop;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use exercise_2::{ClassPeaks, SizeClass};
use race_rounds::{Rounds, fill, first_mismatch};

const ROUNDS: usize = if cfg!(miri) { 2 } else { 100 };
const STEPS: usize = if cfg!(miri) { 4 } else { 64 };

/// Steps delay one thread by 0, 1, … `DELAY_STEPS - 1` spins in turn, so
/// the two threads meet at many different offsets.
const DELAY_STEPS: usize = 16;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("a valid layout")
}

fn spin(steps: usize) {
    for _ in 0..steps {
        spin_loop();
    }
}

/// A block a thread allocated and tagged.
struct Block {
    ptr: NonNull<u8>,
    size: usize,
    tag: u8,
}

// SAFETY: a `Block` owns its heap allocation; one thread uses it at a time
// (the one that allocated it, then the round's check after the join).
unsafe impl Send for Block {}
// SAFETY: a shared `Block` gives access to its fields only, never to the
// bytes behind `ptr`.
unsafe impl Sync for Block {}

impl Drop for Block {
    /// A block still held when a test fails is freed through `System`,
    /// where the tracker's inner allocator got it: a failing test leaks
    /// nothing (under Miri a leak would be reported before the test's own
    /// message).
    fn drop(&mut self) {
        // SAFETY: the block came from `System` (through the tracker) with
        // this layout, and was not given back.
        unsafe { System.dealloc(self.ptr.as_ptr(), layout(self.size)) }
    }
}

/// Allocates `size` bytes from `tracker` and fills them with `tag`.
fn tagged_block(tracker: &ClassPeaks<System>, size: usize, tag: u8) -> Block {
    // SAFETY: every size the tests use is non-zero.
    let ptr = unsafe { tracker.alloc(layout(size)) };
    let ptr = NonNull::new(ptr).expect("System returned null");
    // SAFETY: the block has `size` writable bytes and is ours.
    unsafe { fill(ptr.as_ptr(), size, tag) };
    Block { ptr, size, tag }
}

/// Checks that `block` still holds its tag (the tracker must hand out the
/// inner allocator's blocks untouched), then frees it through `tracker`.
fn check_and_free(context: &str, tracker: &ClassPeaks<System>, block: Block) {
    // SAFETY: the block is valid for `size` bytes, all written by `fill`;
    // the thread that wrote them has been joined.
    let mismatch = unsafe { first_mismatch(block.ptr.as_ptr(), block.size, block.tag) };
    assert_eq!(
        mismatch, None,
        "{context}: a block tagged {:#x} was overwritten (offset, byte found)",
        block.tag
    );
    let block = ManuallyDrop::new(block);
    // SAFETY: the block came from `tracker.alloc(layout(size))`, freed once.
    unsafe { tracker.dealloc(block.ptr.as_ptr(), layout(block.size)) };
}

/// A barrier the two threads of a round pass together, step after step.
#[derive(Default)]
struct Lockstep {
    arrived: AtomicUsize,
    /// Set when a thread panics, so the other stops waiting for it (the
    /// panic then fails the test with its own message).
    broken: AtomicBool,
}

impl Lockstep {
    /// Waits until both threads have called `pass` `times` times. What a
    /// thread did before passing happens before what the other does after
    /// (`Release` on adding to `arrived`, `Acquire` on reading it).
    fn pass(&self, times: usize) {
        self.arrived.fetch_add(1, Ordering::AcqRel);
        let all = times.saturating_mul(2);
        let mut spins = 0u32;
        while self.arrived.load(Ordering::Acquire) < all && !self.broken.load(Ordering::Acquire) {
            if spins < 1000 {
                spins += 1;
                spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// Marks the lockstep broken if the thread holding it panics.
struct PanicGuard<'a>(&'a Lockstep);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.broken.store(true, Ordering::Release);
        }
    }
}

/// A tracker placed so that each class's `live` and `peak` counters lie on
/// different cache lines. The tracker is 64 bytes, 32 of `live` counters and
/// 32 of `peak` counters; starting it 48 bytes into a 128-byte line pair
/// puts the first class's two counters 32 bytes apart ACROSS a line
/// boundary. On one line, the core holding it would finish a whole racy
/// load-compare-store before the other core got its turn, and the race
/// would hide.
#[repr(C, align(128))]
struct Placed {
    _before: [u8; 48],
    tracker: ClassPeaks<System>,
}

impl Placed {
    fn new() -> Self {
        Self {
            _before: [0; 48],
            tracker: ClassPeaks::new(System),
        }
    }
}

/// A round: one fresh tracker per step, and the threads' barrier.
struct Round {
    trackers: Vec<Placed>,
    /// Blocks allocated before the round, by step, live throughout it.
    held: Vec<(usize, Block)>,
    lockstep: Lockstep,
}

/// What a thread hands to the round's check.
struct Outcome {
    /// (live, peak) of the tested class after each step (thread 0 only).
    seen: Vec<(usize, usize)>,
    /// The blocks it allocated, by step, for the check to verify and free.
    blocks: Vec<(usize, Block)>,
}

impl Outcome {
    fn new() -> Self {
        Self {
            seen: Vec::with_capacity(STEPS),
            blocks: Vec::with_capacity(STEPS),
        }
    }
}

/// Runs `STEPS` steps of `act` in lockstep; after each, thread 0 records
/// `(live, peak)` of `class` in that step's tracker.
fn lockstep_steps(
    round: &Round,
    thread: usize,
    class: SizeClass,
    act: impl Fn(&ClassPeaks<System>, usize) -> Option<Block>,
) -> Outcome {
    let _guard = PanicGuard(&round.lockstep);
    let mut outcome = Outcome::new();
    for (step, placed) in round.trackers.iter().enumerate() {
        let tracker = &placed.tracker;
        round.lockstep.pass(2 * step + 1);
        if let Some(block) = act(tracker, step) {
            outcome.blocks.push((step, block));
        }
        round.lockstep.pass(2 * step + 2);
        // Both threads are done with this step's tracker, and neither
        // touches it again: the counts are final.
        if thread == 0 {
            outcome
                .seen
                .push((tracker.live(class), tracker.peak(class)));
        }
    }
    outcome
}

/// Checks the tag of every block of the round and frees it: then nothing
/// may be live in any tracker.
fn free_all(number: usize, round: Round, outcomes: Vec<Outcome>) {
    let blocks = outcomes.into_iter().flat_map(|outcome| outcome.blocks);
    for (step, block) in round.held.into_iter().chain(blocks) {
        let context = format!("round {number}, step {step}");
        check_and_free(&context, &round.trackers[step].tracker, block);
    }
    for (step, placed) in round.trackers.iter().enumerate() {
        for class in SizeClass::ALL {
            assert_eq!(
                placed.tracker.live(class),
                0,
                "round {number}, step {step}: every block was freed, yet live({class:?}) is not 0"
            );
        }
    }
}

#[test]
fn threads_allocating_together_lose_no_update() {
    const SIZE: usize = 48; // Small
    let both = SIZE.checked_mul(2).expect("no overflow");
    let report = Rounds::new(2, ROUNDS).run(
        |_round| Round {
            trackers: (0..STEPS).map(|_| Placed::new()).collect(),
            held: Vec::new(),
            lockstep: Lockstep::default(),
        },
        |round, thread| {
            lockstep_steps(round, thread, SizeClass::Small, |tracker, step| {
                if thread == 1 {
                    spin(step % DELAY_STEPS);
                }
                Some(tagged_block(tracker, SIZE, thread as u8 + 1))
            })
        },
        |number, round, outcomes| {
            for (step, &(live, peak)) in outcomes[0].seen.iter().enumerate() {
                assert_eq!(
                    live, both,
                    "round {number}, step {step}: two threads each allocated one {SIZE}-byte \
                     block, so {both} bytes are live, but live(Small) says {live}: an update was \
                     lost. Both threads loaded the same old total and each stored its own sum; \
                     make every change of a counter one atomic read-modify-write (`fetch_add`, \
                     `fetch_sub`)"
                );
                assert_eq!(
                    peak, both,
                    "round {number}, step {step}: both {SIZE}-byte blocks are live at once \
                     ({both} bytes), but peak(Small) says {peak}: a raise of the peak was lost. \
                     With a `load`, a compare and a `store`, the thread with the smaller total \
                     can store last, over the larger one; `fetch_max` compares and stores in \
                     one step"
                );
            }
            free_all(number, round, outcomes);
        },
    );
    println!("{report}");
}

#[test]
fn threads_resetting_while_allocating_keep_the_peak_at_least_live() {
    const OLD_HIGH: usize = 500; // Medium, freed before the step
    const HELD: usize = 100; // Medium, live throughout
    const SIZE: usize = 200; // Medium, allocated during the step
    let expected = HELD.checked_add(SIZE).expect("no overflow");
    let report = Rounds::new(2, ROUNDS).run(
        |number| {
            let trackers: Vec<_> = (0..STEPS).map(|_| Placed::new()).collect();
            let mut held = Vec::with_capacity(STEPS);
            for (step, Placed { tracker, .. }) in trackers.iter().enumerate() {
                let old = tagged_block(tracker, OLD_HIGH, 0xEE);
                check_and_free(&format!("round {number}, setup"), tracker, old);
                held.push((step, tagged_block(tracker, HELD, 0xDD)));
            }
            Round {
                trackers,
                held,
                lockstep: Lockstep::default(),
            }
        },
        |round, thread| {
            lockstep_steps(round, thread, SizeClass::Medium, |tracker, step| {
                if thread == 0 {
                    spin(step % DELAY_STEPS);
                    tracker.reset_peaks();
                    None
                } else {
                    Some(tagged_block(tracker, SIZE, 2))
                }
            })
        },
        |number, round, outcomes| {
            for (step, &(live, peak)) in outcomes[0].seen.iter().enumerate() {
                assert_eq!(
                    live, expected,
                    "round {number}, step {step}: {HELD} + {SIZE} bytes are live in Medium, but \
                     live(Medium) says {live}"
                );
                assert!(
                    peak >= live,
                    "round {number}, step {step}: one thread called reset_peaks while the other \
                     allocated {SIZE} bytes; afterwards {live} bytes are live in Medium but \
                     peak(Medium) is only {peak}. The reset stored a live total it had read \
                     BEFORE the allocation over the peak the allocation had just raised. See the \
                     chapter \"Peak tracking\" on reset_peak, or run `cargo workbook check 2 \
                     --miri`"
                );
                assert_eq!(
                    peak, expected,
                    "round {number}, step {step}: after the reset the peak of Medium must be what \
                     was live since ({expected} bytes); {peak} means the old high of {OLD_HIGH} \
                     bytes survived the reset"
                );
            }
            free_all(number, round, outcomes);
        },
    );
    println!("{report}");
}
