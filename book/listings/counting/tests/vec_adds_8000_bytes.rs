//! The counters are process-wide statics, so any other thread that allocates
//! while we measure (another test, the harness printing a result) would
//! change them. Cargo runs each file in `tests/` as its own process and this
//! file has exactly one test, so while it runs nothing else in the process
//! allocates: the numbers are exact.

use std::hint::black_box;

use counting::{CountingAlloc, alloc_calls, live_bytes};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[test]
fn a_vec_of_1000_u64_adds_8000_live_bytes_and_drop_returns_them() {
    let before = live_bytes();
    let calls_before = alloc_calls();

    let numbers: Vec<u64> = black_box((0..1000).collect());
    let with_vec = live_bytes();
    let calls_with_vec = alloc_calls();
    drop(numbers);
    let after = live_bytes();

    assert_eq!(
        with_vec - before,
        8000,
        "the Vec's buffer is 1000 * 8 bytes"
    );
    assert_eq!(
        calls_with_vec - calls_before,
        1,
        "collect from a sized range allocates once"
    );
    assert_eq!(after, before, "dropping the Vec gives every byte back");

    // Growth goes through the default `realloc` (alloc + copy + dealloc),
    // which is still counted exactly.
    let mut grown: Vec<u8> = Vec::new();
    for i in 0..100u8 {
        grown.push(black_box(i));
    }
    assert_eq!(live_bytes() - before, grown.capacity());
    drop(grown);
    assert_eq!(live_bytes(), before);
}
