//! Runs every allocator's program on every workload, compares each with
//! System from the same run, and writes the report: Markdown on stdout and
//! `report.md`, `report.json` and `report.svg` in the output directory.
//! Progress goes to stderr, so stdout is the clean report. With
//! `--inline-chart` the Markdown carries the chart too (the book's page).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use allocator_bench::report::{self, Machine, Report};
use allocator_bench::{ALLOCATORS, Cell, Mode, Workload};

const USAGE: &str =
    "usage: allocator-bench [--quick | --smoke] [--out DIR] [--no-build] [--inline-chart]

  (no mode)   the full measurement (a few minutes)
  --quick     smaller workloads, fewer runs (well under a minute)
  --smoke     tiny workloads: checks results, the numbers mean nothing
  --out DIR   where to write report.json, report.md and report.svg
              (default: allocator-bench/ in the target directory)
  --no-build  do not run `cargo build` for the bench-* programs first
  --inline-chart
              put the chart into the Markdown too, as an <svg> element
              (for a web page such as the book's)";

struct Options {
    mode: Mode,
    out: Option<PathBuf>,
    build: bool,
    inline_chart: bool,
}

fn parse_args(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options {
        mode: Mode::Full,
        out: None,
        build: true,
        inline_chart: false,
    };
    let mut mode_flag: Option<&str> = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            flag @ ("--quick" | "--smoke") => {
                if let Some(earlier) = mode_flag.replace(flag) {
                    return Err(format!("`{earlier}` and `{flag}` cannot be combined"));
                }
                options.mode = if flag == "--quick" {
                    Mode::Quick
                } else {
                    Mode::Smoke
                };
            }
            "--out" => {
                let dir = iter.next().ok_or("`--out` needs a directory")?;
                options.out = Some(PathBuf::from(dir));
            }
            "--no-build" => options.build = false,
            "--inline-chart" => options.inline_chart = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(options))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("error: {err}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), String> {
    let started = Instant::now();
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this program's path: {e}"))?;
    let bin_dir = exe.parent().ok_or("this program's path has no directory")?;
    if options.build {
        build_siblings(bin_dir)?;
    }
    let sizes = options.mode.sizes();
    // Workload by workload, so System and the others run close in time.
    let jobs: Vec<_> = Workload::ALL
        .into_iter()
        .flat_map(|w| {
            ALLOCATORS
                .iter()
                .filter(move |spec| spec.workloads.contains(&w))
                .map(move |spec| (spec, w))
        })
        .collect();
    let total = jobs.len() * sizes.rounds;
    let mut cells: Vec<Cell> = Vec::with_capacity(jobs.len());
    for round in 1..=sizes.rounds {
        for (i, (spec, workload)) in jobs.iter().enumerate() {
            eprintln!(
                "[{}/{total}] {} mode, round {round}/{}: {} · {}",
                (round - 1) * jobs.len() + i + 1,
                options.mode.name(),
                sizes.rounds,
                spec.name,
                workload.name(),
            );
            let program_name = spec.program();
            let program = bin_dir.join(format!("{program_name}{}", std::env::consts::EXE_SUFFIX));
            let cell = run_child(&program, workload.name(), options.mode)?;
            if cell.allocator != spec.name
                || cell.workload != workload.name()
                || cell.checksum != workload.expected(&sizes)
            {
                return Err(format!(
                    "`{program_name}` answered for {} · {} with checksum {}, expected {} · {} with {}",
                    cell.allocator,
                    cell.workload,
                    cell.checksum,
                    spec.name,
                    workload.name(),
                    workload.expected(&sizes)
                ));
            }
            match cells
                .iter_mut()
                .find(|c| c.allocator == cell.allocator && c.workload == cell.workload)
            {
                Some(earlier) => earlier.merge(cell)?,
                None => cells.push(cell),
            }
        }
    }

    let report = Report::new(Machine::current(options.mode), cells);
    // report.md is exactly what is printed.
    let markdown = if options.inline_chart {
        report::markdown_with_chart(&report)
    } else {
        report::markdown(&report)
    };
    let json =
        serde_json::to_string_pretty(&report).map_err(|e| format!("cannot write JSON: {e}"))?;
    let out = match &options.out {
        Some(dir) => dir.clone(),
        None => default_out_dir(bin_dir),
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for (name, text) in [
        ("report.json", json),
        ("report.md", markdown.clone()),
        ("report.svg", report::svg(&report)),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    print!("{markdown}");
    eprintln!(
        "done in {:.1} s; report.json, report.md and report.svg are in {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// `<target dir>/allocator-bench`, beside the profile directory we run from.
fn default_out_dir(bin_dir: &Path) -> PathBuf {
    bin_dir.parent().unwrap_or(bin_dir).join("allocator-bench")
}

/// `cargo run` builds only the program it runs; the `bench-*` programs
/// beside it may be missing or stale. Build them with the same profile and
/// target directory (nothing to do when they are fresh). Started by hand,
/// outside cargo, we trust what is there.
fn build_siblings(bin_dir: &Path) -> Result<(), String> {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return Ok(());
    };
    let profile = bin_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug");
    let target_dir = bin_dir
        .parent()
        .ok_or("the build directory has no parent")?;
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "--bins", "--package", "allocator-bench"])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    match profile {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    eprintln!("building the bench-* programs ({profile})");
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot start cargo to build the bench-* programs: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("building the bench-* programs failed ({status})"))
    }
}

fn run_child(program: &Path, workload: &str, mode: Mode) -> Result<Cell, String> {
    let output = Command::new(program)
        .args(["--workload", workload, "--mode", mode.name()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            format!(
                "cannot run {}: {e} (build it with `cargo build -p allocator-bench --bins`)",
                program.display()
            )
        })?;
    if !output.status.success() {
        return Err(format!("{} failed ({})", program.display(), output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).map_err(|e| {
        format!(
            "{} printed no valid result ({e}): {stdout}",
            program.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn modes_and_options() {
        let o = parse_args(&args(&[])).unwrap().unwrap();
        assert_eq!(
            (o.mode, o.build, o.out, o.inline_chart),
            (Mode::Full, true, None, false)
        );
        let o = parse_args(&args(&["--smoke", "--no-build", "--out", "x"]))
            .unwrap()
            .unwrap();
        assert_eq!(
            (o.mode, o.build, o.out, o.inline_chart),
            (Mode::Smoke, false, Some("x".into()), false)
        );
        let o = parse_args(&args(&["--inline-chart", "--quick"]))
            .unwrap()
            .unwrap();
        assert_eq!((o.mode, o.inline_chart), (Mode::Quick, true));
        assert!(parse_args(&args(&["--help"])).unwrap().is_none());
    }

    #[test]
    fn bad_arguments_are_named() {
        for (given, says) in [
            (&["--fast"][..], "unknown argument `--fast`"),
            (
                &["--quick", "--smoke"][..],
                "`--quick` and `--smoke` cannot be combined",
            ),
            (&["--out"][..], "`--out` needs a directory"),
        ] {
            let err = parse_args(&args(given)).err().unwrap();
            assert!(err.contains(says), "{given:?}: {err}");
        }
    }
}
