//! `cargo workbook watch [N] [--miri] [--timeout SECS]`: re-runs the first
//! unsolved exercise's tests (or exercise N's) each time one of its files is
//! saved, and moves on when they pass. `--miri` runs them under Miri, as
//! `check N --miri` does.
//! Before each run it prints the time and the file whose save started it.

use std::path::Path;
use std::time::Duration;

use crate::check_cmd::Options;
use crate::exercises::{self, Exercise};
use crate::{check_cmd, list_cmd, project};
use workbook_support::file_watch::{self, Snapshot};

const POLL: Duration = Duration::from_millis(500);

pub fn run(number: Option<u32>, options: Options) -> Result<(), String> {
    let root = project::root()?;
    let all = exercises::load(&root)?;
    // Exercise N when named (under Miri, an exercise whose native tests pass
    // may still have a race to find), else the first unsolved one.
    let named = match number {
        None => None,
        Some(number) => Some(exercises::by_number(&all, number)?),
    };
    println!("Finding the first unsolved exercise …");
    let statuses = list_cmd::statuses(&root, &all)?;
    let mut current = match named {
        Some(exercise) => all.iter().position(|e| e.number == exercise.number),
        None => statuses.iter().position(|s| *s != list_cmd::Status::Solved),
    };
    while let Some(index) = current {
        let Some(exercise) = all.get(index) else {
            break;
        };
        println!(
            "\nWatching exercise {} ({}); save a file to re-run its tests, Ctrl-C to stop.",
            exercise.number,
            exercise.dir().display()
        );
        let mut seen = snapshot(&root, exercise);
        let mut solved = check_cmd::check(&root, exercise, &options)?;
        while !solved {
            std::thread::sleep(POLL);
            let now = snapshot(&root, exercise);
            if let Some(changed) = seen.changed_in(&now) {
                seen = now;
                println!(
                    "\n── {} · {} changed: running exercise {}'s tests ──",
                    file_watch::clock(),
                    file_watch::shown(&changed, &root),
                    exercise.number
                );
                solved = check_cmd::check(&root, exercise, &options)?;
            }
        }
        current =
            (index + 1..all.len()).find(|&i| statuses.get(i) != Some(&list_cmd::Status::Solved));
    }
    println!("\nEvery exercise is solved. Well done!");
    Ok(())
}

/// Modification times of the exercise's manifest, sources and tests.
fn snapshot(root: &Path, exercise: &Exercise) -> Snapshot {
    let dir = root.join(exercise.dir());
    Snapshot::of(&[dir.join("Cargo.toml"), dir.join("src"), dir.join("tests")])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn a_saved_file_changes_the_snapshot() {
        let root = tempfile::tempdir().expect("temp dir");
        let exercise = Exercise {
            number: 1,
            title: String::new(),
            chapter: String::new(),
            difficulty: String::new(),
            hints: Vec::new(),
        };
        let src = root.path().join("exercises/exercise-1/src");
        std::fs::create_dir_all(&src).expect("create");
        let lib = src.join("lib.rs");
        std::fs::write(&lib, "// one").expect("write");
        let before = snapshot(root.path(), &exercise);
        assert_eq!(before, snapshot(root.path(), &exercise));
        let later = SystemTime::now() + Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&lib)
            .and_then(|f| f.set_modified(later))
            .expect("touch");
        assert_eq!(
            before.changed_in(&snapshot(root.path(), &exercise)),
            Some(lib)
        );
    }
}
