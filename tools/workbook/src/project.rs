//! Where the workspace is, and running commands in it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, PoisonError};

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
    let mut cmd = workbook_support::cargo::cargo();
    cmd.current_dir(root);
    cmd
}

/// The target directory cargo uses for this workspace, as `cargo metadata`
/// reports it (`CARGO_TARGET_DIR` and `build.target-dir` both count);
/// `target` if cargo cannot say. Asked once per workspace and process:
/// `cargo metadata` takes about a second, and a command needs the answer in
/// several places.
pub fn target_dir(root: &Path) -> PathBuf {
    static KNOWN: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    known
        .entry(root.to_path_buf())
        .or_insert_with(|| {
            workbook_support::workspace::Workspace::load(root)
                .map_or_else(|_| root.join("target"), |ws| ws.target_dir)
        })
        .clone()
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
pub use workbook_support::cargo::describe;
