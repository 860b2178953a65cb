//! Two threads press on one small budget at the same time, round after round.
//!
//! Every round builds a fresh budget of [`LIMIT`] bytes and releases both
//! threads together from a spin barrier ([`race_rounds::Rounds`]). Each
//! thread allocates and grows blocks until the budget refuses, writing its
//! tag into every block it holds, so the last few bytes of headroom are
//! fought over in every round. The budgets are local instances, so the
//! parallel test runner's own allocations do not touch them. The refusing
//! routine also runs against [`CheckThenAdd`], a budget that checks the
//! headroom and counts the bytes in two steps, and must reject it.

use std::alloc::{GlobalAlloc, Layout};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use budget::{BudgetAlloc, Policy};
use peak::{ByteMeter, PeakAlloc};
use race_rounds::{Rounds, fill, first_mismatch};

/// Small, so the two threads reach it within a few requests.
const LIMIT: usize = 256;
/// Size of a new block; a grown block has twice as many bytes.
const SIZE: usize = 32;
/// Requests per thread per round: together about three times the limit.
const STEPS: usize = if cfg!(miri) { 8 } else { 12 };
const ROUNDS: usize = if cfg!(miri) { 4 } else { 2000 };
/// The most rounds the wrong budget may survive. It is usually caught in
/// the first few hundred; the margin is for a busy machine, where the
/// threads overlap less often.
const WRONG_ROUNDS: usize = 10 * ROUNDS;
/// The tag each thread writes into its blocks.
const TAGS: [u8; 2] = [0xA0, 0xB1];

/// What the race routine needs from a budget, so the same routine can run
/// against the real [`BudgetAlloc`] and the wrong [`CheckThenAdd`]. The
/// inner [`PeakAlloc`] measures what really reached the system allocator.
trait Budget: GlobalAlloc + Sync {
    fn fresh(policy: Policy) -> Self;
    fn live_bytes(&self) -> usize;
    fn peak_bytes(&self) -> usize;
    fn refusals(&self) -> usize;
    fn inner(&self) -> &PeakAlloc;
}

impl Budget for BudgetAlloc<PeakAlloc> {
    fn fresh(policy: Policy) -> Self {
        BudgetAlloc::over(PeakAlloc::new(), LIMIT, policy)
    }
    fn live_bytes(&self) -> usize {
        BudgetAlloc::live_bytes(self)
    }
    fn peak_bytes(&self) -> usize {
        BudgetAlloc::peak_bytes(self)
    }
    fn refusals(&self) -> usize {
        BudgetAlloc::refusals(self)
    }
    fn inner(&self) -> &PeakAlloc {
        BudgetAlloc::inner(self)
    }
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 16).expect("valid test layout")
}

/// A block one thread holds, as that thread saw it.
struct Block {
    ptr: *mut u8,
    size: usize,
}

// SAFETY: a `Block` only carries the pointer from the thread that allocated
// it to the check, which runs after that thread was joined.
unsafe impl Send for Block {}

/// What one thread did in a round.
struct Held {
    blocks: Vec<Block>,
    refused: usize,
}

/// One thread's part of a round: new blocks (`alloc` and `alloc_zeroed`)
/// and, every third step, growing the newest block to twice its size.
fn press<B: Budget>(budget: &B, thread: usize) -> Held {
    let mut held = Held {
        blocks: Vec::with_capacity(STEPS),
        refused: 0,
    };
    for step in 0..STEPS {
        let grow = step % 3 == 2 && held.blocks.last().is_some_and(|b| b.size == SIZE);
        // SAFETY: sizes are non-zero; a grown block is the thread's own,
        // with the layout it has, and after a successful `realloc` only the
        // new pointer is kept.
        let ptr = unsafe {
            if let (true, Some(last)) = (grow, held.blocks.last()) {
                budget.realloc(last.ptr, layout(last.size), 2 * SIZE)
            } else if step % 2 == 0 {
                budget.alloc(layout(SIZE))
            } else {
                budget.alloc_zeroed(layout(SIZE))
            }
        };
        if ptr.is_null() {
            held.refused += 1;
            continue;
        }
        if grow {
            held.blocks.pop();
        }
        let size = if grow { 2 * SIZE } else { SIZE };
        // SAFETY: a non-null block of `size` bytes, this thread's alone.
        unsafe { fill(ptr, size, TAGS[thread]) };
        held.blocks.push(Block { ptr, size });
    }
    held
}

/// The bytes both threads hold, with their tags checked. Runs once both
/// threads have been joined, so everything they wrote happens before it.
fn held_bytes(round: usize, per_thread: &[Held]) -> usize {
    let mut total = 0usize;
    for (thread, held) in per_thread.iter().enumerate() {
        for block in &held.blocks {
            // SAFETY: the block has `size` bytes, all written by its thread,
            // which has been joined.
            let mismatch = unsafe { first_mismatch(block.ptr, block.size, TAGS[thread]) };
            if let Some((at, found)) = mismatch {
                panic!(
                    "round {round}: thread {thread}'s {}-byte block holds {found:#04x} at byte \
                     {at}: two threads were given the same memory",
                    block.size
                );
            }
            total = total
                .checked_add(block.size)
                .expect("held bytes fit in usize");
        }
    }
    total
}

/// Frees every block and checks that the budget gives every byte back.
fn give_back<B: Budget>(round: usize, budget: &B, per_thread: Vec<Held>) {
    for block in per_thread.into_iter().flat_map(|held| held.blocks) {
        // SAFETY: each block came from `budget` with this size and is freed
        // once; nothing uses it afterwards.
        unsafe { budget.dealloc(block.ptr, layout(block.size)) };
    }
    assert_eq!(
        budget.live_bytes(),
        0,
        "round {round}: live bytes left behind after every block was freed (a lost update)"
    );
    assert_eq!(budget.inner().live_bytes(), 0, "round {round}");
}

/// The refusing race: the threads together must never hold more than the
/// limit, and the budget must count exactly what they hold.
fn refusing_race<B: Budget>(rounds: usize) -> race_rounds::Report {
    Rounds::new(2, rounds).run(
        |_round| B::fresh(Policy::Refuse),
        press,
        |round, budget, per_thread| {
            let held = held_bytes(round, &per_thread);
            assert!(
                held <= LIMIT,
                "round {round}: the threads hold {held} bytes together, over the limit of \
                 {LIMIT}: both were let into the same headroom"
            );
            assert!(
                budget.inner().peak_bytes() <= LIMIT,
                "round {round}: {} bytes reached the system allocator at once, limit {LIMIT}",
                budget.inner().peak_bytes()
            );
            assert!(budget.peak_bytes() <= LIMIT, "round {round}");
            assert_eq!(
                budget.live_bytes(),
                held,
                "round {round}: the budget counts {} live bytes, the threads hold {held}",
                budget.live_bytes()
            );
            let refused: usize = per_thread.iter().map(|h| h.refused).sum();
            assert!(refused > 0, "round {round}: the limit was never reached");
            assert_eq!(budget.refusals(), refused, "round {round}");
            give_back(round, &budget, per_thread);
        },
    )
}

#[test]
fn two_threads_never_push_live_bytes_over_the_limit() {
    let report = refusing_race::<BudgetAlloc<PeakAlloc>>(ROUNDS);
    eprintln!("{report}");
}

#[test]
fn two_threads_flag_only_serves_everything_but_remembers() {
    let report = Rounds::new(2, ROUNDS).run(
        |_round| <BudgetAlloc<PeakAlloc> as Budget>::fresh(Policy::FlagOnly),
        press,
        |round, budget, per_thread| {
            let held = held_bytes(round, &per_thread);
            assert!(per_thread.iter().all(|h| h.refused == 0), "round {round}");
            assert_eq!(budget.refusals(), 0, "round {round}");
            assert_eq!(budget.live_bytes(), held, "round {round}");
            // Nothing is freed during a round, so the highest total is the
            // last one, whichever thread made it.
            assert_eq!(budget.peak_bytes(), held, "round {round}: the peak is lost");
            assert!(
                held > LIMIT,
                "round {round}: the threads stayed under the limit"
            );
            assert!(
                budget.over_budget(),
                "round {round}: over the limit, but no flag"
            );
            give_back(round, &budget, per_thread);
        },
    );
    eprintln!("{report}");
}

/// The classic mistake, kept so the refusing race above can be shown to
/// catch it: [`BudgetAlloc`]'s refusing policy with the headroom checked
/// first and the bytes counted after the inner allocator answered. Two
/// threads can both see the same headroom and both be let in.
struct CheckThenAdd {
    inner: PeakAlloc,
    bytes: ByteMeter,
    refusals: AtomicUsize,
}

impl CheckThenAdd {
    /// # Safety
    /// As for `BudgetAlloc::admit`: `allocate` makes one call to the inner
    /// allocator whose contract the caller upholds.
    unsafe fn admit(&self, size: usize, allocate: impl FnOnce() -> *mut u8) -> *mut u8 {
        // THE MISTAKE: the check and the addition are two steps.
        let fits = self
            .bytes
            .live()
            .checked_add(size)
            .is_some_and(|total| total <= LIMIT);
        if !fits {
            self.refusals.fetch_add(1, Ordering::Relaxed);
            return ptr::null_mut();
        }
        let ptr = allocate();
        if !ptr.is_null() {
            self.bytes.add(size);
        }
        ptr
    }
}

// SAFETY: every method forwards to the inner allocator with the caller's
// arguments unchanged, or returns null. (Only the limit is broken.)
unsafe impl GlobalAlloc for CheckThenAdd {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: one call, under our caller's contract for `layout`.
        unsafe { self.admit(layout.size(), || self.inner.alloc(layout)) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe { self.admit(layout.size(), || self.inner.alloc_zeroed(layout)) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: our caller's block, from the inner allocator.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.bytes.sub(layout.size());
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old_size = layout.size();
        if new_size > old_size {
            // SAFETY: one `realloc` call, under our caller's contract.
            return unsafe {
                self.admit(new_size - old_size, || {
                    self.inner.realloc(ptr, layout, new_size)
                })
            };
        }
        // SAFETY: our caller upholds `realloc`'s contract.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            self.bytes.sub(old_size - new_size);
        }
        new_ptr
    }
}

impl Budget for CheckThenAdd {
    fn fresh(_policy: Policy) -> Self {
        CheckThenAdd {
            inner: PeakAlloc::new(),
            bytes: ByteMeter::new(),
            refusals: AtomicUsize::new(0),
        }
    }
    fn live_bytes(&self) -> usize {
        self.bytes.live()
    }
    fn peak_bytes(&self) -> usize {
        self.bytes.peak()
    }
    fn refusals(&self) -> usize {
        self.refusals.load(Ordering::Relaxed)
    }
    fn inner(&self) -> &PeakAlloc {
        &self.inner
    }
}

/// The panic message of a failed run, as text.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else {
        String::from("(no message)")
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "catching the check-then-add budget takes native rounds; Miri runs only a few"
)]
fn threads_test_rejects_a_budget_that_checks_then_adds() {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        refusing_race::<CheckThenAdd>(WRONG_ROUNDS)
    }));
    let Err(payload) = outcome else {
        panic!(
            "the race test passed a check-then-add budget in {WRONG_ROUNDS} rounds: it cannot catch \
             two threads let into the same headroom"
        );
    };
    let message = message(&*payload);
    eprintln!("rejected: {message}");
    assert!(
        message.contains("round ") && !message.contains("never ran at the same time"),
        "the wrong budget failed for another reason than the race: {message}"
    );
}
