//! `cargo workbook reset N`: saves the learner's work to a backup, then
//! restores the exercise's stub. `cargo workbook restore N [K]` brings
//! backup K (the newest when K is left out) back, after saving the work it
//! replaces in the same way, so neither command can lose anything.
//!
//! Backups are numbered directories, `backup/<K>-<date>-<time>/`, holding
//! the files as they were (`src/lib.rs`, `Cargo.toml`); git ignores them.
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
    let saved: Vec<(PathBuf, Vec<u8>)> = changed
        .iter()
        .filter_map(|(path, _, current)| current.clone().map(|c| (path.clone(), c)))
        .collect();
    if !saved.is_empty() {
        let backup = back_up(&root, exercise, &saved)?;
        report_backup(exercise, &backup, &saved);
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

/// `cargo workbook restore N [K]`: backup K of exercise N (the newest when
/// K is left out) back in place; the files it replaces are saved first.
pub fn restore(number: u32, which: Option<u32>) -> Result<(), String> {
    let root = project::root()?;
    let all = exercises::load(&root)?;
    let exercise = exercises::by_number(&all, number)?;
    let backups = list_backups(&root, exercise)?;
    let Some(newest) = backups.last() else {
        return Err(format!(
            "exercise {number} has no backup yet: `cargo workbook reset {number}` makes one"
        ));
    };
    let chosen = match which {
        None => newest,
        Some(k) => backups.iter().find(|b| b.number == k).ok_or_else(|| {
            format!(
                "exercise {number} has no backup {k}; its backups: {}",
                backups
                    .iter()
                    .map(|b| format!("{} ({})", b.number, b.when))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?,
    };
    let mut incoming = Vec::new();
    for file in RESTORED {
        if let Ok(content) = std::fs::read(root.join(&chosen.dir).join(file)) {
            incoming.push((exercise.dir().join(file), content));
        }
    }
    let replaced: Vec<(PathBuf, Vec<u8>)> = incoming
        .iter()
        .filter_map(|(path, content)| {
            let current = std::fs::read(root.join(path)).ok()?;
            (current != *content).then(|| (path.clone(), current))
        })
        .collect();
    if replaced.is_empty() {
        println!(
            "Your exercise {number} already equals backup {} ({}); nothing changed.",
            chosen.number, chosen.when
        );
        return Ok(());
    }
    let backup = back_up(&root, exercise, &replaced)?;
    report_backup(exercise, &backup, &replaced);
    for (path, content) in &incoming {
        std::fs::write(root.join(path), content).map_err(|e| {
            format!(
                "cannot write {} (what it held is in the backup above): {e}",
                path.display()
            )
        })?;
    }
    println!(
        "restored backup {} ({}) of exercise {number}",
        chosen.number, chosen.when
    );
    Ok(())
}

/// One backup directory.
#[derive(Debug, PartialEq)]
struct Backup {
    number: u32,
    /// As written in its name: `2026-12-01 22:50:03 UTC`.
    when: String,
    /// Relative to the workspace root.
    dir: PathBuf,
}

/// The exercise's backups, oldest first.
fn list_backups(root: &Path, exercise: &Exercise) -> Result<Vec<Backup>, String> {
    let dir = exercise.dir().join("backup");
    let Ok(entries) = std::fs::read_dir(root.join(&dir)) else {
        return Ok(Vec::new());
    };
    let mut backups: Vec<Backup> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (number, stamp) = name.split_once('-')?;
            Some(Backup {
                number: number.parse().ok()?,
                when: readable_stamp(stamp),
                dir: dir.join(&name),
            })
        })
        .collect();
    backups.sort_by_key(|b| b.number);
    Ok(backups)
}

fn report_backup(exercise: &Exercise, backup: &Backup, files: &[(PathBuf, Vec<u8>)]) {
    for (path, _) in files {
        println!(
            "saved your {} to backup {} ({})",
            path.display(),
            backup.number,
            backup.dir.display()
        );
    }
    println!(
        "`cargo workbook restore {} {}` brings it back.",
        exercise.number, backup.number
    );
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

/// Writes `files` (paths relative to the root, inside the exercise) into a
/// new numbered backup directory, never into an existing one.
fn back_up(
    root: &Path,
    exercise: &Exercise,
    files: &[(PathBuf, Vec<u8>)],
) -> Result<Backup, String> {
    let stamp = utc_stamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    );
    let mut number = list_backups(root, exercise)?
        .last()
        .map_or(1, |b| b.number + 1);
    let dir = loop {
        let dir = exercise
            .dir()
            .join("backup")
            .join(format!("{number}-{stamp}"));
        std::fs::create_dir_all(root.join(&dir).parent().unwrap_or(root))
            .map_err(|e| format!("cannot create the backup directory: {e}; nothing was changed"))?;
        match std::fs::create_dir(root.join(&dir)) {
            Ok(()) => break dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => number += 1,
            Err(e) => {
                return Err(format!(
                    "cannot create the backup {}: {e}; nothing was changed",
                    dir.display()
                ));
            }
        }
    };
    for (path, content) in files {
        let relative = path.strip_prefix(exercise.dir()).unwrap_or(path);
        let file = root.join(&dir).join(relative);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                format!(
                    "cannot create {}: {e}; nothing was changed",
                    parent.display()
                )
            })?;
        }
        std::fs::File::create_new(&file)
            .and_then(|mut f| f.write_all(content).and_then(|()| f.sync_all()))
            .map_err(|e| {
                format!(
                    "cannot write the backup {}: {e}; nothing was changed",
                    file.display()
                )
            })?;
    }
    Ok(Backup {
        number,
        when: readable_stamp(&stamp),
        dir,
    })
}

/// `2026-12-01-225003` for a Unix time (UTC: the standard library has no
/// time zones); sorts as it reads.
fn utc_stamp(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    // Days since 1970-01-01 to a civil date (the proleptic Gregorian
    // calendar), after Howard Hinnant's `civil_from_days`.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `2026-12-01-225003` → `2026-12-01 22:50:03 UTC`.
fn readable_stamp(stamp: &str) -> String {
    match stamp.rsplit_once('-') {
        Some((date, time)) if time.len() == 6 => {
            format!("{date} {}:{}:{} UTC", &time[..2], &time[2..4], &time[4..])
        }
        _ => stamp.to_owned(),
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_civil_dates_that_sort_and_read() {
        assert_eq!(utc_stamp(0), "1970-01-01-000000");
        assert_eq!(utc_stamp(951_782_400), "2000-02-29-000000");
        assert_eq!(utc_stamp(1_796_165_403), "2026-12-01-225003");
        assert_eq!(
            readable_stamp("2026-12-01-225003"),
            "2026-12-01 22:50:03 UTC"
        );
    }
}
