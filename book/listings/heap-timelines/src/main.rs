//! Records scenarios and prints what the book shows: a table of numbers from
//! the traces and the pictures, as Markdown with inline SVG.
//!
//! ```sh
//! heap-timelines vec-push 1000
//! heap-timelines vec-push vec-with-capacity 1000   # side by side
//! heap-timelines --list
//! ```

use std::alloc::System;
use std::process::ExitCode;

use heap_timelines::markdown::{Recorded, markdown};
use heap_timelines::scenarios::{self, Scenario};
use heap_trace::TraceAlloc;

#[global_allocator]
static GLOBAL: TraceAlloc<System> = TraceAlloc::new(System);

const USAGE: &str = "usage: heap-timelines SCENARIO [SCENARIO ...] N\n       heap-timelines --list";

/// The scenarios and `n` the command line asks for.
fn parse(args: &[String]) -> Result<(Vec<&'static Scenario>, usize), String> {
    let Some((n_text, names)) = args.split_last() else {
        return Err(format!("no scenario given\n{USAGE}"));
    };
    if names.is_empty() {
        return Err(format!(
            "give a scenario and n, e.g. `heap-timelines vec-push 1000`\n{USAGE}"
        ));
    }
    let chosen = names
        .iter()
        .map(|name| scenarios::find(name))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut n = 0;
    for scenario in &chosen {
        n = scenarios::parse_n(scenario, n_text).map_err(|e| e.to_string())?;
    }
    Ok((chosen, n))
}

fn list() -> String {
    scenarios::all()
        .iter()
        .map(|s| {
            format!(
                "{:<18} n from {} to {}: {}\n",
                s.name(),
                s.n_range().start(),
                s.n_range().end(),
                s.description()
            )
        })
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list") {
        print!("{}", list());
        return ExitCode::SUCCESS;
    }
    let (chosen, n) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("heap-timelines: {message}");
            return ExitCode::from(2);
        }
    };
    // ANCHOR: record
    let runs: Vec<Recorded> = chosen
        .into_iter()
        .map(|scenario| {
            let ((), trace) = GLOBAL.record_this_thread(|| scenario.run(n));
            Recorded { scenario, n, trace }
        })
        .collect();
    // ANCHOR_END: record
    match markdown(&runs) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("heap-timelines: {e}");
            ExitCode::FAILURE
        }
    }
}
