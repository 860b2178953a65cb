//! The program's command line: what it prints and how it refuses.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heap-timelines"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
#[cfg_attr(miri, ignore = "starts a process")]
fn prints_the_table_and_both_pictures() {
    let out = run(&["vec-push", "1000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("| events recorded | 10 |"), "{text}");
    assert_eq!(text.matches("<svg ").count(), 2);
    assert!(text.contains("vec-push, n = 1000: live bytes"));
    assert!(text.contains("vec-push, n = 1000: block map"));
}

#[test]
#[cfg_attr(miri, ignore = "starts a process")]
fn several_scenarios_side_by_side() {
    let out = run(&["string-push-str", "string-format", "50"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("| from the trace | `string-push-str` | `string-format` |"));
    assert_eq!(text.matches("<svg ").count(), 4);
}

#[test]
#[cfg_attr(miri, ignore = "starts a process")]
fn bad_arguments_are_refused_with_the_rule() {
    for (args, expected) in [
        (&[][..], "no scenario given"),
        (&["vec-push"][..], "give a scenario and n"),
        (
            &["vec-pop", "10"][..],
            "unknown scenario `vec-pop`: the scenarios are vec-push",
        ),
        (
            &["vec-push", "0"][..],
            "n = 0 is out of range for vec-push: n must be from 1 to 100000",
        ),
        (
            &["vec-push", "string-format", "6000"][..],
            "out of range for string-format",
        ),
        (&["vec-push", "lots"][..], "`lots` is not a number"),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
#[cfg_attr(miri, ignore = "starts a process")]
fn lists_the_scenarios() {
    let out = run(&["--list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 8);
    assert!(text.contains("box-tree"));
}
