//! jemalloc's `stats.allocated` follows a 10 MiB vector, and
//! `stats.resident` is a maximum: it counts a zeroed vector's pages that
//! nothing has written, which the operating system has not backed with
//! memory. The counters are process-wide, so this runs without the test
//! harness (`harness = false`): no other thread allocates or frees while it
//! measures.

use std::hint::black_box;

use jemalloc_stats::{MemoryStats, change, os_resident, read_stats};

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const TEN_MIB: usize = 10 * 1024 * 1024;

struct Reading {
    jemalloc: MemoryStats,
    os: Option<usize>,
}

fn read() -> Reading {
    let os = os_resident();
    let jemalloc = read_stats().expect("read jemalloc stats");
    Reading { jemalloc, os }
}

/// Allocates 10 MiB with `make`, and returns the readings before, while
/// alive and after the drop.
fn around(make: impl FnOnce() -> Vec<u8>) -> [Reading; 3] {
    let before = read();
    let big = black_box(make());
    let alive = read();
    drop(big);
    [before, alive, read()]
}

fn main() {
    // The zeroed one first: fresh pages from the kernel, which jemalloc
    // knows are zero and does not write.
    let [before, zeros, after] = around(|| vec![0u8; TEN_MIB]);
    check_allocated("vec![0u8; 10 MiB]", &before, &zeros, &after);
    let [ones_before, ones, ones_after] = around(|| vec![1u8; TEN_MIB]);
    check_allocated("vec![1u8; 10 MiB]", &ones_before, &ones, &ones_after);

    // Resident counts the untouched pages too: it is a maximum.
    for (what, alive) in [("zeroed", &zeros), ("written", &ones)] {
        assert!(
            alive.jemalloc.resident >= alive.jemalloc.allocated,
            "{what}: resident covers the pages of live blocks: {:?}",
            alive.jemalloc
        );
    }
    assert!(
        change(before.jemalloc.resident, zeros.jemalloc.resident) >= TEN_MIB as i128,
        "stats.resident counts the zeroed vector's pages though nothing wrote them"
    );

    // Where the OS can say, it backed the written vector and not the other.
    if let (Some(z0), Some(z1), Some(o0), Some(o1)) = (before.os, zeros.os, ones_before.os, ones.os)
    {
        let untouched = change(z0, z1);
        let written = change(o0, o1);
        assert!(
            written >= (TEN_MIB - TEN_MIB / 10) as i128,
            "writing every byte makes the pages resident: VmRSS {written:+}"
        );
        assert!(
            untouched < (TEN_MIB / 4) as i128,
            "pages nothing wrote are not resident: VmRSS {untouched:+}"
        );
        println!("VmRSS: {untouched:+} for the zeroed vector, {written:+} for the written one");
    }
    println!("allocated follows both vectors; resident is a maximum: ok");
}

fn check_allocated(what: &str, before: &Reading, alive: &Reading, after: &Reading) {
    let (before, alive, after) = (before.jemalloc, alive.jemalloc, after.jemalloc);
    assert!(
        alive.allocated >= before.allocated + TEN_MIB,
        "{what}: allocated did not grow by 10 MiB: {before:?} -> {alive:?}"
    );
    assert!(
        after.allocated + TEN_MIB <= alive.allocated,
        "{what}: allocated did not fall by 10 MiB after drop: {alive:?} -> {after:?}"
    );
}
