//! The benchmark with the book's bump arena as the global allocator (see
//! `allocator_bench::child`).
//!
//! A global arena can never be reset (the runtime keeps blocks in it), and
//! freeing a block gives nothing back, so it must hold everything one
//! workload allocates in all its runs. 512 MiB does for every mode; the
//! report says how many requests still fell back to System.
//!
//! The static is zero-initialised, so its pages are mapped only when first
//! written: every run would start on pages nobody has touched and pay a
//! page fault per 4 KiB, which System, reusing what the previous run freed,
//! does not. That is the kernel's cost of fresh memory, whoever the
//! allocator is, so [`before_run`] takes those faults outside the timed
//! region. The timed run is unchanged: the same allocations, and every
//! `dealloc` still runs.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use allocator_bench::child::{ArenaCounters, Hooks, main as bench_main};
use allocator_bench::faults::touch_pages;
use bump::BumpAlloc;

const ARENA_BYTES: usize = 512 << 20;

#[global_allocator]
static GLOBAL: BumpAlloc<ARENA_BYTES> = BumpAlloc::new();

/// Headroom past the largest run seen: runs of a workload allocate the same
/// amount, give or take a few runtime blocks.
const SLACK_BYTES: usize = 256 << 10;

/// The arena offset below which every page has been written.
static TOUCHED_TO: AtomicUsize = AtomicUsize::new(0);
/// The arena offset when the previous run started (`usize::MAX`: none yet).
static PREVIOUS_START: AtomicUsize = AtomicUsize::new(usize::MAX);
/// The most arena bytes one run has taken so far.
static LARGEST_RUN: AtomicUsize = AtomicUsize::new(0);

// ANCHOR: prefault
/// Writes the pages the next run will bump into: as many bytes as the
/// largest run so far (learnt in the warm-up runs) plus [`SLACK_BYTES`].
/// The report's per-run fault count shows whether that was enough.
fn before_run() {
    let used = GLOBAL.used();
    let previous = PREVIOUS_START.swap(used, Ordering::Relaxed);
    let run = used.saturating_sub(previous);
    let largest = LARGEST_RUN.fetch_max(run, Ordering::Relaxed).max(run);
    let start = TOUCHED_TO.load(Ordering::Relaxed).max(used);
    let end = used
        .saturating_add(largest)
        .saturating_add(SLACK_BYTES)
        .min(GLOBAL.capacity());
    if start >= end {
        return;
    }
    let arena = GLOBAL.arena_ptr();
    // SAFETY: `start..end` lies inside the arena (`end <= capacity`) and at
    // or past its offset, so no block handed out overlaps it; `arena_ptr`
    // may write such bytes; the workloads' threads have all ended between
    // runs, so nothing allocates meanwhile, and the next run's threads are
    // spawned after this, so these writes happen before theirs. Bytes not
    // yet handed out are not promised to hold anything.
    unsafe { touch_pages(arena.wrapping_add(start), end - start) };
    TOUCHED_TO.store(end, Ordering::Relaxed);
}
// ANCHOR_END: prefault

fn counters() -> ArenaCounters {
    ArenaCounters {
        capacity_bytes: GLOBAL.capacity(),
        used_bytes: GLOBAL.used(),
        fallbacks: GLOBAL.fallback_count(),
    }
}

fn main() -> ExitCode {
    bench_main(
        "bump",
        Hooks {
            arena: Some(counters),
            before_run: Some(before_run),
            ..Hooks::default()
        },
    )
}
