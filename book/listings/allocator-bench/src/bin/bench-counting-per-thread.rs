//! The benchmark under the counting shim with per-thread counters (see `allocator_bench::child`).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: alloc_measure::PerThread<std::alloc::System> =
    alloc_measure::PerThread(std::alloc::System);

fn main() -> ExitCode {
    allocator_bench::child::main(
        "counting-per-thread",
        allocator_bench::child::Hooks::default(),
    )
}
