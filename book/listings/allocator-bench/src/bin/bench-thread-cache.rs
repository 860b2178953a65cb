//! The benchmark with the recycling thread cache (`thread_cache::ThreadCache::new`): a chunk per thread, per-thread free lists, remote frees as the global allocator (see
//! `allocator_bench::child`).
//!
//! Like `bench-bump`, its arena hands out memory nobody has touched, so
//! before each run, outside the timed region, it writes the pages the run
//! will carve from (`allocator_bench::prefault`).

use std::process::ExitCode;

use allocator_bench::child::{ArenaCounters, Hooks, main as bench_main};
use allocator_bench::prefault::Prefault;
use thread_cache::ThreadCache;

const ARENA_BYTES: usize = 512 << 20;

#[global_allocator]
static GLOBAL: ThreadCache<ARENA_BYTES> = ThreadCache::new();

static PREFAULT: Prefault = Prefault::new();

fn before_run() {
    // SAFETY: `arena_ptr` is valid for the whole arena, and no block lies
    // past `used`; between runs no thread allocates (the workloads' threads
    // have ended) and the next run's threads are spawned after this.
    unsafe { PREFAULT.before_run(GLOBAL.arena_ptr(), GLOBAL.used(), GLOBAL.capacity()) };
}

fn counters() -> ArenaCounters {
    ArenaCounters {
        capacity_bytes: GLOBAL.capacity(),
        used_bytes: GLOBAL.used(),
        fallbacks: GLOBAL.fallback_count(),
    }
}

fn main() -> ExitCode {
    bench_main(
        "thread-cache",
        Hooks {
            arena: Some(counters),
            before_run: Some(before_run),
            ..Hooks::default()
        },
    )
}
