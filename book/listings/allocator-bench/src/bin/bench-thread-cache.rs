//! The benchmark with the recycling thread cache as the global allocator
//! (`thread_cache::ThreadCache::new`: a chunk per thread, per-thread free
//! lists, remote frees; see `allocator_bench::child`).
//!
//! Like `bench-bump`, its arena hands out memory nobody has touched, so
//! before each run, outside the timed region, it writes the pages the run
//! will carve from (`allocator_bench::prefault`).

use std::process::ExitCode;

use allocator_bench::prefault::arena_main;
use thread_cache::ThreadCache;

const ARENA_BYTES: usize = 512 << 20;

#[global_allocator]
static GLOBAL: ThreadCache<ARENA_BYTES> = ThreadCache::new();

fn main() -> ExitCode {
    arena_main("thread-cache", &GLOBAL)
}
