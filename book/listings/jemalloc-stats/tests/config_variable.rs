//! tikv-jemallocator is a prefixed build: `_RJEM_MALLOC_CONF` configures it,
//! `MALLOC_CONF` does not. Each check runs the chapter's binary as a child.

use std::path::Path;
use std::process::Command;

use jemalloc_stats::{CONF_VAR, UNPREFIXED_CONF_VAR, narenas_in_child};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_jemalloc-stats"))
}

#[test]
fn only_the_prefixed_variable_sets_narenas() {
    let default = narenas_in_child(exe(), None).unwrap();
    // The default is 4 per CPU, so it is never 3.
    assert_ne!(default, 3);
    assert_eq!(
        narenas_in_child(exe(), Some((CONF_VAR, "narenas:3"))).unwrap(),
        3
    );
    assert_eq!(
        narenas_in_child(exe(), Some((UNPREFIXED_CONF_VAR, "narenas:3"))).unwrap(),
        default
    );
}

#[test]
fn the_chapter_program_reports_both_variables() {
    let output = Command::new(exe())
        .env_remove(CONF_VAR)
        .env_remove(UNPREFIXED_CONF_VAR)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    for label in [
        "vec![0u8; 10 MiB], never written",
        "vec![1u8; 10 MiB], all written",
        "stats.resident",
        "MALLOC_CONF=narenas:3",
        "_RJEM_MALLOC_CONF=narenas:3",
    ] {
        assert!(stdout.contains(label), "missing {label:?} in:\n{stdout}");
    }
    let prefixed_line = stdout.lines().find(|line| line.contains(CONF_VAR)).unwrap();
    assert!(prefixed_line.contains("(changed)"), "{prefixed_line}");
    let unprefixed_line = stdout
        .lines()
        .find(|line| line.trim_start().starts_with("MALLOC_CONF="))
        .unwrap();
    assert!(unprefixed_line.contains("(unchanged)"), "{unprefixed_line}");
}

#[test]
fn unknown_arguments_are_refused_with_a_clear_message() {
    let output = Command::new(exe()).arg("--bogus").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("--bogus") && stderr.contains("--print-narenas"),
        "{stderr}"
    );
}

#[test]
fn each_part_runs_alone_as_the_chapter_runs_it() {
    for (part, present, absent) in [
        ("stats", "stats.resident", "opt.narenas"),
        ("config", "opt.narenas", "stats.resident"),
    ] {
        let output = Command::new(exe())
            .arg(part)
            .env_remove(CONF_VAR)
            .env_remove(UNPREFIXED_CONF_VAR)
            .output()
            .unwrap();
        assert!(output.status.success(), "{part}: {output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.contains(present), "{part} printed:\n{stdout}");
        assert!(!stdout.contains(absent), "{part} printed:\n{stdout}");
    }
}
