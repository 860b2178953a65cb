//! The same workload with the standard `System` allocator, for comparison.

use std::alloc::System;

#[global_allocator]
static GLOBAL: System = System;

fn main() {
    println!("{}", mimalloc_swap::workload());
}
