//! The batch workload in a `bumpalo::Bump`. `Bump` is a scoped arena, not a
//! global allocator: `System` stays global here, and only the batch's blocks
//! come from the arena (see `allocator_bench::child`).

use std::process::ExitCode;

use allocator_bench::child::{Hooks, main as bench_main};
use allocator_bench::workloads::bumpalo_runner;

#[global_allocator]
static GLOBAL: std::alloc::System = std::alloc::System;

fn main() -> ExitCode {
    bench_main(
        "bumpalo",
        Hooks {
            batch: Some(bumpalo_runner),
            ..Hooks::default()
        },
    )
}
