//! `cargo workbook bench [--quick]`: the allocator benchmark of chapter
//! "Measure, don't guess", built in release mode (timings of a debug build
//! mean little) in a target directory of its own, so it never waits on the
//! lock of another build.

use crate::project;

/// Where the report files go, relative to the workspace root.
const REPORT_DIR: &str = "target/allocator-bench";

pub fn run(args: &[String]) -> Result<(), String> {
    let quick = parse_args(args)?;
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

/// `--quick` or nothing.
fn parse_args(args: &[String]) -> Result<bool, String> {
    const USAGE: &str = "usage: cargo workbook bench [--quick]";
    let mut quick = false;
    for arg in args {
        match arg.as_str() {
            "--quick" if !quick => quick = true,
            "--quick" => return Err(format!("`--quick` given twice ({USAGE})")),
            other => {
                return Err(format!(
                    "`bench` takes only `--quick`, got `{other}` ({USAGE})"
                ));
            }
        }
    }
    Ok(quick)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn quick_or_nothing() {
        assert_eq!(parse_args(&args(&[])), Ok(false));
        assert_eq!(parse_args(&args(&["--quick"])), Ok(true));
    }

    #[test]
    fn anything_else_is_named() {
        let err = parse_args(&args(&["--fast"])).unwrap_err();
        assert!(err.contains("got `--fast`"), "{err}");
        let err = parse_args(&args(&["--quick", "--quick"])).unwrap_err();
        assert!(err.contains("`--quick` given twice"), "{err}");
        let err = parse_args(&args(&["--quick", "x"])).unwrap_err();
        assert!(err.contains("got `x`"), "{err}");
    }
}
