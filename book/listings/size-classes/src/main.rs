//! The chapter's runs: `size-classes classes` prints the class table as
//! Markdown; `size-classes reuse` shows a freed block handed out again.

use std::alloc::Layout;
use std::hint::black_box;
use std::ptr::NonNull;

use size_classes::{Slab, class_by_size, class_by_size_and_align};

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("classes") => classes(),
        Some("reuse") => reuse(),
        _ => {
            eprintln!("usage: size-classes classes|reuse");
            std::process::exit(2);
        }
    }
}

/// Which class each request gets, both ways, and what the right one wastes.
fn classes() {
    println!("| request | by size alone | by size and alignment | bytes of the block unused |");
    println!("|---|---|---|---|");
    let requests = [
        (1, 1),
        (24, 8),
        (33, 8),
        (16, 64),
        (8, 128),
        (100, 4),
        (4096, 8),
        (5000, 8),
    ];
    for (size, align) in requests {
        let layout = Layout::from_size_align(size, align).expect("a valid layout");
        let by_size = match class_by_size(layout) {
            Some(class) if class % align != 0 => format!("{class} (aligned only to {class})"),
            Some(class) => class.to_string(),
            None => "none".to_owned(),
        };
        let (right, unused) = match class_by_size_and_align(layout) {
            Some(class) => (class.to_string(), (class - size).to_string()),
            None => ("none: too large".to_owned(), "—".to_owned()),
        };
        let bytes = if size == 1 { "byte" } else { "bytes" };
        println!("| {size} {bytes}, aligned to {align} | {by_size} | {right} | {unused} |");
    }
}

/// Five allocations from a slab of 32-byte blocks, with one free between.
fn reuse() {
    let mut slab = Slab::new(32, 8);
    let take = |slab: &mut Slab, name: &str| -> NonNull<u8> {
        let block = black_box(slab.alloc()).expect("the slab has room");
        println!("{name} = alloc()   -> offset {:>3}", slab.offset_of(block));
        block
    };
    let _a = take(&mut slab, "a");
    let b = take(&mut slab, "b");
    let _c = take(&mut slab, "c");
    println!("free(b)");
    // SAFETY: `b` came from this slab and is not used after this.
    unsafe { slab.free(b) };
    let _d = take(&mut slab, "d");
    let _e = take(&mut slab, "e");
    println!(
        "5 allocations, 4 blocks live, {} bytes carved from the region",
        slab.carved()
    );
}
