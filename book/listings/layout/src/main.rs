//! Prints what `Layout` says about a few types, a padded `#[repr(C)]`
//! struct built field by field, and the ways building a `Layout` fails.
//!
//! Each part of the chapter runs one section (`types`, `record`, `extend`,
//! `rules`); with no argument the program prints them all.

use std::alloc::{Layout, LayoutError};
use std::mem::{offset_of, size_of};
use std::process::ExitCode;

use layout::place_fields;

/// The sections, in the chapter's order.
const SECTIONS: [(&str, fn()); 4] = [
    ("types", layouts_of_types),
    ("record", padded_record),
    ("extend", record_by_extend),
    ("rules", refused_layouts),
];

fn show(label: &str, layout: Layout) {
    println!(
        "{label:<26} size={:<3} align={}",
        layout.size(),
        layout.align()
    );
}

fn layouts_of_types() {
    // ANCHOR: basics
    show("[u64; 4]", Layout::new::<[u64; 4]>());
    show("u8", Layout::new::<u8>());
    match Layout::array::<u32>(10) {
        Ok(array) => show("Layout::array::<u32>(10)", array),
        Err(e) => println!("Layout::array::<u32>(10) failed: {e}"),
    }
    // ANCHOR_END: basics
}

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

fn padded_record() {
    // ANCHOR: compiler
    show("Layout::new::<Reading>()", Layout::new::<Reading>());
    println!(
        "offset_of! sensor={} value={} flags={}",
        offset_of!(Reading, sensor),
        offset_of!(Reading, value),
        offset_of!(Reading, flags)
    );
    // ANCHOR_END: compiler
}

fn record_by_extend() {
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
    let ours: Vec<usize> = record.fields.iter().map(|f| f.offset).collect();
    let compiler = [
        offset_of!(Reading, sensor),
        offset_of!(Reading, value),
        offset_of!(Reading, flags),
    ];
    let agree = ours == compiler && record.layout.size() == size_of::<Reading>();
    println!("the compiler's offset_of! and size_of agree: {agree}");
    // ANCHOR_END: extend
}

fn refused_layouts() {
    // ANCHOR: errors
    let requests = [
        ("an alignment that is not a power of two", 16, 3),
        (
            "a size that passes isize::MAX when padded",
            isize::MAX as usize,
            8,
        ),
    ];
    for (what, size, align) in requests {
        println!("Layout::from_size_align({size}, {align}), {what}:");
        outcome(Layout::from_size_align(size, align));
    }
    let count = usize::MAX / 4;
    println!("Layout::array::<u64>({count}), a count times stride that overflows:");
    outcome(Layout::array::<u64>(count));
    // ANCHOR_END: errors
}

fn outcome(result: Result<Layout, LayoutError>) {
    match result {
        Ok(layout) => println!("  unexpectedly valid: {layout:?}"),
        Err(e) => println!("  error: {e}"),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {
            for (index, (name, section)) in SECTIONS.into_iter().enumerate() {
                if index > 0 {
                    println!();
                }
                println!("== {name}");
                section();
            }
            ExitCode::SUCCESS
        }
        [name] => match SECTIONS.iter().find(|(known, _)| known == name) {
            Some((_, section)) => {
                section();
                ExitCode::SUCCESS
            }
            None => unknown(name),
        },
        _ => unknown(&args.join(" ")),
    }
}

fn unknown(what: &str) -> ExitCode {
    let known: Vec<&str> = SECTIONS.iter().map(|(name, _)| *name).collect();
    eprintln!(
        "layout: no section `{what}`: run with no argument, or with one of: {}",
        known.join(", ")
    );
    ExitCode::from(2)
}
