//! `PeakAlloc` as the real global allocator, driven by `Vec`.
//!
//! The tracker counts every thread of the process, and the parallel test
//! runner would allocate alongside any second test. Cargo runs each file in
//! `tests/` as its own process, and this file holds a single test, so the
//! counts below are exact.

use std::hint::black_box;

use peak::PeakAlloc;

#[global_allocator]
static GLOBAL: PeakAlloc = PeakAlloc::new();

#[test]
fn vectors_move_live_and_peak_bytes_exactly() {
    // Two 16 000-byte vectors alive together.
    let baseline = GLOBAL.live_bytes();
    GLOBAL.reset_peak();
    {
        let first: Vec<u64> = black_box((0..2000).collect());
        let second: Vec<u64> = black_box((0..2000).collect());
        assert_eq!(GLOBAL.live_bytes() - baseline, 32_000);
        drop((first, second));
    }
    assert!(
        GLOBAL.peak_bytes() - baseline >= 32_000,
        "peak rose by only {}",
        GLOBAL.peak_bytes() - baseline
    );
    assert_eq!(
        GLOBAL.live_bytes(),
        baseline,
        "dropping both gives every byte back"
    );

    // `vec![0u8; n]` is served by `alloc_zeroed`, not `alloc` + memset.
    let zeroed_before = GLOBAL.zeroed_calls();
    let allocs_before = GLOBAL.alloc_calls();
    let zeros = black_box(vec![0u8; 50_000]);
    assert_eq!(GLOBAL.zeroed_calls() - zeroed_before, 1);
    assert_eq!(
        GLOBAL.alloc_calls() - allocs_before,
        1,
        "alloc_calls includes zeroed ones"
    );
    assert_eq!(GLOBAL.live_bytes() - baseline, 50_000);
    assert!(zeros.iter().all(|&b| b == 0));
    drop(zeros);
    assert_eq!(GLOBAL.live_bytes(), baseline);

    // Growth goes through `realloc`, and live bytes follow the capacity.
    let reallocs_before = GLOBAL.realloc_calls();
    let mut grown: Vec<u32> = Vec::new();
    for i in 0..1000 {
        grown.push(black_box(i));
        assert_eq!(GLOBAL.live_bytes() - baseline, grown.capacity() * 4);
    }
    assert!(
        GLOBAL.realloc_calls() - reallocs_before >= 5,
        "several growth steps"
    );
    grown.shrink_to_fit();
    assert_eq!(GLOBAL.live_bytes() - baseline, 4000);
    drop(grown);
    assert_eq!(GLOBAL.live_bytes(), baseline);
}
