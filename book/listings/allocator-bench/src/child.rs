//! The body of every `bench-*` program: time one workload under this
//! program's global allocator and print the result as one JSON line.
//!
//! Usage: `bench-NAME --workload WORKLOAD --mode smoke|quick|full`

use std::process::ExitCode;

use crate::workloads::{self, Runner, Workload};
use crate::{ArenaUse, Cell, Mode, Sizes, allocator, harness};

/// What a fixed-size arena reports about itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct ArenaCounters {
    pub capacity_bytes: usize,
    pub used_bytes: usize,
    pub fallbacks: usize,
}

/// How an allocator's program differs from the plain one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hooks {
    /// Reads the global arena's counters, for an arena allocator.
    pub arena: Option<fn() -> ArenaCounters>,
    /// Runs the batch workload some other way than through the global
    /// allocator (a scoped arena).
    pub batch: Option<fn(Sizes) -> Runner>,
    /// Called before every run, outside the timed region.
    pub before_run: Option<fn()>,
}

/// Parses the arguments, runs, prints; the exit code says whether it worked.
pub fn main(allocator_name: &str, hooks: Hooks) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = parse_args(&args)
        .and_then(|(workload, mode)| run(allocator_name, hooks, workload, mode))
        .and_then(|cell| {
            serde_json::to_string(&cell).map_err(|e| format!("cannot write JSON: {e}"))
        });
    match outcome {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("bench-{allocator_name}: {err}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: --workload WORKLOAD --mode smoke|quick|full";

/// Reads `--workload NAME --mode MODE` (both required, any order).
pub fn parse_args(args: &[String]) -> Result<(Workload, Mode), String> {
    let (mut workload, mut mode) = (None, None);
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |flag: &str| {
            iter.next()
                .ok_or_else(|| format!("`{flag}` needs a value; {USAGE}"))
        };
        match arg.as_str() {
            "--workload" => {
                let name = value("--workload")?;
                workload = Some(Workload::parse(name).ok_or_else(|| {
                    let known: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
                    format!("unknown workload `{name}`; known: {}", known.join(", "))
                })?);
            }
            "--mode" => {
                let name = value("--mode")?;
                mode =
                    Some(Mode::parse(name).ok_or_else(|| {
                        format!("unknown mode `{name}`; known: smoke, quick, full")
                    })?);
            }
            other => return Err(format!("unknown argument `{other}`; {USAGE}")),
        }
    }
    match (workload, mode) {
        (Some(w), Some(m)) => Ok((w, m)),
        _ => Err(format!(
            "both `--workload` and `--mode` are required; {USAGE}"
        )),
    }
}

fn run(allocator_name: &str, hooks: Hooks, workload: Workload, mode: Mode) -> Result<Cell, String> {
    let spec = allocator(allocator_name)
        .ok_or_else(|| format!("`{allocator_name}` is not in ALLOCATORS"))?;
    if !spec.workloads.contains(&workload) {
        return Err(format!(
            "`{allocator_name}` does not run the `{}` workload",
            workload.name()
        ));
    }
    let sizes = mode.sizes();
    let fallbacks_before = hooks.arena.map(|read| read().fallbacks);
    let mut runner = match (workload, hooks.batch) {
        (Workload::Batch, Some(make)) => make(sizes),
        _ => workloads::runner(workload, sizes),
    };
    let ops = workload.ops(&sizes);
    let runs = harness::measure(
        sizes.warmup,
        sizes.reps,
        ops,
        workload.expected(&sizes),
        &mut runner,
        || {
            if let Some(prepare) = hooks.before_run {
                prepare();
            }
        },
    )
    .map_err(|e| format!("{}: {e}", workload.name()))?;
    let timing =
        harness::Timing::from_samples(&runs.ns_per_op).ok_or("no timed runs (reps is 0)")?;
    let arena = hooks.arena.map(|read| {
        let now = read();
        ArenaUse {
            capacity_bytes: now.capacity_bytes as u64,
            used_bytes: now.used_bytes as u64,
            fallbacks: now.fallbacks.saturating_sub(fallbacks_before.unwrap_or(0)) as u64,
        }
    });
    Ok(Cell {
        allocator: allocator_name.to_owned(),
        workload: workload.name().to_owned(),
        ops_per_rep: ops,
        warmup: sizes.warmup,
        reps: runs.ns_per_op.len(),
        samples_ns: runs.ns_per_op,
        timing,
        minor_faults: runs.minor_faults,
        checksum: workload.expected(&sizes),
        arena,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_both_flags_in_any_order() {
        let want = Ok((Workload::VecGrowth, Mode::Quick));
        assert_eq!(
            parse_args(&args(&["--workload", "vec-growth", "--mode", "quick"])),
            want
        );
        assert_eq!(
            parse_args(&args(&["--mode", "quick", "--workload", "vec-growth"])),
            want
        );
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        for (given, says) in [
            (
                &["--workload", "nope", "--mode", "quick"][..],
                "unknown workload `nope`",
            ),
            (
                &["--workload", "batch", "--mode", "fast"][..],
                "unknown mode `fast`",
            ),
            (&["--workload"][..], "`--workload` needs a value"),
            (
                &["--mode", "smoke"][..],
                "both `--workload` and `--mode` are required",
            ),
            (&["--verbose"][..], "unknown argument `--verbose`"),
        ] {
            let err = parse_args(&args(given)).unwrap_err();
            assert!(err.contains(says), "{given:?}: {err}");
        }
    }
}
