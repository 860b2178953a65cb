//! Mimalloc must serve the allocations, and the workload must not notice.

use exercise_1::word_report;

#[test]
fn mimalloc_serves_the_allocations() {
    let report = word_report("one allocation through the library");
    let boxed = Box::new(report.len());
    let ptr: *const usize = &*boxed;
    // SAFETY: `mi_is_in_heap_region` only compares the address with the
    // regions mimalloc has reserved; it never dereferences it.
    let in_mimalloc = unsafe { libmimalloc_sys::mi_is_in_heap_region(ptr.cast()) };
    assert!(
        in_mimalloc,
        "not solved yet: this Box was not allocated by mimalloc — add the `mimalloc` dependency \
         and the `#[global_allocator]` static in src/lib.rs; see the chapter \"Swapping in \
         mimalloc\", or run `cargo workbook hint 1`"
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
