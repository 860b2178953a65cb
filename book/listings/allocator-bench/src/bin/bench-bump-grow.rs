//! The benchmark with the bump arena whose `realloc` grows the newest block in place (`bump::GrowInPlace`) as the global allocator (see
//! `allocator_bench::child`).
//!
//! Like `bench-bump`, its arena hands out memory nobody has touched, so
//! before each run, outside the timed region, it writes the pages the run
//! will carve from (`allocator_bench::prefault`).

use std::process::ExitCode;

use allocator_bench::child::{ArenaCounters, Hooks, main as bench_main};
use allocator_bench::prefault::Prefault;
use bump::GrowInPlace;

const ARENA_BYTES: usize = 512 << 20;

#[global_allocator]
static GLOBAL: GrowInPlace<ARENA_BYTES> = GrowInPlace::new();

static PREFAULT: Prefault = Prefault::new();

fn before_run() {
    // SAFETY: `arena_ptr` is valid for the whole arena, and no block lies
    // past `used`; between runs no thread allocates (the workloads' threads
    // have ended) and the next run's threads are spawned after this.
    unsafe {
        PREFAULT.before_run(
            GLOBAL.arena.arena_ptr(),
            GLOBAL.arena.used(),
            GLOBAL.arena.capacity(),
        )
    };
}

fn counters() -> ArenaCounters {
    ArenaCounters {
        capacity_bytes: GLOBAL.arena.capacity(),
        used_bytes: GLOBAL.arena.used(),
        fallbacks: GLOBAL.arena.fallback_count(),
    }
}

fn main() -> ExitCode {
    bench_main(
        "bump-grow",
        Hooks {
            arena: Some(counters),
            before_run: Some(before_run),
            ..Hooks::default()
        },
    )
}
