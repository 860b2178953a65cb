//! Mimalloc must serve the allocations, through every entry point, and the
//! workload must not notice.
//!
//! mimalloc itself is the witness: `mi_is_in_heap_region` (its extended API)
//! answers whether an address lies in memory it manages. A `System` block
//! proves the witness can also say "no".

use std::alloc::{GlobalAlloc, Layout, System};

use exercise_1::word_report;

const NOT_SOLVED: &str = "not solved yet: this block was not allocated by mimalloc — add the \
     `mimalloc` dependency to exercises/exercise-1/Cargo.toml and the `#[global_allocator]` \
     static in src/lib.rs; see the chapter \"Swapping in mimalloc\", or run `cargo workbook hint 1`";

/// Asks mimalloc whether `ptr` lies in memory it manages.
fn mimalloc_owns(ptr: *const u8) -> bool {
    // SAFETY: `mi_is_in_heap_region` only compares the address with the
    // regions mimalloc has reserved; it never dereferences it.
    unsafe { libmimalloc_sys::mi_is_in_heap_region(ptr.cast()) }
}

#[test]
#[cfg_attr(miri, ignore = "calls mimalloc's C code, which Miri cannot run")]
fn mimalloc_serves_the_allocations() {
    let report = word_report("one allocation through the library");
    let boxed = Box::new(report.len());
    let ptr: *const usize = &*boxed;
    assert!(mimalloc_owns(ptr.cast()), "a Box: {NOT_SOLVED}");
    assert!(
        mimalloc_owns(report.as_ptr()),
        "word_report's String: {NOT_SOLVED}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "calls mimalloc's C code, which Miri cannot run")]
fn zeroed_and_grown_blocks_come_from_mimalloc_too() {
    // `vec![0; n]` asks the global allocator's `alloc_zeroed`.
    let zeros = vec![0u8; 1 << 16];
    let zeroed_owned = mimalloc_owns(zeros.as_ptr());
    if !zeroed_owned {
        // Whoever allocated it must free it, and that is not mimalloc:
        // leaking it keeps a foreign block away from mimalloc's `free`.
        std::mem::forget(zeros);
    }
    assert!(
        zeroed_owned,
        "a zeroed block (`alloc_zeroed`) did not come from mimalloc: every method of the global \
         allocator must go to mimalloc, not only `alloc`. {NOT_SOLVED}"
    );

    // Growing a Vec one push at a time goes through `realloc`.
    let mut grown: Vec<u64> = Vec::with_capacity(1);
    for i in 0..10_000u64 {
        grown.push(std::hint::black_box(i));
    }
    let grown_owned = mimalloc_owns(grown.as_ptr().cast());
    if !grown_owned {
        std::mem::forget(grown);
    }
    assert!(
        grown_owned,
        "a grown block (`realloc`) did not come from mimalloc: every method of the global \
         allocator must go to mimalloc, not only `alloc`. {NOT_SOLVED}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "calls mimalloc's C code, which Miri cannot run")]
fn mimalloc_says_not_mine_for_a_system_block() {
    // The control: a witness that always said "mine" would pass the tests
    // above on any allocator. This block comes from `System` directly,
    // whatever the global allocator is.
    let layout = Layout::new::<[u64; 32]>();
    // SAFETY: the layout has a non-zero size.
    let from_system = unsafe { System.alloc(layout) };
    assert!(!from_system.is_null(), "System returned null");
    let claimed = mimalloc_owns(from_system);
    // SAFETY: `from_system` came from `System.alloc(layout)`, freed once.
    unsafe { System.dealloc(from_system, layout) };
    assert!(
        !claimed,
        "mimalloc claimed a block that System allocated: the check cannot tell allocators apart"
    );
}

#[test]
fn the_output_does_not_change() {
    assert_eq!(
        word_report("the cat saw the dog and the cat ran"),
        "the 3\ncat 2\nand 1\ndog 1\nran 1\nsaw 1\n"
    );
    assert_eq!(word_report("   "), "", "no words, no lines");
}
