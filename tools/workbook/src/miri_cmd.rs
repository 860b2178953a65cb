//! `cargo workbook miri`: every allocator crate and every reference solution
//! under Miri, package by package with the time each took; the tests that
//! start threads run again over several scheduler seeds. Also a step of
//! `cargo workbook test`. `cargo workbook miri --install` installs the
//! pinned nightly and its Miri.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use workbook_support::process as bounded;

use crate::miri::{self, Selection};
use crate::{exercises, miri_report, project};

/// Building every package's tests for Miri, the first time on a fresh
/// machine, dependencies included.
const BUILD_LIMIT: Duration = Duration::from_secs(1200);

/// One package's run. The whole step should fit in ten minutes on two
/// cores, so a package that needs this long is stopped: its tests must
/// scale down under `cfg(miri)`.
const PACKAGE_LIMIT: Duration = Duration::from_secs(240);

pub fn run(install: bool, packages: &[String]) -> Result<(), String> {
    let root = project::root()?;
    let toolchain = miri::toolchain(&root)?;
    if install {
        return miri::install(&toolchain);
    }
    let packages = if packages.is_empty() {
        miri::packages(&root)?
    } else {
        packages.to_vec()
    };
    run_packages(&root, &toolchain, &packages)
}

/// The step of `cargo workbook test`.
pub fn step(root: &Path) -> Result<(), String> {
    let toolchain = miri::toolchain(root)?;
    run_packages(root, &toolchain, &miri::packages(root)?)
}

fn run_packages(root: &Path, toolchain: &str, all: &[String]) -> Result<(), String> {
    miri::ensure_ready(toolchain)?;
    let started = Instant::now();
    let children_cpu = bounded::children_cpu();
    let width = all.iter().map(String::len).max().unwrap_or(0) + 18;
    let mut packages = Vec::new();
    for package in all {
        match miri::package_skip_reason(root, package)? {
            Some(reason) => println!("  {package:width$} skip  ({reason})"),
            None => packages.push(package.as_str()),
        }
    }

    print!(
        "building the tests of {} packages for Miri … ",
        packages.len()
    );
    // The build takes a while: show the line before it starts.
    let _ = std::io::stdout().flush();
    let mut build = miri::cargo(toolchain);
    build
        .current_dir(root)
        .args(["miri", "test", "--no-run", "--quiet"])
        .env("MIRIFLAGS", miri::MIRIFLAGS);
    for package in &packages {
        build.args(["--package", package]);
    }
    let built = bounded::run_merged(&mut build, BUILD_LIMIT)?;
    println!("{}", timing(&built));
    if !built.success() {
        return Err(format!(
            "`{}` failed:\n{}",
            project::describe(&build),
            built.output
        ));
    }

    // Each package runs on one core (Miri is single-threaded; the seeds of
    // a thread run share the cores): two packages at once on two cores.
    // Cargo holds its lock only while building, so the runs do not wait.
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(packages.len()) {
            scope.spawn(|| {
                while let Some(&package) = packages.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let problems = run_one(root, toolchain, package, width);
                    failed
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .extend(problems);
                }
            });
        }
    });
    let failed = failed
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());

    // `run_one` reports at most one failure per package.
    let passed = packages.len() - failed.len();
    let skipped = all.len() - packages.len();
    println!(
        "Miri: {passed} of {} packages pass{}, in {} ({} of processor time, building included)",
        packages.len(),
        if skipped > 0 {
            format!(" ({skipped} skipped)")
        } else {
            String::new()
        },
        minutes(started.elapsed()),
        minutes(children_cpu.map_or(Duration::ZERO, |before| {
            bounded::children_cpu()
                .unwrap_or_default()
                .saturating_sub(before)
        }))
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} packages fail under Miri:\n  {}",
            failed.len(),
            packages.len(),
            failed.join("\n  ")
        ))
    }
}

/// Runs one package's tests under Miri (then its thread tests over the
/// seeds) and prints how each run went; returns the failure, if any (it
/// stops at the first).
fn run_one(root: &Path, toolchain: &str, package: &str, width: usize) -> Vec<String> {
    let mut selection = Selection::All;
    loop {
        let label = match selection {
            Selection::All => package.to_owned(),
            Selection::ThreadsOverSeeds => {
                format!("{package} threads ×{}", miri::THREAD_SEEDS)
            }
        };
        let mut cmd = miri::test_command(root, toolchain, package, selection, false);
        let done = match bounded::run_merged(&mut cmd, PACKAGE_LIMIT) {
            Ok(done) => done,
            Err(e) => {
                println!("  {label:width$} FAIL  {e}");
                return vec![format!("{label}: {e}")];
            }
        };
        let verdict = verdict(&done);
        let mut text = format!(
            "  {label:width$} {:4}  {:6.1} s",
            if verdict.is_ok() { "pass" } else { "FAIL" },
            done.took.as_secs_f64()
        );
        if let Err(why) = verdict {
            let shown = miri::shown(toolchain, package, selection);
            let why = explain_failure(root, package, &done.output, &why, &shown);
            for line in why.lines() {
                text.push_str("\n      ");
                text.push_str(line);
            }
            // One print, so a block is not cut by the other package's lines.
            println!("{text}");
            return vec![format!(
                "{label}: {}",
                why.lines().next().unwrap_or_default()
            )];
        }
        println!("{text}");
        if selection == Selection::All && miri::ran_thread_tests(&done.output) {
            selection = Selection::ThreadsOverSeeds;
        } else {
            return Vec::new();
        }
    }
}

/// `12.3 s (10.1 s of processor time)`.
fn timing(done: &bounded::Finished) -> String {
    let mut text = format!("{:6.1} s", done.took.as_secs_f64());
    if let Some(cpu) = done.cpu {
        text.push_str(&format!(" ({:.1} s of processor time)", cpu.as_secs_f64()));
    }
    text
}

/// Ok when the run passed; otherwise a first line saying how it failed.
fn verdict(done: &bounded::Finished) -> Result<(), String> {
    if done.timed_out() {
        let running = running_test(&done.output)
            .map(|test| format!(" while `{test}` was running"))
            .unwrap_or_default();
        Err(format!(
            "stopped after {} s{running}: scale its tests down under `cfg!(miri)`",
            done.took.as_secs()
        ))
    } else if done.success() {
        Ok(())
    } else {
        Err("failed".to_owned())
    }
}

/// The test libtest announced last without a result (`test NAME ... `).
fn running_test(output: &str) -> Option<String> {
    let last = output.lines().rev().find(|l| l.starts_with("test "))?;
    let name = last
        .trim_end()
        .strip_prefix("test ")?
        .strip_suffix(" ...")?;
    (!name.contains(" ... ")).then(|| name.to_owned())
}

/// What a maintainer needs to see: Miri's report explained, or the failing
/// tests, or the end of the output.
fn explain_failure(root: &Path, package: &str, output: &str, why: &str, rerun: &str) -> String {
    // A solution's own code is `solutions/exercise-N/src/`.
    let own = package
        .strip_prefix("solution-")
        .map(|n| format!("solutions/exercise-{n}/src/"));
    if let Some(report) = miri_report::first_report(output, own.as_deref()) {
        return format!(
            "{} ({})\n{}",
            report.kind.name,
            report.headline,
            miri_report::explain(&report, root, rerun)
        );
    }
    let (_, failures) = exercises::parse_libtest(output);
    if !failures.is_empty() {
        let mut text = format!("{} failing test(s); run: {rerun}\n", failures.len());
        for (name, message) in failures {
            text.push_str(&format!("{name}: {message}\n"));
        }
        return text;
    }
    let tail: Vec<&str> = output.lines().rev().take(30).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!("{why}; run: {rerun}\n{}", tail.join("\n"))
}

pub fn minutes(took: Duration) -> String {
    let seconds = took.as_secs();
    format!("{} min {:02} s", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_still_running_is_the_last_without_a_result() {
        let output = "running 2 tests\ntest instance_whose_base_is_16_mod_32 ... ok\ntest ordinary_instance ... \n";
        assert_eq!(running_test(output).as_deref(), Some("ordinary_instance"));
        assert_eq!(running_test("test a ... ok\n"), None);
    }
}
