//! The benchmark under the counting shim with global atomic counters (see `allocator_bench::child`).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: counting::CountingAlloc = counting::CountingAlloc;

fn main() -> ExitCode {
    allocator_bench::child::main("counting-global", allocator_bench::child::Hooks::default())
}
