//! The benchmark under the counting shim with global atomic counters (see
//! `allocator_bench::child` and `allocator_bench::counting_global`).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: allocator_bench::counting_global::CountingGlobal =
    allocator_bench::counting_global::CountingGlobal::new();

fn main() -> ExitCode {
    allocator_bench::child::main("counting-global", allocator_bench::child::Hooks::default())
}
