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
//! allocator is, so before each run, outside the timed region, it writes
//! the pages the run will bump into (`allocator_bench::prefault`). The timed
//! run is unchanged: the same allocations, and every `dealloc` still runs.

use std::process::ExitCode;

use allocator_bench::prefault::arena_main;
use bump::BumpAlloc;

const ARENA_BYTES: usize = 512 << 20;

#[global_allocator]
static GLOBAL: BumpAlloc<ARENA_BYTES> = BumpAlloc::new();

fn main() -> ExitCode {
    arena_main("bump", &GLOBAL)
}
