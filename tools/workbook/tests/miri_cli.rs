//! `cargo workbook check N --miri`, `cargo workbook miri`, and what `check`
//! says when the learner's code panics or never finishes, run as a learner
//! runs them. The runs that change an exercise work on a temporary copy of
//! the workspace, so nothing here touches the real exercises.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;
use common::{copy_of_workspace, nested_target_dir, stderr, stdout, workspace};

fn workbook(dir: &Path, test: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_workbook"));
    cmd.args(args).current_dir(dir).env(
        "CARGO_TARGET_DIR",
        nested_target_dir("miri-cli-tests", test),
    );
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("the workbook runs")
}

#[test]
fn without_the_pinned_nightly_the_learner_gets_the_install_command() {
    let bogus = [("WORKBOOK_MIRI_TOOLCHAIN", "nightly-1999-01-01")];
    for args in [
        &["check", "3", "--miri"][..],
        &["miri"],
        &["miri", "layout"],
    ] {
        let out = workbook(&workspace(), "no-toolchain", args, &bogus);
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(
            err.contains(
                "Miri is not ready: the nightly toolchain nightly-1999-01-01 is not installed."
            ),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("\n    cargo workbook miri --install\n"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(
                "rustup toolchain install nightly-1999-01-01 --profile minimal --component miri,rust-src"
            ),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "no stack trace: {err}");
    }
}

#[test]
fn bad_flags_are_refused_with_what_is_valid() {
    for (args, expected) in [
        (
            &["check", "3", "--timeout", "x"][..],
            "invalid value 'x' for '--timeout <SECS>'",
        ),
        (&["check", "3", "--fast"], "unexpected argument '--fast'"),
        (&["watch", "--fast"], "unexpected argument '--fast'"),
        (&["miri", "--fast"], "unexpected argument '--fast'"),
    ] {
        let out = workbook(&workspace(), "bad-flags", args, &[]);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// A wrong answer of the gallery that Miri rejects as a data race (a
/// `relaxed-*` one: an ordering too weak to carry the bytes from one thread
/// to another, which no native test on x86 sees), with the exercise it
/// answers and the test that catches it. (Other races in the gallery are
/// lost updates: Miri catches them by running a bad interleaving, and a
/// test's assertion reports them, not the race detector.)
fn wrong_answer_only_miri_rejects() -> (PathBuf, u32, Vec<String>) {
    let gallery = workspace().join("wrong-answers");
    let mut found = Vec::new();
    for exercise in std::fs::read_dir(&gallery).expect("the gallery").flatten() {
        for answer in std::fs::read_dir(exercise.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(text) = std::fs::read_to_string(answer.path().join("Cargo.toml")) else {
                continue;
            };
            let manifest: toml::Table = toml::from_str(&text).expect("a manifest");
            let Some(meta) = manifest
                .get("package")
                .and_then(|p| p.get("metadata"))
                .and_then(|m| m.get("wrong-answer"))
            else {
                continue;
            };
            let relaxed = answer.file_name().to_string_lossy().starts_with("relaxed-");
            if !relaxed || meta.get("rejected-by").and_then(|r| r.as_str()) != Some("miri") {
                continue;
            }
            let number = exercise
                .file_name()
                .to_string_lossy()
                .trim_start_matches("exercise-")
                .parse()
                .expect("exercise-N");
            let caught_by = meta
                .get("caught-by")
                .and_then(|c| c.as_array())
                .map(|c| {
                    c.iter()
                        .filter_map(|t| Some(t.as_str()?.to_owned()))
                        .collect()
                })
                .unwrap_or_default();
            found.push((answer.path(), number, caught_by));
        }
    }
    found.sort();
    found
        .into_iter()
        .next()
        .expect("the gallery has a `relaxed-*` wrong answer with rejected-by = \"miri\"")
}

/// End to end: a learner's exercise with a race native tests miss, checked
/// with `--miri`, gets the learner's message and Miri's report.
#[test]
fn check_with_miri_explains_a_race_native_tests_miss() {
    let (answer, number, caught_by) = wrong_answer_only_miri_rejects();
    let copy = copy_of_workspace();
    std::fs::copy(
        answer.join("src/lib.rs"),
        copy.path()
            .join(format!("exercises/exercise-{number}/src/lib.rs")),
    )
    .expect("write the wrong answer over the stub");
    let out = workbook(
        copy.path(),
        "race",
        &["check", &number.to_string(), "--miri"],
        &[],
    );
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        stderr(&out).contains(&format!("exercise {number} is not solved yet")),
        "{}",
        stderr(&out)
    );
    // The first report may come from another of the exercise's tests than
    // the gallery names: whichever two-thread test meets the race first.
    let named = text
        .split("Miri found undefined behaviour in test `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("the report names its test:\n{text}"));
    let tests_dir = copy
        .path()
        .join(format!("exercises/exercise-{number}/tests"));
    let tests: String = std::fs::read_dir(&tests_dir)
        .expect("the exercise's tests")
        .flatten()
        .filter_map(|f| std::fs::read_to_string(f.path()).ok())
        .collect();
    assert!(
        tests.contains(&format!("fn {named}(")),
        "`{named}` is one of the exercise's tests (the gallery names {caught_by:?}):\n{text}"
    );
    assert!(
        text.contains("A data race: two threads touched the same bytes without synchronisation"),
        "{text}"
    );
    assert!(text.contains("\n  Read: \""), "{text}");
    assert!(text.contains("(book/src/"), "{text}");
    assert!(
        text.contains("\nMiri's report:\n\n  error: Undefined Behavior: "),
        "{text}"
    );
}

/// The reference solution's `alloc`, with `extra` as its first statement.
fn solution_with(copy: &Path, number: u32, extra: &str) -> usize {
    let solution =
        std::fs::read_to_string(copy.join(format!("solutions/exercise-{number}/src/lib.rs")))
            .expect("read the solution");
    let signature = "unsafe fn alloc(&self, layout: Layout) -> *mut u8 {";
    let at = solution
        .find(signature)
        .expect("the solution implements GlobalAlloc::alloc");
    let line = solution[..at].lines().count() + 1;
    let changed = solution.replacen(signature, &format!("{signature}\n        {extra}"), 1);
    std::fs::write(
        copy.join(format!("exercises/exercise-{number}/src/lib.rs")),
        changed,
    )
    .expect("write the exercise");
    line
}

/// A panic in the learner's `alloc` is shown at its line; a deadlocked
/// `alloc` does not hang `check`: it stops and names the tests still running.
#[test]
fn check_points_at_the_learners_panic_and_stops_a_deadlock() {
    let copy = copy_of_workspace();
    let line = solution_with(
        copy.path(),
        2,
        "let _wrapped = std::hint::black_box(usize::MAX) + layout.size();",
    );
    let out = workbook(copy.path(), "panic", &["check", "2"], &[]);
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "--> your code panicked at exercises/exercise-2/src/lib.rs:{line}:"
        )),
        "{text}"
    );
    assert!(text.contains("attempt to add with overflow"), "{text}");

    solution_with(copy.path(), 2, "loop { std::hint::spin_loop(); }");
    let started = Instant::now();
    let out = workbook(
        copy.path(),
        "panic",
        &["check", "2", "--timeout", "20"],
        &[],
    );
    let took = started.elapsed();
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("The tests were stopped after 20 s"), "{text}");
    assert!(text.contains("; still running: "), "{text}");
    assert!(
        text.contains("a spin lock that is never released"),
        "{text}"
    );
    // Building came first, without the limit; the run itself was stopped.
    assert!(took < Duration::from_secs(600), "{took:?}");
}
