//! The gallery step of `cargo workbook test`, also `cargo workbook
//! wrong-answers`: every known-wrong solution in `wrong-answers/` is run
//! against its exercise's tests (natively or under Miri, as its manifest
//! declares) and must be REJECTED by the tests it names. A check that cannot
//! fail proves nothing; this proves the exercises' checks can.
//!
//! The work is `wrong-answer-check`'s, shared with the book's runner
//! (`{{#wrong-answer PACKAGE}}`): both keep their proofs in one cache keyed
//! by a hash of every input, so the book step and this step never run the
//! same wrong answer twice.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use workbook_support::toolchain::Toolchain;
use workbook_support::workspace::Workspace;
use wrong_answer_check::{RejectedBy, Rejection, WrongAnswer};

use crate::{exercises, project};

/// Every exercise needs at least this many wrong answers.
pub const MINIMUM_PER_EXERCISE: usize = 3;

/// How long one run of a wrong answer's tests may take.
const TIMEOUT: Duration = Duration::from_secs(600);

/// The last tally ("K of K wrong solutions rejected"), for the summary of
/// `cargo workbook test`.
static TALLY: Mutex<Option<String>> = Mutex::new(None);

/// The tally of the last gallery check in this process, if one ran.
pub fn tally() -> Option<String> {
    TALLY.lock().ok().and_then(|t| t.clone())
}

/// `cargo workbook wrong-answers`: the whole gallery, or only the named
/// wrong answers (`wrong-N-<mistake>`).
pub fn run(packages: &[String]) -> Result<(), String> {
    let root = project::root()?;
    if packages.is_empty() {
        return check(&root);
    }
    let answers = packages
        .iter()
        .map(|package| wrong_answer_check::by_package(&root, package))
        .collect::<Result<Vec<_>, _>>()?;
    prove(&root, &answers, Vec::new())
}

/// Checks the whole gallery: its metadata, its coverage of the exercises,
/// and that every wrong answer is rejected.
pub fn check(root: &Path) -> Result<(), String> {
    let exercise_count = exercises::load(root)?.len();
    let answers = wrong_answer_check::discover(root).map_err(|errors| errors.join("\n"))?;
    let exercise_count = u32::try_from(exercise_count).unwrap_or(u32::MAX);
    let problems = wrong_answer_check::coverage(&answers, exercise_count, MINIMUM_PER_EXERCISE);
    prove(root, &answers, problems)
}

/// Proves `answers` rejected and prints the tally; fails with every
/// problem, those already found (`problems`) first.
fn prove(root: &Path, answers: &[WrongAnswer], mut problems: Vec<String>) -> Result<(), String> {
    let workspace = Workspace::load(root)?;
    let toolchain = Toolchain::detect(root)?;
    let results =
        wrong_answer_check::prove_rejected(&workspace, &toolchain, answers, TIMEOUT, &|message| {
            eprintln!("  [wrong answers] {message}")
        });
    let width = answers.iter().map(|a| a.package.len()).max().unwrap_or(0);
    let mut rejected = 0;
    for (answer, result) in answers.iter().zip(results) {
        match result {
            Ok(rejection) => {
                rejected += 1;
                println!(
                    "  rejected      {:width$}  {}",
                    answer.package,
                    how(answer, &rejection)
                );
            }
            Err(e) => {
                println!("  NOT REJECTED  {:width$}", answer.package);
                problems.push(e);
            }
        }
    }
    let tally = format!("{rejected} of {} wrong solutions rejected", answers.len());
    println!("{tally}");
    if let Ok(mut last) = TALLY.lock() {
        *last = Some(tally);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// "by two_threads_never_share_a_block (native)", and so on.
fn how(answer: &WrongAnswer, rejection: &Rejection) -> String {
    let mode = match &answer.rejected_by {
        RejectedBy::Native => "natively".to_owned(),
        RejectedBy::Miri { seeds } => format!("under Miri, seeds {seeds}"),
    };
    let cached = if rejection.cached { ", cached" } else { "" };
    format!("by {} ({mode}{cached})", rejection.caught.join(", "))
}
