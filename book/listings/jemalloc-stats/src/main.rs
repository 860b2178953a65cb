//! The jemalloc chapter's program: jemalloc's counters and the operating
//! system's resident memory around two 10 MiB vectors, one never written and
//! one written in full, then which environment variable configures this
//! jemalloc. `stats` or `config` runs one part, as the chapter does.

use std::error::Error;
use std::hint::black_box;
use std::process::ExitCode;

use jemalloc_stats::{
    CONF_VAR, MemoryStats, PRINT_NARENAS_ARG, UNPREFIXED_CONF_VAR, change, narenas,
    narenas_in_child, os_resident, read_stats,
};

// ANCHOR: global
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
// ANCHOR_END: global

const TEN_MIB: usize = 10 * 1024 * 1024;

/// jemalloc's two counters and the operating system's resident set, read
/// together.
#[derive(Clone, Copy)]
struct Reading {
    jemalloc: MemoryStats,
    os_resident: Option<usize>,
}

fn read() -> Result<Reading, Box<dyn Error>> {
    // The OS first: reading its file allocates a little, and freeing that
    // before jemalloc is asked keeps it out of `allocated`.
    let os_resident = os_resident();
    Ok(Reading {
        jemalloc: read_stats()?,
        os_resident,
    })
}

fn print_change(label: &str, from: Reading, to: Reading) {
    let os = match (from.os_resident, to.os_resident) {
        (Some(a), Some(b)) => format!("{:+}", change(a, b)),
        _ => "not available".to_owned(),
    };
    println!(
        "  {label:<34} {:>+15} {:>+15} {os:>14}",
        change(from.jemalloc.allocated, to.jemalloc.allocated),
        change(from.jemalloc.resident, to.jemalloc.resident),
    );
}

// ANCHOR: around_vec
fn stats_around_two_vecs() -> Result<(), Box<dyn Error>> {
    let start = read()?;
    // Zeroed memory: jemalloc asks for fresh pages, which the kernel hands
    // out as zeros, so nothing writes them.
    let zeros = black_box(vec![0u8; TEN_MIB]);
    let zeros_alive = read()?;
    drop(zeros);
    let zeros_gone = read()?;
    // Every byte written, so every page really gets physical memory.
    let ones = black_box(vec![1u8; TEN_MIB]);
    let ones_alive = read()?;
    drop(ones);
    let ones_gone = read()?;

    println!("Change in bytes; jemalloc's epoch is advanced before every read");
    println!(
        "  {:<34} {:>15} {:>15} {:>14}",
        "", "stats.allocated", "stats.resident", "OS: VmRSS"
    );
    print_change("vec![0u8; 10 MiB], never written", start, zeros_alive);
    print_change("  dropped", zeros_alive, zeros_gone);
    print_change("vec![1u8; 10 MiB], all written", zeros_gone, ones_alive);
    print_change("  dropped", ones_alive, ones_gone);
    println!(
        "stats.resident at the end: {} bytes, stats.allocated: {} bytes",
        ones_gone.jemalloc.resident, ones_gone.jemalloc.allocated
    );
    Ok(())
}
// ANCHOR_END: around_vec

// ANCHOR: conf_var
fn which_variable_configures_jemalloc() -> Result<(), Box<dyn Error>> {
    let exe = std::env::current_exe()?;
    let default = narenas_in_child(&exe, None)?;
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
            stats_around_two_vecs()?;
            println!();
            which_variable_configures_jemalloc()
        }
        [section] if section == "stats" => stats_around_two_vecs(),
        [section] if section == "config" => which_variable_configures_jemalloc(),
        [flag] if flag == PRINT_NARENAS_ARG => {
            println!("{}", narenas()?);
            Ok(())
        }
        _ => Err(format!(
            "unexpected arguments {args:?}: run with no arguments (both parts), \
             `stats` or `config` (one part), or {PRINT_NARENAS_ARG}"
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
