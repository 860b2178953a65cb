//! Where the workspace is, and running commands in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root: the nearest ancestor of the current directory whose
/// `Cargo.toml` declares `[workspace]` and has `tools/workbook` in it.
pub fn root() -> Result<PathBuf, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    for dir in cwd.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if dir.join("tools/workbook").is_dir()
            && std::fs::read_to_string(&manifest).is_ok_and(|s| s.contains("[workspace]"))
        {
            return Ok(dir.to_path_buf());
        }
    }
    Err(format!(
        "not inside the workbook: no Cargo.toml with [workspace] and tools/workbook above {}",
        cwd.display()
    ))
}

/// A `cargo` command run from the workspace root (the cargo that runs us,
/// so the toolchain stays the same).
pub fn cargo(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root);
    cmd
}

/// The target directory the calling cargo uses: `$CARGO_TARGET_DIR`
/// (relative to the workspace root) or `target`.
pub fn target_dir(root: &Path) -> PathBuf {
    root.join(std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into()))
}

/// Runs `cmd` capturing its output; Err only if it cannot start.
pub fn output(cmd: &mut Command) -> Result<Output, String> {
    cmd.output()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))
}

/// Runs `cmd` with inherited output; Ok if it exits with status 0.
pub fn run_status(cmd: &mut Command) -> Result<(), String> {
    let shown = describe(cmd);
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// A command as a learner would type it.
pub fn describe(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program())
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::iter::once(program)
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}
