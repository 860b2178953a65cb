//! A refusing `BudgetAlloc` as the real global allocator.
//!
//! With a tight limit, any allocation by another test running in parallel
//! (or by the harness) could be refused and abort the process, and the live
//! count would include theirs. Cargo runs each file in `tests/` as its own
//! process and this file holds a single test, so the limit is ours alone and
//! the counts are exact.

use std::hint::black_box;

use budget::{BudgetAlloc, Policy};

#[global_allocator]
static GLOBAL: BudgetAlloc = BudgetAlloc::refusing(usize::MAX);

#[test]
fn try_reserve_gets_an_error_and_the_program_carries_on() {
    assert_eq!(GLOBAL.policy(), Policy::Refuse);
    let headroom = 64 * 1024;
    GLOBAL.set_limit(GLOBAL.live_bytes() + headroom);

    // A fresh allocation over the limit: `alloc` returns null.
    let live_before = GLOBAL.live_bytes();
    let mut buffer: Vec<u8> = Vec::new();
    assert!(buffer.try_reserve(headroom + 1).is_err());
    assert_eq!(GLOBAL.live_bytes(), live_before, "a refusal counts nothing");
    assert_eq!(GLOBAL.refusals(), 1);
    assert!(GLOBAL.over_budget());

    // Within the limit: served, right up to the last byte of it.
    buffer.extend_from_slice(b"kept");
    assert!(buffer.try_reserve_exact(headroom - buffer.len()).is_ok());
    assert_eq!(buffer.capacity(), headroom);
    assert_eq!(GLOBAL.live_bytes(), GLOBAL.limit());

    // Growth past the limit is a `realloc` and is refused; the old buffer
    // stays valid, with its contents and its accounting.
    let capacity = buffer.capacity();
    assert!(
        buffer
            .try_reserve_exact(capacity - buffer.len() + 1)
            .is_err()
    );
    assert_eq!(buffer.capacity(), capacity);
    assert_eq!(&buffer[..4], b"kept");
    assert_eq!(GLOBAL.refusals(), 2);
    assert_eq!(GLOBAL.live_bytes(), live_before + capacity);

    // Shrinking is always allowed and gives bytes back.
    buffer.shrink_to_fit();
    assert_eq!(GLOBAL.live_bytes(), live_before + buffer.len());
    drop(black_box(buffer));
    assert_eq!(GLOBAL.live_bytes(), live_before);

    // Raising the limit at run time lets the same request through.
    GLOBAL.clear_flag();
    GLOBAL.set_limit(usize::MAX);
    let mut again: Vec<u8> = Vec::new();
    assert!(again.try_reserve(headroom + 1).is_ok());
    assert!(!GLOBAL.over_budget());
    drop(again);
    assert_eq!(GLOBAL.live_bytes(), live_before);
}
