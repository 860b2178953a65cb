//! Records a tiny workload and prints its trace as JSON lines: a vector made
//! with room for two `u64`s, pushed to five (it grows twice), then dropped.

use std::alloc::System;
use std::hint::black_box;

use heap_trace::TraceAlloc;

// ANCHOR: install
#[global_allocator]
static GLOBAL: TraceAlloc<System> = TraceAlloc::new(System);
// ANCHOR_END: install

fn main() {
    // ANCHOR: workload
    let ((), trace) = GLOBAL.record(|| {
        let mut numbers: Vec<u64> = Vec::with_capacity(2);
        for n in 0..5 {
            numbers.push(black_box(n));
        }
        black_box(&numbers);
        drop(numbers);
    });
    // ANCHOR_END: workload
    print!("{}", trace.to_json_lines());
}
