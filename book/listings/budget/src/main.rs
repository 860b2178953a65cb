//! A budget that first only flags, then refuses, with `Vec::try_reserve`
//! turning a refusal into an error the program handles.
//!
//! The compiler may remove or merge allocations whose memory nothing looks
//! at, even though the budget would have counted them, so every value
//! measured here passes through `std::hint::black_box`.

use std::hint::black_box;

use budget::{BudgetAlloc, Policy};

// ANCHOR: install
/// Starts as an alarm: 1 MiB of live memory, flag only.
#[global_allocator]
static GLOBAL: BudgetAlloc = BudgetAlloc::flag_only(1024 * 1024);
// ANCHOR_END: install

const KIB: usize = 1024;

fn main() {
    flag_only();
    refuse_and_recover();
}

// ANCHOR: flag
fn flag_only() {
    let live_at_start = GLOBAL.live_bytes();
    let small = black_box(vec![1u8; 8 * KIB]);
    let flagged_after_small = GLOBAL.over_budget();
    let big = black_box(vec![2u8; 2 * 1024 * KIB]);
    let live_with_big = GLOBAL.live_bytes();
    let flagged_after_big = GLOBAL.over_budget();
    drop((small, big));
    // Read before printing: the first println! allocates stdout's buffer.
    let live_after = GLOBAL.live_bytes();

    println!("== Policy::FlagOnly, limit {} bytes", GLOBAL.limit());
    println!("live at start:           {live_at_start} bytes");
    println!("after an 8 KiB Vec:      over budget = {flagged_after_small}");
    println!("after a 2 MiB Vec:       over budget = {flagged_after_big}");
    println!("live with both:          {live_with_big} bytes (served anyway)");
    println!("peak so far:             {} bytes", GLOBAL.peak_bytes());
    println!("live after dropping:     {live_after} bytes");
}
// ANCHOR_END: flag

// ANCHOR: refuse
fn refuse_and_recover() {
    GLOBAL.clear_flag();
    GLOBAL.set_policy(Policy::Refuse);
    // Leave 64 KiB of headroom above what is live now.
    GLOBAL.set_limit(GLOBAL.live_bytes() + 64 * KIB);
    println!();
    println!(
        "== Policy::Refuse, limit {} bytes ({} live + 64 KiB)",
        GLOBAL.limit(),
        GLOBAL.live_bytes()
    );

    let mut buffer: Vec<u8> = Vec::new();
    // The buffer's address escapes, so every allocation stored in it stays.
    black_box(&mut buffer);
    let live_before = GLOBAL.live_bytes();
    match buffer.try_reserve(1024 * KIB) {
        Ok(()) => println!("try_reserve(1 MiB):      Ok (unexpected)"),
        Err(e) => println!("try_reserve(1 MiB):      Err: {e}"),
    }
    println!(
        "live bytes unchanged:    {}",
        GLOBAL.live_bytes() == live_before
    );
    println!("refusals:                {}", GLOBAL.refusals());
    println!("over budget:             {}", GLOBAL.over_budget());

    // The program carries on: a request that fits is served.
    match buffer.try_reserve(32 * KIB) {
        Ok(()) => println!(
            "try_reserve(32 KiB):     Ok, capacity {}",
            buffer.capacity()
        ),
        Err(e) => println!("try_reserve(32 KiB):     Err: {e}"),
    }
    // Growing past the limit goes through realloc and is refused too.
    match buffer.try_reserve_exact(128 * KIB) {
        Ok(()) => println!("grow to 128 KiB:         Ok (unexpected)"),
        Err(e) => println!("grow to 128 KiB:         Err: {e}"),
    }
    println!("capacity kept:           {}", buffer.capacity());

    // Raising the limit at run time lets the big request through.
    GLOBAL.set_limit(GLOBAL.live_bytes() + 2 * 1024 * KIB);
    match buffer.try_reserve(1024 * KIB) {
        Ok(()) => println!(
            "after raising the limit: Ok, capacity {}",
            buffer.capacity()
        ),
        Err(e) => println!("after raising the limit: Err: {e}"),
    }
    println!("refusals in total:       {}", GLOBAL.refusals());
}
// ANCHOR_END: refuse
