//! `cargo workbook reset N`: saves the learner's work to a backup, then
//! restores the exercise's stub.
//!
//! Where the stub comes from: the project's git history. The stub is the
//! newest committed version of `src/lib.rs` that still says "not solved
//! yet", so a learner who commits their own solutions still gets the stub
//! back, and a maintainer's later improvements to a stub are picked up. An
//! embedded copy would be a second source of truth that drifts from the
//! file the tests and the book use. The manifest is restored from the same
//! commit (exercise 1 is solved partly in its Cargo.toml).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::exercises::{self, Exercise, NOT_SOLVED_MARKER};
use crate::project;

/// The files a reset restores, relative to the exercise's directory.
const RESTORED: &[&str] = &["src/lib.rs", "Cargo.toml"];

pub fn run(number: u32) -> Result<(), String> {
    let root = project::root()?;
    let all = exercises::load(&root)?;
    let exercise = exercises::by_number(&all, number)?;
    let commit = stub_commit(&root, exercise)?;

    // Compare every file first, and back up every changed one before
    // writing anything, so a failure part-way loses nothing.
    let mut changed = Vec::new();
    for file in RESTORED {
        let path = exercise.dir().join(file);
        let stub = git_show(&root, &commit, &path)?;
        let current = std::fs::read(root.join(&path)).ok();
        if current.as_deref() != Some(stub.as_slice()) {
            changed.push((path, stub, current));
        }
    }
    if changed.is_empty() {
        println!(
            "Exercise {} is already the stub; nothing to back up or restore.",
            exercise.number
        );
        return Ok(());
    }
    for (path, _, current) in &changed {
        if let Some(current) = current {
            let backup = back_up(&root, exercise, path, current)?;
            println!("saved your {} to {}", path.display(), backup.display());
        }
    }
    for (path, stub, _) in &changed {
        std::fs::write(root.join(path), stub).map_err(|e| {
            format!(
                "cannot restore {} (your work is in the backup above): {e}",
                path.display()
            )
        })?;
        println!("restored {} from commit {}", path.display(), short(&commit));
    }
    Ok(())
}

/// The newest commit whose `src/lib.rs` of this exercise is still a stub.
fn stub_commit(root: &Path, exercise: &Exercise) -> Result<String, String> {
    let lib = exercise.lib();
    let log = git(root, &["log", "--format=%H", "--", &lib.to_string_lossy()])?;
    for commit in log.lines() {
        let text = git_show(root, commit, &lib)?;
        if String::from_utf8_lossy(&text).contains(NOT_SOLVED_MARKER) {
            return Ok(commit.to_owned());
        }
    }
    Err(format!(
        "no commit has a stub of {} (a version saying \"{NOT_SOLVED_MARKER}\"); nothing was changed",
        lib.display()
    ))
}

/// A file's content at a commit.
fn git_show(root: &Path, commit: &str, path: &Path) -> Result<Vec<u8>, String> {
    // Git wants `/` separators whatever the platform.
    let spec = format!("{commit}:{}", path.to_string_lossy().replace('\\', "/"));
    git_bytes(root, &["show", &spec])
}

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    git_bytes(root, args).map(|out| String::from_utf8_lossy(&out).into_owned())
}

/// Runs git in `root`; its stdout, or an error that says nothing changed.
fn git_bytes(root: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .map_err(|e| {
            format!("reset needs git to find the original stub, and git did not start: {e}")
        })?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "reset finds the original stub in the project's git history, but `git {}` failed: {}; nothing was changed",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Writes `content` to a new file `backup/<name>.<unix seconds>[.<k>]` in
/// the exercise's directory, never replacing an existing backup.
fn back_up(
    root: &Path,
    exercise: &Exercise,
    path: &Path,
    content: &[u8],
) -> Result<PathBuf, String> {
    let dir = exercise.dir().join("backup");
    std::fs::create_dir_all(root.join(&dir))
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    for attempt in 0..1000 {
        let file = match attempt {
            0 => format!("{name}.{seconds}"),
            k => format!("{name}.{seconds}.{k}"),
        };
        let backup = dir.join(file);
        match std::fs::File::create_new(root.join(&backup)) {
            Ok(mut f) => {
                f.write_all(content)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| {
                        format!(
                            "cannot write the backup {}: {e}; nothing was restored",
                            backup.display()
                        )
                    })?;
                return Ok(backup);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "cannot create the backup {}: {e}; nothing was restored",
                    backup.display()
                ));
            }
        }
    }
    Err(format!(
        "too many backups named {name}.{seconds}.* in {}; nothing was restored",
        dir.display()
    ))
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
