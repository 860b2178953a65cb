//! `cargo workbook bench [--quick]`: the allocator benchmark of chapter
//! "Measure, don't guess", built in release mode (timings of a debug build
//! mean little) in a target directory of its own, so it never waits on the
//! lock of another build.

use crate::project;

/// Where the report files go, relative to the workspace root.
const REPORT_DIR: &str = "target/allocator-bench";

pub fn run(quick: bool) -> Result<(), String> {
    let root = project::root()?;
    let out = root.join(REPORT_DIR);
    let mut cmd = project::cargo(&root);
    cmd.args([
        "run",
        "--release",
        "--quiet",
        "--package",
        "allocator-bench",
        "--target-dir",
    ])
    .arg(project::target_dir(&root).join("bench"))
    .args(["--", "--out"])
    .arg(&out);
    if quick {
        cmd.arg("--quick");
    }
    project::run_status(&mut cmd)?;
    println!(
        "\nThe report is in {}: report.md, report.json and the chart report.svg.",
        out.display()
    );
    Ok(())
}
