//! The jemalloc chapter's program: jemalloc's counters around a 10 MiB
//! vector, then which environment variable configures this jemalloc.

use std::error::Error;
use std::hint::black_box;
use std::process::ExitCode;

use jemalloc_stats::{
    CONF_VAR, MemoryStats, PRINT_NARENAS_ARG, UNPREFIXED_CONF_VAR, change, narenas,
    narenas_in_child, read_stats,
};

// ANCHOR: global
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
// ANCHOR_END: global

const TEN_MIB: usize = 10 * 1024 * 1024;

fn print_row(label: &str, stats: MemoryStats) {
    println!(
        "  {label:<24} {:>12} {:>12}",
        stats.allocated, stats.resident
    );
}

fn print_change(label: &str, from: MemoryStats, to: MemoryStats) {
    println!(
        "  {label:<24} {:>+12} {:>+12}",
        change(from.allocated, to.allocated),
        change(from.resident, to.resident)
    );
}

// ANCHOR: around_vec
fn stats_around_a_vec() -> Result<(), Box<dyn Error>> {
    println!("jemalloc statistics in bytes (epoch advanced before every read)");
    println!("  {:<24} {:>12} {:>12}", "", "allocated", "resident");
    let before = read_stats()?;
    // Filled with ones, so every page is written and becomes resident.
    let big = black_box(vec![1u8; TEN_MIB]);
    let alive = read_stats()?;
    drop(big);
    let after = read_stats()?;
    print_row("before", before);
    print_row("10 MiB Vec<u8> alive", alive);
    print_row("after drop", after);
    print_change("change: alive - before", before, alive);
    print_change("change: after - alive", alive, after);
    Ok(())
}
// ANCHOR_END: around_vec

// ANCHOR: conf_var
fn which_variable_configures_jemalloc() -> Result<(), Box<dyn Error>> {
    let exe = std::env::current_exe()?;
    let default = narenas_in_child(&exe, None)?;
    println!();
    println!("opt.narenas as a child process sees it");
    println!("  {:<32} {default:>3}", "no configuration variable");
    for variable in [UNPREFIXED_CONF_VAR, CONF_VAR] {
        let seen = narenas_in_child(&exe, Some((variable, "narenas:3")))?;
        let verdict = if seen == default {
            "unchanged"
        } else {
            "changed"
        };
        let setting = format!("{variable}=narenas:3");
        println!("  {setting:<32} {seen:>3}  ({verdict})");
    }
    Ok(())
}
// ANCHOR_END: conf_var

fn run(args: &[String]) -> Result<(), Box<dyn Error>> {
    match args {
        [] => {
            stats_around_a_vec()?;
            which_variable_configures_jemalloc()
        }
        [flag] if flag == PRINT_NARENAS_ARG => {
            println!("{}", narenas()?);
            Ok(())
        }
        _ => Err(format!(
            "unexpected arguments {args:?}: run with no arguments, or with {PRINT_NARENAS_ARG}"
        )
        .into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("jemalloc-stats: {error}");
            ExitCode::from(2)
        }
    }
}
