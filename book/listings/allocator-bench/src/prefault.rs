//! Pre-faulting for the arena programs (`bench-bump`, `bench-bump-grow`,
//! `bench-thread-cache*`): before each run, write the pages the run will
//! carve from, so the timed run does not pay the first-touch page faults
//! that an allocator reusing freed memory does not pay either. And
//! [`arena_main`], the `main` those programs share.

use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::child::{ArenaCounters, Hooks, main as bench_main};
use crate::faults::touch_pages;

/// Headroom past the largest run seen.
const SLACK_BYTES: usize = 256 << 10;

/// What one arena program remembers between runs.
#[derive(Debug)]
pub struct Prefault {
    /// The arena offset below which every page has been written.
    touched_to: AtomicUsize,
    /// The arena offset when the previous run started (`usize::MAX`: none).
    previous_start: AtomicUsize,
    /// The most arena bytes one run has taken so far.
    largest_run: AtomicUsize,
}

impl Prefault {
    pub const fn new() -> Self {
        Self {
            touched_to: AtomicUsize::new(0),
            previous_start: AtomicUsize::new(usize::MAX),
            largest_run: AtomicUsize::new(0),
        }
    }

    // ANCHOR: prefault
    /// Writes the arena from `used` on, as far as the largest run so far
    /// (learnt in the warm-up runs) plus [`SLACK_BYTES`], and not past
    /// `capacity`. The report's per-run fault count shows whether that was
    /// enough.
    ///
    /// # Safety
    ///
    /// `arena` is valid for writes of `capacity` bytes; no block handed out
    /// lies at or past `used`; no thread allocates from the arena during
    /// the call, and the next allocations that hand these bytes out happen
    /// after it (the workloads' threads have ended between runs, and the
    /// next run's threads are spawned after this call).
    pub unsafe fn before_run(&self, arena: *mut u8, used: usize, capacity: usize) {
        let previous = self.previous_start.swap(used, Ordering::Relaxed);
        let run = used.saturating_sub(previous);
        let largest = self.largest_run.fetch_max(run, Ordering::Relaxed).max(run);
        let start = self.touched_to.load(Ordering::Relaxed).max(used);
        let end = used
            .saturating_add(largest)
            .saturating_add(SLACK_BYTES)
            .min(capacity);
        if start >= end {
            return;
        }
        // SAFETY: `start..end` lies inside the arena and at or past `used`,
        // so it holds no block; the caller rules out concurrent allocation.
        unsafe { touch_pages(arena.wrapping_add(start), end - start) };
        self.touched_to.store(end, Ordering::Relaxed);
    }
    // ANCHOR_END: prefault
}

impl Default for Prefault {
    fn default() -> Self {
        Self::new()
    }
}

/// A global arena allocator as the arena programs see it.
///
/// # Safety
///
/// `arena_ptr` is valid for writes of `capacity` bytes, and the allocator
/// hands out no arena bytes at or past `used` until it next allocates: a
/// program may write them while no thread allocates.
pub unsafe trait Arena: Sync {
    fn arena_ptr(&self) -> *mut u8;
    fn used(&self) -> usize;
    fn capacity(&self) -> usize;
    /// Requests the arena could not serve (sent to `System`).
    fn fallback_count(&self) -> usize;
}

/// The arena of the running program, for [`arena_main`]'s hooks (plain
/// functions, so they cannot capture it).
static ARENA: OnceLock<&'static dyn Arena> = OnceLock::new();
static PREFAULT: Prefault = Prefault::new();

/// The `main` of an arena program: [`child::main`](crate::child::main) with
/// hooks that pre-fault `arena` before each run and report its counters.
/// `arena` is the program's `#[global_allocator]`.
pub fn arena_main(name: &str, arena: &'static dyn Arena) -> ExitCode {
    if ARENA.set(arena).is_err() {
        eprintln!("arena_main called twice");
        return ExitCode::FAILURE;
    }
    bench_main(
        name,
        Hooks {
            arena: Some(counters),
            before_run: Some(before_run),
            ..Hooks::default()
        },
    )
}

fn before_run() {
    if let Some(arena) = ARENA.get() {
        // SAFETY: `Arena`'s contract: the pointer is valid for `capacity`
        // bytes and nothing at or past `used` is handed out. Between runs
        // no thread allocates (the workloads' threads have ended), and the
        // next run's threads are spawned after this, so these writes happen
        // before theirs.
        unsafe { PREFAULT.before_run(arena.arena_ptr(), arena.used(), arena.capacity()) };
    }
}

fn counters() -> ArenaCounters {
    ARENA
        .get()
        .map_or_else(ArenaCounters::default, |arena| ArenaCounters {
            capacity_bytes: arena.capacity(),
            used_bytes: arena.used(),
            fallbacks: arena.fallback_count(),
        })
}

// SAFETY: `arena_ptr` points to the arena's `N` bytes (`capacity`), and a
// bump arena hands out only bytes below its offset (`used`) until it next
// allocates.
unsafe impl<const N: usize> Arena for bump::BumpAlloc<N> {
    fn arena_ptr(&self) -> *mut u8 {
        self.arena_ptr()
    }
    fn used(&self) -> usize {
        self.used()
    }
    fn capacity(&self) -> usize {
        self.capacity()
    }
    fn fallback_count(&self) -> usize {
        self.fallback_count()
    }
}

// SAFETY: as for `BumpAlloc`, whose arena it wraps.
unsafe impl<const N: usize> Arena for bump::GrowInPlace<N> {
    fn arena_ptr(&self) -> *mut u8 {
        self.arena.arena_ptr()
    }
    fn used(&self) -> usize {
        self.arena.used()
    }
    fn capacity(&self) -> usize {
        self.arena.capacity()
    }
    fn fallback_count(&self) -> usize {
        self.arena.fallback_count()
    }
}

// SAFETY: `arena_ptr` points to the arena's `N` bytes; chunks are taken
// from the shared cursor (`used`) upward, so no thread holds bytes past it
// until it takes its next chunk, which is an allocation.
unsafe impl<const N: usize> Arena for thread_cache::ThreadCache<N> {
    fn arena_ptr(&self) -> *mut u8 {
        self.arena_ptr()
    }
    fn used(&self) -> usize {
        self.used()
    }
    fn capacity(&self) -> usize {
        self.capacity()
    }
    fn fallback_count(&self) -> usize {
        self.fallback_count()
    }
}
