//! The bump chapter's program: the arena as the global allocator, then why
//! the offset must not be what gets aligned.
//!
//! The compiler may remove or merge allocations whose memory nothing looks
//! at, so every value measured here passes through `std::hint::black_box`.

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;

use bump::{BumpAlloc, UnderAligned, address_aligned, offset_aligned_address};

// ANCHOR: global
const ARENA_SIZE: usize = 64 * 1024;

#[global_allocator]
static GLOBAL: BumpAlloc<ARENA_SIZE> = BumpAlloc::new();
// ANCHOR_END: global

/// The arena's counters at one moment.
#[derive(Clone, Copy)]
struct Usage {
    used: usize,
    padding: usize,
    fallbacks: usize,
    fallback_live: usize,
}

impl Usage {
    fn now() -> Self {
        Self {
            used: GLOBAL.used(),
            padding: GLOBAL.padding_wasted(),
            fallbacks: GLOBAL.fallback_count(),
            fallback_live: GLOBAL.fallback_live(),
        }
    }
}

/// Prints one step: where its block went and how the counters moved. It
/// formats straight to stdout, so printing allocates nothing new.
fn report(step: &str, block: *const u8, before: Usage) {
    let after = Usage::now();
    println!("{step}");
    match GLOBAL.arena_offset(block) {
        Some(offset) => println!("    block:    arena offset {offset}"),
        None => println!("    block:    System (fallback)"),
    }
    println!(
        "    used:     {} bytes (+{}), padding {} bytes (+{})",
        after.used,
        after.used - before.used,
        after.padding,
        after.padding - before.padding
    );
    println!(
        "    fallback: {} so far, {} live",
        plural(after.fallbacks, "request"),
        plural(after.fallback_live, "block")
    );
}

/// A value that demands 64-byte alignment, like a cache-line-sized buffer.
#[repr(align(64))]
struct CacheLine([u8; 64]);

// ANCHOR: global_demo
/// `at_main` is read as `main` starts, before reading the arguments or the
/// first print allocate.
fn global_arena(at_main: Usage) {
    println!("Part 1: BumpAlloc<{ARENA_SIZE}> as the global allocator");
    println!(
        "  used before main ran: {} bytes ({} of them padding)",
        at_main.used, at_main.padding
    );
    println!(
        "  used after reading the arguments and the first println: {} bytes",
        GLOBAL.used()
    );

    let before = Usage::now();
    let boxed = black_box(Box::new(42u64));
    report("  Box::new(42u64)", (&raw const *boxed).cast(), before);

    let before = Usage::now();
    let mut numbers: Vec<u32> = Vec::new();
    for n in 0..100 {
        // Through `black_box`, so every growth step is really taken.
        black_box(&mut numbers).push(n);
    }
    report(
        "  Vec<u32> grown by push to 100 elements",
        numbers.as_ptr().cast(),
        before,
    );
    println!(
        "    capacity {}: every outgrown buffer stays in the arena",
        numbers.capacity()
    );

    let before = Usage::now();
    let line = black_box(Box::new(CacheLine([1; 64])));
    let line_ptr: *const u8 = line.0.as_ptr();
    report("  Box<CacheLine>, align 64", line_ptr, before);
    println!("    address % 64 = {}", line_ptr.addr() % 64);

    let before = Usage::now();
    let big = black_box(vec![0u8; 100 * 1024]);
    report(
        "  vec![0u8; 100 KiB], more than the arena holds",
        big.as_ptr(),
        before,
    );

    drop(big);
    println!(
        "  after drop(big): {} fallback blocks live, arena still {} bytes used",
        GLOBAL.fallback_live(),
        GLOBAL.used()
    );
    drop((boxed, numbers, line));
}
// ANCHOR_END: global_demo

// ANCHOR: offset_demo
fn why_align_the_address() {
    println!("Part 2: align the address, not the offset");
    let demo: UnderAligned<8192> = UnderAligned::new();
    let base = demo.bump.base_addr();
    println!(
        "  arena base % 16 = {}, base % 32 = {}",
        base % 16,
        base % 32
    );
    println!("  request: 64 bytes from an empty arena (offset 0); each column is address % align");
    println!("  align  offset rounded  address rounded  BumpAlloc::alloc (at arena offset)");
    for align in [64, 512, 4096] {
        let shortcut = offset_aligned_address(base, 0, align).unwrap_or(0);
        let correct = address_aligned(base, 0, align).unwrap_or(0);
        let layout =
            Layout::from_size_align(64, align).expect("64 bytes at a power-of-two alignment");
        // SAFETY: the layout has a non-zero size; the block is only inspected.
        let block = unsafe { demo.bump.alloc(layout) };
        let place = demo
            .bump
            .arena_offset(block)
            .map_or("System".to_string(), |offset| offset.to_string());
        println!(
            "  {align:>5}  {:>14}  {:>15}  {:>16} (at {place})",
            shortcut % align,
            correct % align,
            block.addr() % align,
        );
        // SAFETY: `block` came from `demo.bump.alloc(layout)` and is not used
        // again; this thread is the only one using `demo`, so the reset
        // below races with nothing and leaves no block in use.
        unsafe {
            demo.bump.dealloc(block, layout);
            demo.bump.reset();
        }
    }
}
// ANCHOR_END: offset_demo

/// With no argument both parts run; the chapter runs each part where it
/// explains it: `global` or `alignment`.
fn main() -> std::process::ExitCode {
    let at_main = Usage::now();
    match std::env::args().nth(1).as_deref() {
        None => {
            global_arena(at_main);
            println!();
            why_align_the_address();
        }
        Some("global") => global_arena(at_main),
        Some("alignment") => why_align_the_address(),
        Some(other) => {
            eprintln!("bump: no part `{other}`: run with no argument, `global` or `alignment`");
            return std::process::ExitCode::from(2);
        }
    }
    std::process::ExitCode::SUCCESS
}

/// `1 request`, `2 requests`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
