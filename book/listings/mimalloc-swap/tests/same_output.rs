//! Swapping the allocator changes nothing a program can see.

use std::process::Command;

fn stdout_of(binary: &str) -> String {
    let output = Command::new(binary)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
    assert!(output.status.success(), "{binary} failed: {output:?}");
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn mimalloc_and_system_print_the_same() {
    let with_mimalloc = stdout_of(env!("CARGO_BIN_EXE_mimalloc-swap"));
    let with_system = stdout_of(env!("CARGO_BIN_EXE_with-system"));
    assert_eq!(with_mimalloc, with_system);
    // And it is the workload's real summary, not an empty or partial run.
    assert_eq!(with_mimalloc, format!("{}\n", mimalloc_swap::workload()));
}

#[test]
fn the_workload_builds_every_string() {
    let summary = mimalloc_swap::workload();
    assert_eq!(summary.count, mimalloc_swap::STRING_COUNT);
    assert_eq!(summary.first, "order-000000: 0 units");
    assert_eq!(summary.last, "order-099999: 89 units");
    assert_eq!(summary.colours, ["RED", "GREEN", "BLUE"]);
}
