//! `cargo workbook trace`, run as a learner runs it: on listings of the real
//! workspace (their traces go to a target directory of these tests), and on
//! an exercise in a temporary copy of the workspace (the copy gets a test
//! that fails and one that aborts, so nothing here depends on whether the
//! exercise is solved).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use heap_trace::{Kind, Trace};

mod common;
use common::{copy_of_workspace, nested_target_dir, workspace};

fn workbook(dir: &Path, target: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_workbook"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("the workbook runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `trace` on the real workspace and insists it succeeded.
fn trace_listing(args: &[&str]) -> (String, PathBuf) {
    let target = nested_target_dir("trace-cli-tests", "workspace");
    let out = workbook(&workspace(), &target, args);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?} failed:\n{stdout}\n{}",
        text(&out.stderr)
    );
    (stdout, target.join("heap-trace"))
}

/// The trace in `dir`, with its pictures and page checked on the way.
fn read_trace(dir: &Path) -> Trace {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
    };
    let page = read("index.html");
    for picture in ["live-bytes.svg", "block-map.svg"] {
        let svg = read(picture);
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{picture} is not one SVG element"
        );
        assert!(page.contains(&svg), "index.html does not show {picture}");
    }
    Trace::parse(&read("trace.jsonl")).expect("trace.jsonl parses")
}

fn count(trace: &Trace, kind: Kind, size: usize) -> usize {
    trace
        .events
        .iter()
        .filter(|e| e.kind == kind && e.size == size)
        .count()
}

/// The printed summary line, "N events: A allocations, F frees, R reallocs,
/// on T threads", as its numbers.
fn summary_numbers(stdout: &str) -> Vec<usize> {
    let line = stdout
        .lines()
        .find(|l| l.contains(" events: ") || l.contains(" event: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|n| n.parse().expect("a number"))
        .collect()
}

#[test]
fn the_counting_listing_shows_its_vec_allocated_and_freed() {
    let (stdout, traces) = trace_listing(&["trace", "-p", "counting"]);
    let dir = traces.join("counting");
    assert!(stdout.contains("counting exited normally"), "{stdout}");
    for file in [
        "trace.jsonl",
        "live-bytes.svg",
        "block-map.svg",
        "index.html",
    ] {
        assert!(
            stdout.contains(&dir.join(file).display().to_string()),
            "{file} not printed:\n{stdout}"
        );
    }
    let trace = read_trace(&dir);

    // The program's one Vec<u64> of 1000: malloc(8000), then free. Its free
    // got its size from the allocation (C's free does not say it).
    assert_eq!(count(&trace, Kind::Alloc, 8000), 1, "{trace:?}");
    let vec = trace
        .events
        .iter()
        .find(|e| e.kind == Kind::Alloc && e.size == 8000)
        .expect("the Vec");
    assert_eq!(vec.align, 16, "plain malloc is recorded with its 16");
    let freed = trace
        .events
        .iter()
        .find(|e| e.kind == Kind::Dealloc && e.addr == vec.addr && e.seq > vec.seq)
        .expect("the Vec is freed");
    assert_eq!(freed.size, 8000);
    assert!(trace.events.iter().all(|e| e.thread == 1), "one thread");
    assert_eq!(trace.dropped, 0);

    // The printed numbers are the file's.
    let allocations = trace
        .events
        .iter()
        .filter(|e| matches!(e.kind, Kind::Alloc | Kind::AllocZeroed))
        .count();
    let frees = trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Dealloc)
        .count();
    let reallocs = trace.events.len() - allocations - frees;
    assert_eq!(
        summary_numbers(&stdout),
        [trace.events.len(), allocations, frees, reallocs, 1]
    );
    let peak = trace.live_bytes().into_iter().max().unwrap_or(0);
    assert!(peak >= 8000, "peak {peak}");
    assert!(
        stdout.contains(&format!("peak live bytes: {peak} ")),
        "{stdout}"
    );
}

#[test]
fn the_c_library_allocation_the_global_allocator_misses_is_traced() {
    let (stdout, traces) = trace_listing(&["trace", "-p", "c-malloc"]);
    assert!(stdout.contains("c-malloc exited normally"), "{stdout}");
    let trace = read_trace(&traces.join("c-malloc"));
    // A 2900-byte text and its NUL: the original, the copy Rust makes, and
    // the copy `strdup` makes with malloc, which the counting shim never
    // sees but the trace does.
    assert_eq!(count(&trace, Kind::Alloc, 2901), 3, "{trace:?}");
    assert_eq!(count(&trace, Kind::Dealloc, 2901), 3, "{trace:?}");
}

#[test]
fn the_programs_arguments_reach_it_and_a_vec_doubles_in_the_trace() {
    let (stdout, traces) =
        trace_listing(&["trace", "-p", "heap-timelines", "--", "vec-push", "100"]);
    assert!(
        stdout.contains("heap-timelines exited normally"),
        "{stdout}"
    );
    let trace = read_trace(&traces.join("heap-timelines"));
    // Pushing 100 u64 grows the Vec from 4 to 128 elements, doubling:
    // each step a realloc from the old capacity's bytes to twice as many.
    for old in [32, 64, 128, 256, 512] {
        assert!(
            trace
                .events
                .iter()
                .any(|e| e.kind == Kind::Realloc && e.old_size == old && e.size == 2 * old),
            "no realloc from {old} to {} bytes",
            2 * old
        );
    }
}

#[test]
fn bad_requests_are_refused_with_what_is_valid() {
    let target = nested_target_dir("trace-cli-tests", "workspace");
    for (args, expected) in [
        (
            &["trace"][..],
            "the following required arguments were not provided:\n  --package <PKG>",
        ),
        (
            &["trace", "-p", "countng"],
            "package `countng` does not exist in the workspace; did you mean `counting`",
        ),
        (
            &["trace", "-p", "counting", "--bin", "nope"],
            "package `counting` has no binary `nope`; its binaries: counting",
        ),
        (
            &[
                "trace", "-p", "counting", "--bin", "counting", "--test", "x",
            ],
            "the argument '--bin <B>' cannot be used with '--test <T>'",
        ),
        (
            &["trace", "-p", "counting", "--test", "nope"],
            "package `counting` has no test target `nope`; its test targets:",
        ),
        (
            &["trace", "-p", "counting", "100"],
            "unexpected argument '100' found",
        ),
    ] {
        let out = workbook(&workspace(), &target, args);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn an_exercise_is_traced_through_its_tests_even_when_they_fail() {
    let copy = copy_of_workspace();
    let target = nested_target_dir("trace-cli-tests", "exercise");
    let tests = copy.path().join("exercises/exercise-3/tests");
    std::fs::write(
        tests.join("unsolved.rs"),
        "#[test]\nfn fails_after_allocating() {\n    \
         let block = std::hint::black_box(vec![7u8; 12345]);\n    \
         assert_eq!(block.len(), 0, \"fails on purpose\");\n}\n",
    )
    .expect("write a test");

    let out = workbook(copy.path(), &target, &["trace", "-p", "exercise-3"]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "a failing test run still gives a trace:\n{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("exercise-3 test unsolved exited with failure (exit code 101)"),
        "{stdout}"
    );
    assert!(stdout.contains("--test-threads=1"), "{stdout}");
    let traces = target.join("heap-trace");
    let unsolved = read_trace(&traces.join("exercise-3-unsolved"));
    assert_eq!(count(&unsolved, Kind::AllocZeroed, 12345), 0);
    assert_eq!(
        count(&unsolved, Kind::Alloc, 12345),
        1,
        "the test's own block is in the trace"
    );
    // Every test binary of the exercise is traced.
    let bump = read_trace(&traces.join("exercise-3-bump"));
    assert!(!bump.events.is_empty());

    // A test that aborts never runs the exit handler that writes the trace.
    std::fs::write(
        tests.join("aborts.rs"),
        "#[test]\nfn aborts() {\n    std::process::abort();\n}\n",
    )
    .expect("write a test");
    let out = workbook(
        copy.path(),
        &target,
        &["trace", "-p", "exercise-3", "--test", "aborts"],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "no trace, no success");
    assert!(
        stderr.contains("was killed by signal 6 (SIGABRT")
            && stderr.contains("no trace was written"),
        "{stderr}"
    );
    assert!(!traces.join("exercise-3-aborts/trace.jsonl").exists());
}
