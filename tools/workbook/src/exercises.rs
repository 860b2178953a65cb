//! The learner exercises: their metadata (`exercises/exercises.toml`), their
//! packages, and running their tests with a readable result.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::project;

/// The words every unsolved stub (and its failing tests) says, so a learner
/// knows the failure is an exercise waiting, not a bug in the workbook.
pub const NOT_SOLVED_MARKER: &str = "not solved yet";

/// The metadata file, relative to the workspace root.
pub const METADATA: &str = "exercises/exercises.toml";

/// The book's index of the exercises, relative to the workspace root.
#[cfg(test)]
const INDEX: &str = "book/src/exercises/README.md";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    pub number: u32,
    pub title: String,
    pub chapter: String,
    pub difficulty: String,
    pub hints: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    exercise: Vec<Exercise>,
}

impl Exercise {
    /// The learner's package, e.g. `exercise-3`.
    pub fn package(&self) -> String {
        format!("exercise-{}", self.number)
    }

    /// The reference solution's package, e.g. `solution-3`.
    pub fn solution_package(&self) -> String {
        format!("solution-{}", self.number)
    }

    /// The learner's crate directory, relative to the root.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(format!("exercises/exercise-{}", self.number))
    }

    /// The learner's source file, relative to the root.
    pub fn lib(&self) -> PathBuf {
        self.dir().join("src/lib.rs")
    }

    /// The reference solution's crate directory, relative to the root.
    pub fn solution_dir(&self) -> PathBuf {
        PathBuf::from(format!("solutions/exercise-{}", self.number))
    }

    /// The reference solution's source file, relative to the root.
    pub fn solution_lib(&self) -> PathBuf {
        self.solution_dir().join("src/lib.rs")
    }
}

/// Reads and checks the metadata: numbers run 1, 2, 3 … in file order and
/// each has its exercise and solution crate.
pub fn load(root: &Path) -> Result<Vec<Exercise>, String> {
    let path = root.join(METADATA);
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {METADATA}: {e}"))?;
    let metadata: Metadata =
        toml::from_str(&text).map_err(|e| format!("{METADATA} is malformed: {e}"))?;
    for (index, exercise) in metadata.exercise.iter().enumerate() {
        let expected = index + 1;
        if exercise.number as usize != expected {
            return Err(format!(
                "{METADATA}: entry {expected} has number {}; numbers must run 1, 2, 3 … in order",
                exercise.number
            ));
        }
        for dir in [exercise.dir(), exercise.solution_dir()] {
            if !root.join(&dir).join("Cargo.toml").is_file() {
                return Err(format!(
                    "{METADATA} lists exercise {expected}, but {} is missing",
                    dir.display()
                ));
            }
        }
    }
    if metadata.exercise.is_empty() {
        return Err(format!("{METADATA} lists no exercises"));
    }
    Ok(metadata.exercise)
}

/// The exercise named by the command's single argument, or an error that
/// says what is valid.
/// Exercise `number`, or an error naming the valid numbers.
pub fn by_number(exercises: &[Exercise], number: u32) -> Result<&Exercise, String> {
    exercises
        .iter()
        .find(|e| e.number == number)
        .ok_or_else(|| {
            format!(
                "there is no exercise {number}; valid exercise numbers are 1 to {} \
                 (`cargo workbook list` shows them)",
                exercises.len()
            )
        })
}

/// What one `cargo test` of an exercise showed.
#[derive(Debug, Default)]
pub struct TestRun {
    /// Whether cargo exited successfully (everything compiled and passed).
    pub success: bool,
    /// Whether the tests compiled at all.
    pub compiled: bool,
    pub passed: Vec<String>,
    /// Each failing test with the first lines of its panic message.
    pub failed: Vec<(String, String)>,
    /// Everything cargo and the tests printed.
    pub output: String,
}

impl TestRun {
    /// The compiler's error lines, for a run that did not compile.
    pub fn compile_errors(&self) -> String {
        let mut shown = String::new();
        let mut in_error = false;
        for line in self.output.lines() {
            if line.starts_with("error") {
                in_error = true;
            } else if line.starts_with("warning") {
                in_error = false;
            }
            if in_error {
                shown.push_str(line);
                shown.push('\n');
            }
        }
        shown
    }
}

/// Compiles the tests of `packages` in one cargo invocation (so they build
/// in parallel); later runs of each are then quick.
pub fn build_tests(root: &Path, packages: &[String]) -> Result<(), String> {
    let mut cmd = project::cargo(root);
    cmd.args(["test", "--quiet", "--no-run"]);
    for package in packages {
        cmd.args(["--package", package]);
    }
    let out = project::output(&mut cmd)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{}` failed:\n{}",
            project::describe(&cmd),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Runs every test of `package` (all of them, even after a failure) and
/// reads libtest's report.
pub fn run_tests(root: &Path, package: &str) -> Result<TestRun, String> {
    let mut cmd = project::cargo(root);
    cmd.args(["test", "--no-fail-fast", "--package", package])
        .env("RUST_BACKTRACE", "0");
    let out = project::output(&mut cmd)?;
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let (passed, failed) = parse_libtest(&output);
    Ok(TestRun {
        success: out.status.success(),
        compiled: !output.contains("could not compile"),
        passed,
        failed,
        output,
    })
}

/// Reads `test NAME ... ok|FAILED` lines and each failure's panic message
/// from libtest's (non-quiet) output (the same reading the wrong-answer
/// gallery uses).
pub fn parse_libtest(output: &str) -> (Vec<String>, Vec<(String, String)>) {
    let outcome = wrong_answer_check::parse_libtest(output);
    let failed = outcome
        .failed
        .into_iter()
        .map(|f| (f.name, f.message))
        .collect();
    (outcome.passed, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_its_name_and_panic_message() {
        let output = "test a ... ok\ntest b ... FAILED\n\n---- b stdout ----\n\n\
                      thread 'b' panicked at tests/t.rs:1:1:\nnot yet\n\nfailures:\n    b\n";
        let (passed, failed) = parse_libtest(output);
        assert_eq!(passed, ["a"]);
        assert_eq!(failed, [("b".to_owned(), "not yet".to_owned())]);
    }

    fn three() -> Vec<Exercise> {
        (1..=3)
            .map(|number| Exercise {
                number,
                title: String::new(),
                chapter: String::new(),
                difficulty: String::new(),
                hints: Vec::new(),
            })
            .collect()
    }

    /// The book's exercise index tells the truth about the order: every
    /// exercise's title, page and difficulty sentence, as the metadata has
    /// them.
    #[test]
    fn the_books_index_shows_the_metadatas_order_and_difficulties() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let all = load(&root).expect("the metadata loads");
        let index = std::fs::read_to_string(root.join(INDEX)).expect("read the exercise index");
        let fold = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let folded = fold(&index);
        for exercise in &all {
            let n = exercise.number;
            assert!(
                index.contains(&format!("| {n} | [{}](exercise-{n}.md) |", exercise.title)),
                "{INDEX}: the table's row {n} is [{}](exercise-{n}.md)",
                exercise.title
            );
            assert!(
                folded.contains(&format!(
                    "{n}. **{}.** {}",
                    exercise.title,
                    fold(&exercise.difficulty)
                )),
                "{INDEX}: \"The order\" gives exercise {n}'s difficulty as {METADATA} does: {}",
                exercise.difficulty
            );
        }
    }

    #[test]
    fn exercise_numbers_are_checked() {
        let exercises = three();
        assert_eq!(by_number(&exercises, 2).map(|e| e.number), Ok(2));
        for bad in [0, 4] {
            let err = by_number(&exercises, bad).expect_err("refused");
            assert!(
                err.contains(&format!(
                    "there is no exercise {bad}; valid exercise numbers are 1 to 3"
                )),
                "{err}"
            );
        }
    }
}
