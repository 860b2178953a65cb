//! The `cargo workbook test` step that checks the exercises both ways:
//! every reference solution passes its exercise's tests, and every unsolved
//! stub fails them with the "not solved yet" guide.

use std::path::Path;

use crate::exercises::{self, Exercise, NOT_SOLVED_MARKER};
use crate::project;

pub fn check(root: &Path) -> Result<(), String> {
    let all = exercises::load(root)?;
    let mut problems = Vec::new();
    for exercise in &all {
        if let Err(e) = same_test_files(root, exercise) {
            problems.push(e);
        }
    }

    // All solutions in one invocation; only if that fails, one by one to
    // name the culprits.
    let solutions: Vec<String> = all.iter().map(Exercise::solution_package).collect();
    let mut cmd = project::cargo(root);
    cmd.args(["test", "--quiet"]);
    for package in &solutions {
        cmd.args(["--package", package]);
    }
    if project::run_status(&mut cmd).is_err() {
        for exercise in &all {
            let run = exercises::run_tests(root, &exercise.solution_package())?;
            if !run.success {
                problems.push(format!(
                    "{} (the solution of exercise {}) fails its tests:\n{}",
                    exercise.solution_package(),
                    exercise.number,
                    run.output
                ));
            }
        }
    } else {
        println!("every solution passes its exercise's tests");
    }

    let stubs: Vec<String> = all.iter().map(Exercise::package).collect();
    exercises::build_tests(root, &stubs)
        .map_err(|e| format!("the exercise stubs must compile: {e}"))?;
    for exercise in &all {
        let package = exercise.package();
        let run = exercises::run_tests(root, &package)?;
        if run.success {
            problems.push(format!(
                "{package} passes unsolved: its tests must fail on the stub (if you solved it \
                 yourself, `cargo workbook reset {}` restores the stub and backs up your work)",
                exercise.number
            ));
        } else if !run.compiled {
            problems.push(format!(
                "{package}'s stub does not compile:\n{}",
                run.compile_errors()
            ));
        } else if !run.output.contains(NOT_SOLVED_MARKER) {
            problems.push(format!(
                "{package} fails without telling the learner why: no \"{NOT_SOLVED_MARKER}\" guide in its output"
            ));
        } else {
            println!(
                "{package}: the stub fails with the guide ({} failing)",
                run.failed.len()
            );
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// The solution must run exactly the exercise's test files: every
/// `exercises/exercise-N/tests/*.rs` is a `[[test]]` path of the solution.
fn same_test_files(root: &Path, exercise: &Exercise) -> Result<(), String> {
    let solution_manifest = exercise
        .solution_dir()
        .join("Cargo.toml")
        .display()
        .to_string();
    let text = std::fs::read_to_string(root.join(&solution_manifest))
        .map_err(|e| format!("cannot read {solution_manifest}: {e}"))?;
    let manifest: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{solution_manifest}: {e}"))?;
    let listed = wrong_answer_check::test_paths(&manifest);
    let tests_dir = exercise.dir().join("tests");
    let entries = std::fs::read_dir(root.join(&tests_dir))
        .map_err(|e| format!("cannot read {}: {e}", tests_dir.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".rs") {
            continue;
        }
        let expected = format!("../../exercises/exercise-{}/tests/{name}", exercise.number);
        if !listed.contains(&expected.as_str()) {
            return Err(format!(
                "{solution_manifest} does not run {}/{name}: add a [[test]] with path = \"{expected}\"",
                tests_dir.display()
            ));
        }
    }
    Ok(())
}
