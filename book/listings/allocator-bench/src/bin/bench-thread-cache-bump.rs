//! The benchmark with the thread-cached bump allocator as the global
//! allocator (`thread_cache::ThreadCache::bump_only`: a chunk per thread, no
//! atomic per allocation, frees nothing; see `allocator_bench::child`).
//!
//! Like `bench-bump`, its arena hands out memory nobody has touched, so
//! before each run, outside the timed region, it writes the pages the run
//! will carve from (`allocator_bench::prefault`).

use std::process::ExitCode;

use allocator_bench::prefault::arena_main;
use thread_cache::ThreadCache;

const ARENA_BYTES: usize = 512 << 20;

#[global_allocator]
static GLOBAL: ThreadCache<ARENA_BYTES> = ThreadCache::bump_only();

fn main() -> ExitCode {
    arena_main("thread-cache-bump", &GLOBAL)
}
