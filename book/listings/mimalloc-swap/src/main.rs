//! The workload with mimalloc underneath. Compare `src/bin/with-system.rs`:
//! the only difference is the `#[global_allocator]` static.

// ANCHOR: program
// ANCHOR: swap
use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;
// ANCHOR_END: swap

fn main() {
    println!("{}", mimalloc_swap::workload());
}
// ANCHOR_END: program
