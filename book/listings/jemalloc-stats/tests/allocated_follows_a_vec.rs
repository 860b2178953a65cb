//! jemalloc's `stats.allocated` follows a 10 MiB vector. The counters are
//! process-wide, so this runs without the test harness (`harness = false`):
//! no other thread allocates or frees while it measures.

use std::hint::black_box;

use jemalloc_stats::read_stats;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const TEN_MIB: usize = 10 * 1024 * 1024;

fn main() {
    let before = read_stats().expect("read jemalloc stats");
    let big = black_box(vec![1u8; TEN_MIB]);
    let alive = read_stats().expect("read jemalloc stats");
    drop(big);
    let after = read_stats().expect("read jemalloc stats");

    assert!(
        alive.allocated >= before.allocated + TEN_MIB,
        "allocated did not grow by 10 MiB: {before:?} -> {alive:?}"
    );
    assert!(
        after.allocated + TEN_MIB <= alive.allocated,
        "allocated did not fall by 10 MiB after drop: {alive:?} -> {after:?}"
    );
    assert!(
        alive.resident >= alive.allocated,
        "touched pages are resident: {alive:?}"
    );
    println!("allocated grew by 10 MiB with the Vec and fell back after drop: ok");
}
