//! Live bytes versus peak bytes: two big vectors that overlap, a tiny one
//! after them, a zeroed buffer and a vector that grows.
//!
//! The compiler may remove or merge allocations whose memory nothing looks
//! at, even though a counting allocator would have seen them, so every value
//! measured here passes through `std::hint::black_box`.

use std::hint::black_box;

use peak::PeakAlloc;

// ANCHOR: install
#[global_allocator]
static GLOBAL: PeakAlloc = PeakAlloc::new();
// ANCHOR_END: install

fn main() {
    overlapping_vectors();
    zeroed_buffer();
    growing_vector();
}

// ANCHOR: scenario
fn overlapping_vectors() {
    // Whatever std allocated before main is the baseline.
    let baseline = GLOBAL.live_bytes();
    GLOBAL.reset_peak();
    {
        let first: Vec<u64> = black_box((0..2000).collect()); // 16 000 bytes
        let second: Vec<u64> = black_box((0..2000).collect()); // 16 000 more, both alive
        black_box((&first, &second));
    } // both freed here
    let tiny: Vec<u8> = black_box(vec![7; 10]);
    // Read before printing: the first println! allocates stdout's buffer.
    let live = GLOBAL.live_bytes();
    let peak = GLOBAL.peak_bytes();

    println!("== Two 16 000-byte vectors alive together, then a 10-byte one");
    println!("live before the scope:    {baseline} bytes");
    println!(
        "live now, tiny Vec kept:  {live} bytes ({} above before)",
        live - baseline
    );
    println!(
        "peak during the scope:    {peak} bytes ({} above before)",
        peak - baseline
    );
    drop(tiny);
}
// ANCHOR_END: scenario

// ANCHOR: zeroed
fn zeroed_buffer() {
    let zeroed_before = GLOBAL.zeroed_calls();
    let live_before = GLOBAL.live_bytes();
    // `vec![0; n]` asks the allocator for zeroed memory directly.
    let zeros = black_box(vec![0u8; 1 << 20]);
    let added = GLOBAL.live_bytes() - live_before;
    let zeroed_calls = GLOBAL.zeroed_calls() - zeroed_before;
    println!();
    println!("== vec![0u8; 1 << 20]");
    println!("alloc_zeroed calls: {zeroed_calls}");
    println!("live bytes added:   {added}");
    println!("all zero:           {}", zeros.iter().all(|&b| b == 0));
}
// ANCHOR_END: zeroed

// ANCHOR: growing
fn growing_vector() {
    let live_before = GLOBAL.live_bytes();
    let reallocs_before = GLOBAL.realloc_calls();
    let mut squares: Vec<u32> = Vec::new();
    for i in 0..1000u32 {
        // Through `black_box`, so every growth step is really taken.
        black_box(&mut squares).push(i * i);
    }
    let grown = GLOBAL.live_bytes() - live_before;
    let reallocs = GLOBAL.realloc_calls() - reallocs_before;
    let capacity = squares.capacity();
    squares.shrink_to_fit();
    let shrunk = GLOBAL.live_bytes() - live_before;
    drop(squares);
    let after_drop = GLOBAL.live_bytes() - live_before;

    println!();
    println!("== Pushing 1000 u32 into an empty Vec");
    println!("realloc calls while growing: {reallocs}");
    println!("live bytes added:            {grown} (capacity {capacity} * 4)");
    println!("after shrink_to_fit:         {shrunk} (1000 * 4)");
    println!("after drop:                  {after_drop}");
}
// ANCHOR_END: growing
