//! The benchmark with the bump arena whose `realloc` grows the newest block
//! in place (`bump::GrowInPlace`) as the global allocator (see
//! `allocator_bench::child`).
//!
//! Like `bench-bump`, its arena hands out memory nobody has touched, so
//! before each run, outside the timed region, it writes the pages the run
//! will carve from (`allocator_bench::prefault`).

use std::process::ExitCode;

use allocator_bench::prefault::arena_main;
use bump::GrowInPlace;

const ARENA_BYTES: usize = 512 << 20;

#[global_allocator]
static GLOBAL: GrowInPlace<ARENA_BYTES> = GrowInPlace::new();

fn main() -> ExitCode {
    arena_main("bump-grow", &GLOBAL)
}
