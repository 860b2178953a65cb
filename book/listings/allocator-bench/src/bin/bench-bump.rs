//! The benchmark with the book's bump arena as the global allocator (see
//! `allocator_bench::child`).
//!
//! A global arena can never be reset (the runtime keeps blocks in it), and
//! freeing a block gives nothing back, so it must hold everything one
//! workload allocates in all its runs. 512 MiB does for every mode; the
//! report says how many requests still fell back to System. The static is
//! zero-initialised, so pages cost memory only once they are touched.

use std::process::ExitCode;

use allocator_bench::child::{ArenaCounters, Hooks, main as bench_main};
use bump::BumpAlloc;

const ARENA_BYTES: usize = 512 << 20;

#[global_allocator]
static GLOBAL: BumpAlloc<ARENA_BYTES> = BumpAlloc::new();

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
            ..Hooks::default()
        },
    )
}
