//! `cargo workbook hint N`: the hints of one exercise, one at a time. The
//! first call shows the first hint (a nudge towards the idea and the
//! chapter section); each later call shows the next, more concrete one,
//! until the last. `hint N --all` shows again every hint already seen,
//! without revealing a new one.
//!
//! How many hints each exercise has revealed is remembered in
//! `.workbook/hints-seen.toml`, a file of the learner's own that git ignores
//! (the directory carries its own `.gitignore`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::exercises::{self, Exercise};
use crate::project;

/// The learner's own state, relative to the root; never committed.
const STATE_DIR: &str = ".workbook";
const SEEN_FILE: &str = ".workbook/hints-seen.toml";

pub fn run(number: u32, all: bool) -> Result<(), String> {
    let root = project::root()?;
    let exercises = exercises::load(&root)?;
    let exercise = exercises::by_number(&exercises, number)?;
    let mut seen = load_seen(&root)?;
    let total = exercise.hints.len();
    if total == 0 {
        return Err(format!(
            "exercise {} has no hints in {}",
            exercise.number,
            exercises::METADATA
        ));
    }
    let already = seen.get(&exercise.number).copied().unwrap_or(0).min(total);
    println!(
        "Exercise {}: {} (chapter \"{}\")\n",
        exercise.number, exercise.title, exercise.chapter
    );
    if all {
        if already == 0 {
            println!(
                "No hint seen yet. `cargo workbook hint {}` shows the first.",
                exercise.number
            );
        }
        for index in 0..already {
            show(exercise, index);
        }
        return Ok(());
    }
    if already == total {
        show(exercise, total - 1);
        println!(
            "That was the last hint; there are no more. `cargo workbook hint {} --all` shows them \
             all again.",
            exercise.number
        );
        return Ok(());
    }
    show(exercise, already);
    seen.insert(exercise.number, already + 1);
    save_seen(&root, &seen)?;
    if already + 1 < total {
        println!(
            "Still stuck? `cargo workbook hint {}` again gives a more concrete hint.",
            exercise.number
        );
    } else {
        println!("That was the last hint.");
    }
    Ok(())
}

/// Prints hint `index` (0-based) as "Hint K of N".
fn show(exercise: &Exercise, index: usize) {
    let text = exercise.hints.get(index).map_or("", |h| h.trim());
    println!("Hint {} of {}:\n{text}\n", index + 1, exercise.hints.len());
}

/// How many hints each exercise has revealed, by exercise number.
pub fn load_seen(root: &Path) -> Result<BTreeMap<u32, usize>, String> {
    let path = root.join(SEEN_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(format!("cannot read {SEEN_FILE}: {e}")),
    };
    let bad = |what: &str| {
        format!(
            "{SEEN_FILE} is damaged ({what}); it only counts the hints you have seen: delete it \
             to count from zero again"
        )
    };
    let table: toml::Table = toml::from_str(&text).map_err(|e| bad(&e.to_string()))?;
    let mut seen = BTreeMap::new();
    for (key, value) in table {
        let number = key
            .strip_prefix("exercise-")
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(|| bad(&format!("unexpected key `{key}`")))?;
        let count = value
            .as_integer()
            .and_then(|c| usize::try_from(c).ok())
            .ok_or_else(|| bad(&format!("`{key}` is not a count")))?;
        seen.insert(number, count);
    }
    Ok(seen)
}

fn save_seen(root: &Path, seen: &BTreeMap<u32, usize>) -> Result<(), String> {
    let dir = root.join(STATE_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {STATE_DIR}/: {e}"))?;
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# Your own progress with `cargo workbook` (hints seen); not part of the project.\n*\n",
        )
        .map_err(|e| format!("cannot write {STATE_DIR}/.gitignore: {e}"))?;
    }
    let mut text = String::from(
        "# How many hints `cargo workbook hint N` has shown for each exercise.\n\
         # Delete this file to start counting again.\n",
    );
    for (number, count) in seen {
        text.push_str(&format!("exercise-{number} = {count}\n"));
    }
    let path = root.join(SEEN_FILE);
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {SEEN_FILE}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_survives_a_round_trip_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_seen(dir.path()), Ok(BTreeMap::new()));
        let seen = BTreeMap::from([(1, 2), (3, 1)]);
        save_seen(dir.path(), &seen).unwrap();
        assert_eq!(load_seen(dir.path()), Ok(seen));
        let ignore = std::fs::read_to_string(dir.path().join(".workbook/.gitignore")).unwrap();
        assert!(ignore.lines().any(|l| l == "*"), "{ignore}");

        std::fs::write(dir.path().join(SEEN_FILE), "exercise-1 = \"two\"\n").unwrap();
        let err = load_seen(dir.path()).unwrap_err();
        assert!(
            err.contains(".workbook/hints-seen.toml is damaged (`exercise-1` is not a count)"),
            "{err}"
        );
    }
}
