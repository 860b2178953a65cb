//! Bad arguments give a clear error and a failing exit code.

use std::process::{Command, Output};

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .expect("program starts")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_orchestrator_names_a_bad_argument_and_shows_usage() {
    let bench = env!("CARGO_BIN_EXE_allocator-bench");
    for (args, says) in [
        (&["--fast"][..], "unknown argument `--fast`"),
        (
            &["--quick", "--smoke"][..],
            "`--quick` and `--smoke` cannot be combined",
        ),
        (&["--smoke", "--out"][..], "`--out` needs a directory"),
    ] {
        let out = run(bench, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(says) && err.contains("usage: allocator-bench"),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    let help = run(bench, &["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--quick"));
}

#[test]
fn a_child_names_a_bad_workload_or_mode() {
    let system = env!("CARGO_BIN_EXE_bench-system");
    for (args, says) in [
        (
            &["--workload", "nope", "--mode", "smoke"][..],
            "unknown workload `nope`",
        ),
        (
            &["--workload", "batch", "--mode", "fast"][..],
            "unknown mode `fast`",
        ),
        (&[][..], "both `--workload` and `--mode` are required"),
    ] {
        let out = run(system, args);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn bumpalo_refuses_workloads_a_scoped_arena_cannot_serve() {
    let out = run(
        env!("CARGO_BIN_EXE_bench-bumpalo"),
        &["--workload", "cross-thread", "--mode", "smoke"],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("does not run the `cross-thread` workload"),
        "{}",
        stderr(&out)
    );
}
