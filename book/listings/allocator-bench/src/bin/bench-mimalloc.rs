//! The benchmark under mimalloc (see `allocator_bench::child`).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    allocator_bench::child::main("mimalloc", allocator_bench::child::Hooks::default())
}
