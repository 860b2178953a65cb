//! `cargo workbook list`: every exercise in order of difficulty, its
//! chapter, how many of its hints you have seen, whether its tests pass,
//! and why it sits where it does; then the overall progress.

use std::path::Path;
use std::time::Instant;

use crate::exercises::{self, Exercise};
use crate::project;

/// Where an exercise stands, judged by running its tests.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Solved,
    NotYet,
    DoesNotCompile,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Solved => "solved",
            Status::NotYet => "not yet",
            Status::DoesNotCompile => "does not compile",
        }
    }
}

/// Runs each exercise's tests (compiled together first) and returns the
/// status of each, in order, saying on stderr what it is doing: the first
/// run compiles every exercise and can take a minute.
pub fn statuses(root: &Path, all: &[Exercise]) -> Result<Vec<Status>, String> {
    let packages: Vec<String> = all.iter().map(Exercise::package).collect();
    eprintln!(
        "compiling the tests of {} exercises (the first time takes a minute) …",
        all.len()
    );
    let started = Instant::now();
    // A crate that does not compile is reported below, one by one.
    let _ = exercises::build_tests(root, &packages);
    eprintln!("compiled in {:.0} s", started.elapsed().as_secs_f64());
    all.iter()
        .enumerate()
        .map(|(i, exercise)| {
            let run = exercises::run_tests(root, &exercise.package())?;
            let status = if run.success {
                Status::Solved
            } else if run.compiled {
                Status::NotYet
            } else {
                Status::DoesNotCompile
            };
            eprintln!(
                "[{}/{}] exercise {}: {}",
                i + 1,
                all.len(),
                exercise.number,
                status.label()
            );
            Ok(status)
        })
        .collect()
}

pub fn run() -> Result<(), String> {
    let root = project::root()?;
    let all = exercises::load(&root)?;
    println!("Running the tests of {} exercises …\n", all.len());
    let statuses = statuses(&root, &all)?;
    let seen = crate::hint_cmd::load_seen(&root)?;
    let title_width = all.iter().map(|e| e.title.len()).max().unwrap_or(0);
    let chapter_width = all.iter().map(|e| e.chapter.len()).max().unwrap_or(0);
    println!(
        "  #  {:title_width$}  {:chapter_width$}  hints  status",
        "exercise", "chapter"
    );
    for (exercise, status) in all.iter().zip(&statuses) {
        let used = seen.get(&exercise.number).copied().unwrap_or(0);
        let hints = format!(
            "{}/{}",
            used.min(exercise.hints.len()),
            exercise.hints.len()
        );
        println!(
            "  {}  {:title_width$}  {:chapter_width$}  {hints:5}  {}",
            exercise.number,
            exercise.title,
            exercise.chapter,
            status.label()
        );
        println!("     {}", one_line(&exercise.difficulty));
    }
    let solved = statuses.iter().filter(|s| **s == Status::Solved).count();
    println!("\n{solved}/{} solved", all.len());
    match all
        .iter()
        .zip(&statuses)
        .find(|(_, s)| **s != Status::Solved)
    {
        Some((next, _)) => println!(
            "Next: exercise {} — edit {}, then `cargo workbook check {}`",
            next.number,
            next.lib().display(),
            next.number
        ),
        None => println!("Every exercise is solved."),
    }
    Ok(())
}

/// A sentence from the metadata, its line breaks folded into spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
