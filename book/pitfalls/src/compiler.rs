//! Building the cases: `rustc` and `cargo check` with the caller's
//! environment kept out of what a case depends on.

use std::path::Path;
use std::process::{Command, Stdio};

use workbook_support::cargo::cargo;

use crate::PACKAGE_DIR;
use crate::cases::{CASES, Kind};

/// A finished compiler run.
#[derive(Debug)]
pub(crate) struct Output {
    pub success: bool,
    pub stderr: String,
}

fn run_compiler(command: &mut Command, what: &str) -> Result<Output, String> {
    let output = command
        .current_dir(PACKAGE_DIR)
        // Stable must behave as stable, whatever the caller's environment.
        .env_remove("RUSTC_BOOTSTRAP")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    Ok(Output {
        success: output.status.success(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// `rustc` (or `$RUSTC`) with the workspace's edition, run from the package
/// directory so that diagnostics name sources as `cases/...`.
pub(crate) fn rustc(args: &[&str]) -> Result<Output, String> {
    rustc_with_env(args, &[])
}

/// `rustc` with `env` set and every case's build variable otherwise removed,
/// so the caller's environment cannot switch a case's behaviour.
pub(crate) fn rustc_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<Output, String> {
    let program = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut command = Command::new(&program);
    for case in CASES {
        if let Kind::Run { build_env, .. } = case.kind {
            for (name, _) in build_env {
                command.env_remove(name);
            }
        }
    }
    run_compiler(
        command
            .envs(env.iter().copied())
            .args(["--edition", "2024", "--error-format=human", "--color=never"])
            .args(args),
        &format!(
            "{} (set RUSTC to the compiler to use)",
            program.to_string_lossy()
        ),
    )
}

/// `cargo check` of a case package, in its own target directory.
pub(crate) fn cargo_check(dir: &Path, target: &Path) -> Result<Output, String> {
    let mut command = cargo();
    let program = command.get_program().to_owned();
    run_compiler(
        command
            .args([
                "check",
                "--locked",
                "--quiet",
                "--color=never",
                "--manifest-path",
            ])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target.join("target"))
            .env_remove("CARGO_BUILD_TARGET_DIR")
            .env_remove("CARGO_BUILD_BUILD_DIR"),
        &format!(
            "{} (set CARGO to the cargo to use)",
            program.to_string_lossy()
        ),
    )
}

/// `Err` with the compiler's output if a build the case needs failed.
pub(crate) fn require_built(output: Output, what: &str, source: &str) -> Result<(), String> {
    if output.success {
        Ok(())
    } else {
        Err(format!(
            "the {what} {source} did not build:\n{}",
            output.stderr
        ))
    }
}

pub(crate) fn read_source(relative: &Path) -> Result<String, String> {
    let path = Path::new(PACKAGE_DIR).join(relative);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

pub(crate) fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}
