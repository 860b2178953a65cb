//! The benchmark under jemalloc (see `allocator_bench::child`).

use std::process::ExitCode;

// ANCHOR: global
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
// ANCHOR_END: global

fn main() -> ExitCode {
    allocator_bench::child::main("jemalloc", allocator_bench::child::Hooks::default())
}
