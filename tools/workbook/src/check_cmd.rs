//! `cargo workbook check N [--miri] [--timeout SECS]`: runs exercise N's
//! tests and says what passes and what is left. A panic in the learner's
//! code is shown at its line; a test run that does not end (a deadlock) is
//! stopped after a time limit, naming the tests that had not finished.
//! With `--miri` the tests run under Miri and its first report is explained.

use std::path::Path;
use std::time::Duration;

use workbook_support::process::{self as bounded, Finished};

use crate::exercises::{self, Exercise, TestRun};
use crate::miri::{self, Selection};
use crate::{miri_report, project};

/// How long a native test run may take before it is stopped as hung.
const NATIVE_LIMIT: Duration = Duration::from_secs(120);
/// Miri interprets every step, so the same tests take far longer.
const MIRI_LIMIT: Duration = Duration::from_secs(600);
/// Compiling comes before the limit starts: the first build on a fresh
/// clone compiles the dependencies too.
const BUILD_LIMIT: Duration = Duration::from_secs(1800);

/// The flags `check` and `watch` share.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Options {
    /// Run the tests under Miri.
    pub miri: bool,
    /// Stop a test run after this long (default: 120 s, 600 s under Miri).
    pub timeout: Option<Duration>,
}

impl Options {
    fn limit(&self) -> Duration {
        self.timeout
            .unwrap_or(if self.miri { MIRI_LIMIT } else { NATIVE_LIMIT })
    }
}

pub fn run(number: u32, options: Options) -> Result<(), String> {
    let root = project::root()?;
    let all = exercises::load(&root)?;
    let exercise = exercises::by_number(&all, number)?;
    if check(&root, exercise, &options)? {
        Ok(())
    } else {
        Err(format!("exercise {} is not solved yet", exercise.number))
    }
}

/// Runs and summarises the tests; true when they all pass.
pub fn check(root: &Path, exercise: &Exercise, options: &Options) -> Result<bool, String> {
    if options.miri {
        return check_under_miri(root, exercise, options);
    }
    let package = exercise.package();
    println!(
        "Exercise {}: {} — running `cargo test -p {package}` …",
        exercise.number, exercise.title,
    );
    let mut build = project::cargo(root);
    build.args(["test", "--no-run", "--package", &package]);
    let mut cmd = project::cargo(root);
    cmd.args(["test", "--no-fail-fast", "--package", &package])
        .env("RUST_BACKTRACE", "0");
    let done = build_then_run(&mut build, &mut cmd, options.limit())?;
    if done.timed_out() {
        let mut list = project::cargo(root);
        list.args(["test", "--package", &package, "--", "--list"]);
        report_hung(exercise, &done, &mut list);
        return Ok(false);
    }
    let solved = summarise(root, exercise, &done, false);
    if solved {
        println!(
            "\nAll {} tests pass: exercise {} is solved. \
             See the reference solution beside yours: `cargo workbook compare {}`",
            passed_count(&done.output),
            exercise.number,
            exercise.number
        );
        report_lints(root, exercise);
    }
    Ok(solved)
}

/// After the tests pass: what the compiler and the workspace's lints (the
/// ones `cargo workbook test` enforces, such as a `// SAFETY:` comment on
/// every `unsafe` block) say about the learner's own file. Advice, not a
/// verdict: the exercise is solved either way.
fn report_lints(root: &Path, exercise: &Exercise) {
    let mut cmd = project::cargo(root);
    cmd.args([
        "clippy",
        "--quiet",
        "--all-targets",
        "--message-format=short",
    ])
    .args(["--color", "never", "--package", &exercise.package()]);
    let Ok(out) = project::output(&mut cmd) else {
        return;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lib = exercise.lib().to_string_lossy().into_owned();
    let remarks = remarks_on(&stderr, &lib);
    if remarks.is_empty() {
        println!("The compiler and the workspace's lints have nothing to say about your code.");
    } else {
        println!(
            "\nThe compiler and the workspace's lints have {} remark(s) on your code \
             (`cargo clippy -p {}` shows each in full):",
            remarks.len(),
            exercise.package()
        );
        for remark in remarks {
            println!("  {remark}");
        }
    }
}

/// The `--message-format=short` lines about `file`: `path:line:col: level: message`.
fn remarks_on<'a>(stderr: &'a str, file: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|line| {
            line.starts_with(file) && (line.contains(": warning: ") || line.contains(": error: "))
        })
        .collect()
}

fn check_under_miri(root: &Path, exercise: &Exercise, options: &Options) -> Result<bool, String> {
    if let Some(reason) = miri::skip_reason(root, exercise)? {
        return Err(format!(
            "exercise {} does not run under Miri: {reason}. `cargo workbook check {}` runs its \
             tests natively.",
            exercise.number, exercise.number
        ));
    }
    let toolchain = miri::toolchain(root)?;
    miri::ensure_ready(&toolchain)?;
    let package = exercise.package();
    let mut passed = 0;
    let mut selection = Selection::All;
    loop {
        let shown = miri::shown(&toolchain, &package, selection);
        match selection {
            Selection::All => println!(
                "Exercise {}: {} — running its tests under Miri (`{shown}`) …\n\
                 Miri checks every step for undefined behaviour, so this takes a minute or more.",
                exercise.number, exercise.title
            ),
            Selection::ThreadsOverSeeds => println!(
                "\nThe tests that start threads again, over {} schedules of the threads \
                 (a race shows only on some) …",
                miri::THREAD_SEEDS
            ),
        }
        let mut build = miri::test_command(root, &toolchain, &package, selection, true);
        let mut cmd = miri::test_command(root, &toolchain, &package, selection, false);
        let done = build_then_run(&mut build, &mut cmd, options.limit())?;
        let yours = your_code(exercise);
        if let Some(report) = miri_report::first_report(&done.output, Some(&yours)) {
            // Tests that passed before the report are still worth seeing
            // (a run over many seeds repeats them, interleaved).
            if selection == Selection::All {
                for name in exercises::parse_libtest(&done.output).0 {
                    println!("  pass  {name}");
                }
            }
            println!("\n{}", miri_report::explain(&report, root, &shown));
            return Ok(false);
        }
        if done.timed_out() {
            let mut list = miri::cargo(&toolchain);
            list.current_dir(root)
                .args(["miri", "test", "--package", &package, "--", "--list"])
                .env("MIRIFLAGS", miri::MIRIFLAGS);
            report_hung(exercise, &done, &mut list);
            return Ok(false);
        }
        if selection == Selection::ThreadsOverSeeds && done.success() {
            println!(
                "  pass  every test that starts threads, on all {} schedules",
                miri::THREAD_SEEDS
            );
            break;
        }
        if !summarise(root, exercise, &done, true) {
            return Ok(false);
        }
        if selection == Selection::All {
            passed = passed_count(&done.output);
        }
        if selection == Selection::All && miri::ran_thread_tests(&done.output) {
            selection = Selection::ThreadsOverSeeds;
        } else {
            break;
        }
    }
    let seeds = if selection == Selection::ThreadsOverSeeds {
        format!(" (the thread tests on {} schedules)", miri::THREAD_SEEDS)
    } else {
        String::new()
    };
    println!(
        "\nAll {passed} tests pass under Miri{seeds}: exercise {} is solved, and Miri found no \
         undefined behaviour in it.",
        exercise.number
    );
    Ok(true)
}

/// Builds the tests (without a time limit worth the name), then runs them
/// with `limit`. A failed build's output is returned as the run's.
fn build_then_run(
    build: &mut std::process::Command,
    run: &mut std::process::Command,
    limit: Duration,
) -> Result<Finished, String> {
    let built = bounded::run_merged(build, BUILD_LIMIT)?;
    if !built.success() {
        return Ok(built);
    }
    bounded::run_merged(run, limit)
}

/// The path prefix of the learner's own code, as panics and Miri name it.
fn your_code(exercise: &Exercise) -> String {
    format!("{}/src/", exercise.dir().display()).replace('\\', "/")
}

fn passed_count(output: &str) -> usize {
    exercises::parse_libtest(output).0.len()
}

/// Prints what passed and what failed (with each panic in the learner's
/// code at its line); true when everything passed.
fn summarise(root: &Path, exercise: &Exercise, done: &Finished, miri: bool) -> bool {
    let (passed, failed) = exercises::parse_libtest(&done.output);
    let run = TestRun {
        success: done.success(),
        compiled: !done.output.contains("could not compile"),
        passed,
        failed,
        output: done.output.clone(),
    };
    if !run.compiled {
        println!(
            "\n{} does not compile yet:\n\n{}",
            exercise.lib().display(),
            run.compile_errors()
        );
        return false;
    }
    let yours = your_code(exercise);
    let TestRun { passed, failed, .. } = run;
    for name in &passed {
        println!("  pass  {name}");
    }
    if miri {
        for (name, reason) in ignored(&done.output) {
            println!("  skip  {name} (not run under Miri: {reason})");
        }
    }
    for (name, message) in &failed {
        println!("  FAIL  {name}");
        for location in panic_locations(test_section(&done.output, name)) {
            if location.starts_with(&yours) {
                print_your_line(root, &location, "          ");
            }
        }
        for line in message.lines() {
            println!("          {line}");
        }
    }
    let total = passed.len() + failed.len();
    if done.success() {
        return true;
    }
    if failed.is_empty() {
        // Failed without a failing test: a test binary crashed or aborted.
        let in_yours: Vec<String> = panic_locations(&done.output)
            .into_iter()
            .filter(|l| l.starts_with(&yours))
            .collect();
        println!("\nThe tests did not run to the end.");
        for location in &in_yours {
            print_your_line(root, location, "");
        }
        if !in_yours.is_empty() {
            println!(
                "A panic inside an allocator cannot unwind, so it ends the whole test \
                 program: return null instead, and use checked arithmetic."
            );
        }
        println!("\n{}", done.output);
    } else {
        println!(
            "\n{} of {total} tests pass; {} left. Stuck? `cargo workbook hint {}`",
            passed.len(),
            failed.len(),
            exercise.number
        );
    }
    false
}

fn print_your_line(root: &Path, location: &str, indent: &str) {
    println!("{indent}--> your code panicked at {location}");
    if let Some(line) = miri_report::source_line(root, location) {
        println!("{indent}{line}");
    }
}

/// The part of libtest's output about one failing test.
fn test_section<'a>(output: &'a str, name: &str) -> &'a str {
    let header = format!("---- {name} stdout ----");
    let Some(start) = output.find(&header) else {
        return "";
    };
    let section = &output[start + header.len()..];
    let end = section
        .find("\n---- ")
        .or_else(|| section.find("\nfailures:"))
        .unwrap_or(section.len());
    &section[..end]
}

/// `path:line:column` of every `panicked at path:line:column:` line, each
/// once (two threads of one test may panic at the same place).
fn panic_locations(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find("panicked at ") else {
            continue;
        };
        let location = line[at + "panicked at ".len()..]
            .trim_end()
            .trim_end_matches(':');
        if !found.iter().any(|f| f == location) {
            found.push(location.to_owned());
        }
    }
    found
}

/// `test NAME ... ignored, REASON` lines.
fn ignored(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("test ")?;
            let (name, verdict) = rest.split_once(" ... ")?;
            let reason = verdict.strip_prefix("ignored")?;
            let reason = reason.trim_start_matches(", ").trim();
            Some((
                name.to_owned(),
                if reason.is_empty() {
                    "no reason given".to_owned()
                } else {
                    reason.to_owned()
                },
            ))
        })
        .collect()
}

/// Says which tests had not finished when a run was stopped, and why that
/// usually happens. `list` lists the package's tests (`-- --list`).
fn report_hung(exercise: &Exercise, done: &Finished, list: &mut std::process::Command) {
    let (passed, failed) = exercises::parse_libtest(&done.output);
    for name in &passed {
        println!("  pass  {name}");
    }
    for (name, _) in &failed {
        println!("  FAIL  {name}");
    }
    // Listing runs the test programs too; one that hangs on start hangs here.
    let listed = bounded::run_merged(list, done.took.min(Duration::from_secs(60)))
        .map(|l| l.output)
        .unwrap_or_default();
    let (unfinished, not_started) = unfinished(&done.output, &listed);
    let seconds = done.took.as_secs();
    if unfinished.is_empty() {
        println!("\nThe tests were stopped after {seconds} s before they finished.");
    } else {
        println!(
            "\nThe tests were stopped after {seconds} s; still running: {}.",
            unfinished.join(", ")
        );
    }
    if not_started > 0 {
        println!("({not_started} tests in later test files never started.)");
    }
    println!(
        "A test that never ends is usually stuck waiting: a spin lock that is never released \
         (or a compare-and-swap retried on a value that cannot change), or an allocator that \
         re-enters itself (printing, locking or allocating inside `alloc`). See \
         \"println! inside alloc: a deadlock\" in the chapter Pitfalls \
         (book/src/pitfalls.md#println-inside-alloc-a-deadlock). If the tests are only slow, \
         give them longer: `cargo workbook check {} --timeout 600`.",
        exercise.number
    );
}

/// The tests of the target that was running when the run stopped that had
/// not finished, and how many tests of later targets never started.
/// `run` is the stopped run's output, `listed` that of `-- --list`.
fn unfinished(run: &str, listed: &str) -> (Vec<String>, usize) {
    let (passed, failed) = exercises::parse_libtest(run);
    let finished =
        |name: &str| passed.iter().any(|p| p == name) || failed.iter().any(|f| f.0 == name);
    let Some(running) = run.lines().rev().find_map(target_of) else {
        return (Vec::new(), 0);
    };
    let mut unfinished = Vec::new();
    let mut later = 0;
    let mut current: Option<String> = None;
    let mut past_running = false;
    for line in listed.lines() {
        if let Some(target) = target_of(line) {
            past_running = past_running || current.as_deref() == Some(running.as_str());
            current = Some(target);
            continue;
        }
        let Some(name) = line.strip_suffix(": test") else {
            continue;
        };
        if current.as_deref() == Some(running.as_str()) {
            if !finished(name) {
                unfinished.push(name.to_owned());
            }
        } else if past_running {
            later += 1;
        }
    }
    (unfinished, later)
}

/// The test target a cargo `Running …` or `Doc-tests …` line starts.
fn target_of(line: &str) -> Option<String> {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix("Running ") {
        return Some(rest.split(" (").next().unwrap_or(rest).to_owned());
    }
    line.strip_prefix("Doc-tests ")
        .map(|c| format!("doc tests of {c}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remarks_are_the_short_lines_about_the_learners_file() {
        let stderr = "exercises/exercise-2/src/lib.rs:40:9: warning: unused variable: `x`\n\
                      exercises/exercise-2/src/lib.rs:52:5: error: unsafe block missing a safety comment\n\
                      exercises/exercise-2/tests/peaks.rs:3:1: warning: not the learner's file\n\
                      warning: `exercise-2` (lib) generated 1 warning\n";
        assert_eq!(
            remarks_on(stderr, "exercises/exercise-2/src/lib.rs"),
            [
                "exercises/exercise-2/src/lib.rs:40:9: warning: unused variable: `x`",
                "exercises/exercise-2/src/lib.rs:52:5: error: unsafe block missing a safety comment"
            ]
        );
    }

    #[test]
    fn the_limit_follows_miri_and_timeout() {
        let options = |miri, timeout| Options { miri, timeout };
        assert_eq!(options(false, None).limit(), NATIVE_LIMIT);
        assert_eq!(options(true, None).limit(), MIRI_LIMIT);
        assert_eq!(
            options(true, Some(Duration::from_secs(5))).limit(),
            Duration::from_secs(5)
        );
    }

    /// Real libtest output (a peak tracker whose counter wrapped), trimmed.
    const OVERFLOW: &str = "\
     Running tests/peak.rs (target/debug/deps/peak-0123)

running 2 tests
test reports_the_peak ... ok
test two_threads_lose_no_update ... FAILED

failures:

---- two_threads_lose_no_update stdout ----

thread 'two_threads_lose_no_update' (4242) panicked at exercises/exercise-2/src/lib.rs:41:23:
attempt to add with overflow
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

failures:
    two_threads_lose_no_update
";

    #[test]
    fn a_panic_is_located_in_its_test_section() {
        let section = test_section(OVERFLOW, "two_threads_lose_no_update");
        assert_eq!(
            panic_locations(section),
            ["exercises/exercise-2/src/lib.rs:41:23"]
        );
        assert!(panic_locations(test_section(OVERFLOW, "reports_the_peak")).is_empty());
    }

    #[test]
    fn a_stopped_run_names_the_tests_still_running() {
        let run = "\
     Running tests/arena.rs (target/debug/deps/arena-1)

running 2 tests
test aligned ... ok
test empty ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out

     Running tests/threads.rs (target/debug/deps/threads-2)

running 3 tests
test one_thread ... ok
";
        let listed = "\
     Running tests/arena.rs (target/debug/deps/arena-1)
aligned: test
empty: test

2 tests, 0 benchmarks
     Running tests/threads.rs (target/debug/deps/threads-2)
one_thread: test
two_threads_share_a_lock: test
two_threads_spin: test

3 tests, 0 benchmarks
     Running tests/zeroed.rs (target/debug/deps/zeroed-3)
zeroes: test
   Doc-tests exercise_2
src/lib.rs - Peak (line 5): test
";
        let (unfinished, later) = unfinished(run, listed);
        assert_eq!(unfinished, ["two_threads_share_a_lock", "two_threads_spin"]);
        assert_eq!(later, 2);
    }

    #[test]
    fn ignored_tests_keep_their_reason() {
        let output =
            "test calls_mimalloc ... ignored, Miri cannot call C code\ntest plain ... ignored\n";
        assert_eq!(
            ignored(output),
            [
                (
                    "calls_mimalloc".to_owned(),
                    "Miri cannot call C code".to_owned()
                ),
                ("plain".to_owned(), "no reason given".to_owned())
            ]
        );
    }
}
