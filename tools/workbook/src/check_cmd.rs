//! `cargo workbook check N`: runs exercise N's tests and says what passes and
//! what is left.

use std::path::Path;

use crate::exercises::{self, Exercise};
use crate::project;

pub fn run(args: &[String]) -> Result<(), String> {
    let root = project::root()?;
    let all = exercises::load(&root)?;
    let exercise = exercises::pick(&all, "check", args)?;
    if check(&root, exercise)? {
        Ok(())
    } else {
        Err(format!("exercise {} is not solved yet", exercise.number))
    }
}

/// Runs and summarises the tests; true when they all pass.
pub fn check(root: &Path, exercise: &Exercise) -> Result<bool, String> {
    println!(
        "Exercise {}: {} — running `cargo test -p {}` …",
        exercise.number,
        exercise.title,
        exercise.package()
    );
    let run = exercises::run_tests(root, &exercise.package())?;
    if !run.compiled {
        println!(
            "\n{} does not compile yet:\n\n{}",
            exercise.lib().display(),
            run.compile_errors()
        );
        return Ok(false);
    }
    for name in &run.passed {
        println!("  pass  {name}");
    }
    for (name, message) in &run.failed {
        println!("  FAIL  {name}");
        for line in message.lines() {
            println!("          {line}");
        }
    }
    let total = run.passed.len() + run.failed.len();
    if run.success {
        println!(
            "\nAll {total} tests pass: exercise {} is solved. \
             See the reference solution beside yours: `cargo workbook compare {}`",
            exercise.number, exercise.number
        );
    } else if run.failed.is_empty() {
        // Failed without a failing test: show what cargo said.
        println!("\nThe tests did not run to the end:\n{}", run.output);
    } else {
        println!(
            "\n{} of {total} tests pass; {} left. Stuck? `cargo workbook hint {}`",
            run.passed.len(),
            run.failed.len(),
            exercise.number
        );
    }
    Ok(run.success)
}
