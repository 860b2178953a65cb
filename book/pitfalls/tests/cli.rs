//! The interface the book's preprocessor relies on.

use std::process::Command;

fn pitfalls(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pitfalls"))
        .args(args)
        .output()
        .expect("the pitfalls binary runs")
}

#[test]
fn list_prints_every_case_name_one_per_line() {
    let output = pitfalls(&["list"]);
    assert!(output.status.success());
    let listed: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let expected: Vec<&str> = pitfalls::CASES.iter().map(|case| case.name).collect();
    assert_eq!(listed, expected);
}

#[test]
fn show_of_an_unknown_case_exits_2_and_lists_the_cases() {
    let output = pitfalls(&["show", "no-such-case"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no-such-case") && stderr.contains("missing-unsafe-impl"),
        "{stderr}"
    );
}

#[test]
fn bad_usage_exits_2_with_usage() {
    for args in [&[][..], &["show"][..], &["frobnicate"][..]] {
        let output = pitfalls(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("usage:"),
            "{args:?}"
        );
    }
}

/// The stdout of a `show` that must succeed.
fn show(case: &str) -> String {
    let output = pitfalls(&["show", case]);
    assert!(
        output.status.success(),
        "show {case}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn show_prints_the_real_diagnostic_with_relative_paths() {
    let stdout = show("missing-unsafe-impl");
    assert!(stdout.contains("error[E0200]"), "{stdout}");
    assert!(
        stdout.contains("--> cases/missing_unsafe_impl.rs:"),
        "{stdout}"
    );
    assert!(!stdout.contains(env!("CARGO_MANIFEST_DIR")), "{stdout}");
}

#[test]
fn show_of_a_run_case_states_how_it_ended() {
    let stdout = show("over-budget-abort");
    assert!(
        stdout.contains("memory allocation of 2097152 bytes failed"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("exit: signal 6 (SIGABRT)"),
        "{stdout}"
    );
}
