//! Copies one text twice, once with Rust's allocation API and once with the
//! C library's `strdup`, while the counting shim is the global allocator,
//! and prints what the shim and the C library each saw.

use std::error::Error;
use std::ffi::CString;
use std::hint::black_box;

use c_malloc::{CCopy, Seen, change};
use counting::CountingAlloc;

// ANCHOR: install
#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;
// ANCHOR_END: install

// ANCHOR: main
fn main() -> Result<(), Box<dyn Error>> {
    // Longer than glibc's per-thread cache of small blocks (1032 bytes), so
    // `malloc` cannot serve it from a block freed earlier.
    let text = CString::new("allocated by C, not by Rust. ".repeat(100))?;

    let start = Seen::now();
    let from_rust = black_box(text.clone());
    let after_rust = Seen::now();
    let from_c = black_box(CCopy::of(&text)).ok_or("strdup returned null")?;
    let after_c = Seen::now();

    let same_text = from_rust.as_c_str() == from_c.as_c_str();
    drop((from_rust, from_c));
    print_table(text.as_bytes_with_nul().len(), start, after_rust, after_c);
    println!();
    println!("both copies hold the same text: {same_text}");
    Ok(())
}
// ANCHOR_END: main

fn print_table(bytes: usize, start: Seen, after_rust: Seen, after_c: Seen) {
    println!("Two copies of a {bytes}-byte C string, the counting shim installed");
    println!();
    println!(
        "  {:<26} {:>15}   {:>18}",
        "", "counting shim", "C library's malloc"
    );
    println!(
        "  {:<26} {:>8} {:>6}   {:>18}",
        "copy made by", "bytes", "calls", "bytes in use"
    );
    for (label, from, to) in [
        ("CString::clone (Rust)", start, after_rust),
        ("libc::strdup (C)", after_rust, after_c),
    ] {
        let malloc = match (from.malloc_in_use, to.malloc_in_use) {
            (Some(a), Some(b)) => format!("{:+}", change(a, b)),
            _ => "not available".to_owned(),
        };
        println!(
            "  {label:<26} {:>+8} {:>+6}   {malloc:>18}",
            change(from.shim_bytes, to.shim_bytes),
            change(from.shim_calls, to.shim_calls),
        );
    }
}
