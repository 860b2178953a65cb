//! Installs the counting shim and watches one `Vec<u64>` come and go.

use std::hint::black_box;

use counting::{CountingAlloc, alloc_calls, live_bytes};

// ANCHOR: install
#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;
// ANCHOR_END: install

// ANCHOR: main
fn main() {
    // Read every number before printing: the first `println!` allocates
    // stdout's buffer, which would show up in the counts.
    let calls_at_start = alloc_calls();
    let before = live_bytes();
    // `black_box` keeps the optimiser from removing or shrinking an
    // allocation whose contents nobody reads.
    let numbers: Vec<u64> = black_box((0..1000).collect());
    let with_vec = live_bytes();
    drop(numbers);
    let after = live_bytes();
    let calls = alloc_calls();

    println!("live bytes when main starts:       {before}");
    println!("live bytes with a Vec<u64> of 1000: {with_vec}");
    println!("the Vec added:                     {}", with_vec - before);
    println!("live bytes after dropping it:      {after}");
    println!("alloc calls before main:           {calls_at_start}");
    println!("alloc calls by the end of the run: {calls}");
}
// ANCHOR_END: main
