//! The benchmark under `System` (see `allocator_bench::child`).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

fn main() -> ExitCode {
    allocator_bench::child::main("system", allocator_bench::child::Hooks::default())
}
