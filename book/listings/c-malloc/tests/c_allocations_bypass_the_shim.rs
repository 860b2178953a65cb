//! A copy made by C's `strdup` never reaches the Rust global allocator; the
//! same copy made by Rust does. The shim's counters are process-wide, so
//! this file holds one test: cargo runs it as its own process, and nothing
//! else allocates while it measures.

use std::ffi::CString;
use std::hint::black_box;

use c_malloc::{CCopy, Seen, change};
use counting::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[test]
#[cfg_attr(miri, ignore = "calls the C library's strdup, free and mallinfo2")]
fn strdup_is_invisible_to_the_shim_and_a_rust_copy_is_not() {
    let text = CString::new("x".repeat(4000)).expect("no NUL in the text");
    let len = text.as_bytes_with_nul().len();

    let start = Seen::now();
    let from_rust = black_box(text.clone());
    let after_rust = Seen::now();
    let from_c = black_box(CCopy::of(&text)).expect("strdup returned null");
    let after_c = Seen::now();

    assert_eq!(
        change(start.shim_bytes, after_rust.shim_bytes),
        len as i128,
        "the Rust copy goes through the global allocator, byte for byte"
    );
    assert_eq!(change(start.shim_calls, after_rust.shim_calls), 1);
    assert_eq!(
        (after_c.shim_bytes, after_c.shim_calls),
        (after_rust.shim_bytes, after_rust.shim_calls),
        "strdup's malloc must not reach the global allocator"
    );
    assert_eq!(from_c.as_c_str(), text.as_c_str(), "strdup copied the text");

    // Where the C library can say what it handed out, it saw both copies:
    // `System` is its `malloc` too.
    if let (Some(a), Some(b), Some(c)) = (
        start.malloc_in_use,
        after_rust.malloc_in_use,
        after_c.malloc_in_use,
    ) {
        assert!(change(a, b) >= len as i128, "malloc served the Rust copy");
        assert!(change(b, c) >= len as i128, "malloc served the C copy");
    }

    drop(from_rust);
    drop(from_c);
    assert_eq!(Seen::now().shim_bytes, start.shim_bytes);
}
