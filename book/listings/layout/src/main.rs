//! Prints what `Layout` says about a few types, a padded `#[repr(C)]`
//! struct built field by field, and the two ways `from_size_align` fails.

use std::alloc::Layout;
use std::mem::{offset_of, size_of};

use layout::{explore, place_fields};

// ANCHOR: record
/// A struct whose fields do not line up on their own: the compiler must pad.
#[repr(C)]
#[allow(dead_code)] // only its layout is used
struct Reading {
    sensor: u8,
    value: u64,
    flags: u16,
}
// ANCHOR_END: record

fn show(label: &str, layout: Layout) {
    println!(
        "{label:<26} size={:<3} align={}",
        layout.size(),
        layout.align()
    );
}

fn main() {
    // ANCHOR: basics
    println!("== Layouts of types");
    show("[u64; 4]", Layout::new::<[u64; 4]>());
    show("u8", Layout::new::<u8>());
    match Layout::array::<u32>(10) {
        Ok(array) => show("Layout::array::<u32>(10)", array),
        Err(e) => println!("Layout::array::<u32>(10) failed: {e}"),
    }
    // ANCHOR_END: basics

    println!();
    print_record();

    // ANCHOR: errors
    println!();
    println!("== Layouts that Layout::from_size_align refuses");
    let bad_requests = [
        ("non-power-of-two alignment", 16, 3),
        ("size that overflows when padded", isize::MAX as usize, 8),
    ];
    for (what, size, align) in bad_requests {
        println!("from_size_align({size}, {align}), a {what}:");
        match Layout::from_size_align(size, align) {
            Ok(l) => println!("  unexpectedly valid: {l:?}"),
            Err(e) => println!("  error: {e}"),
        }
        if let Err(problem) = explore(size, align) {
            println!("  rule broken: {problem}");
        }
    }
    // ANCHOR_END: errors
}

fn print_record() {
    println!("== #[repr(C)] struct Reading {{ sensor: u8, value: u64, flags: u16 }}");
    // ANCHOR: extend
    let names = ["sensor", "value", "flags"];
    let fields = [
        Layout::new::<u8>(),
        Layout::new::<u64>(),
        Layout::new::<u16>(),
    ];
    let record = match place_fields(&fields) {
        Ok(record) => record,
        Err(e) => {
            println!("cannot lay out the fields: {e}");
            return;
        }
    };
    for (name, field) in names.iter().zip(&record.fields) {
        println!(
            "{name:<7} offset={:<3} size={} ({} padding bytes before it)",
            field.offset,
            field.layout.size(),
            field.padding_before
        );
    }
    println!(
        "fields end at byte {}; pad_to_align adds {} trailing bytes",
        record.unpadded_size, record.trailing_padding
    );
    show("Reading, built by extend", record.layout);
    // ANCHOR_END: extend

    // The compiler agrees with the hand-built layout.
    show("Layout::new::<Reading>()", Layout::new::<Reading>());
    let compiler_offsets = [
        offset_of!(Reading, sensor),
        offset_of!(Reading, value),
        offset_of!(Reading, flags),
    ];
    let ours: Vec<usize> = record.fields.iter().map(|f| f.offset).collect();
    println!(
        "offset_of! says {compiler_offsets:?}, size_of says {}: {}",
        size_of::<Reading>(),
        if ours == compiler_offsets && record.layout == Layout::new::<Reading>() {
            "same as extend"
        } else {
            "DIFFERENT from extend"
        }
    );
}
