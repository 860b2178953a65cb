//! `cargo workbook test`: every check, in order, with a summary at the end.
//! A failing step does not stop the later ones: a learner and CI both want to
//! see everything that is wrong at once, so every step runs and the summary
//! lists each one.

use std::time::Instant;

use crate::playground::WASM_TARGET;
use crate::project;

/// The crates that must also build for `wasm32-unknown-unknown`, because
/// the playground uses them.
pub const WASM_CRATES: &[&str] = &[
    "alloc-measure",
    "layout",
    "counting",
    "peak",
    "budget",
    "bump",
];

struct Step {
    name: &'static str,
    run: fn(&std::path::Path) -> Result<(), String>,
}

const STEPS: &[Step] = &[
    Step {
        name: "formatting (cargo fmt --check)",
        run: fmt,
    },
    Step {
        name: "lints (cargo clippy, warnings denied)",
        run: clippy,
    },
    Step {
        name: "book: builds with zero runner errors, links resolve, every listing used, no hand-typed output",
        run: crate::book::check,
    },
    Step {
        name: "tests of every default member (cargo test)",
        run: tests,
    },
    Step {
        name: "allocator crates build for wasm32",
        run: wasm_build,
    },
    Step {
        name: "exercises: every solution passes, every stub fails",
        run: crate::exercise_check::check,
    },
    Step {
        name: "wrong answers: each rejected by its exercise's tests (natively or under Miri)",
        run: crate::wrong_answers::check,
    },
    Step {
        name: "Miri: allocator crates and solutions, thread tests over several seeds",
        run: crate::miri_cmd::step,
    },
    Step {
        name: "playground: wasm tests, end-to-end on its page and in the book's chapters (headless Chromium)",
        run: playground,
    },
];

pub fn run() -> Result<(), String> {
    let root = project::root()?;
    let mut results = Vec::new();
    for step in STEPS {
        println!("\n==> {}", step.name);
        let started = Instant::now();
        let outcome = (step.run)(&root);
        if let Err(e) = &outcome {
            eprintln!("FAILED: {e}");
        }
        results.push((step.name, outcome, started.elapsed()));
    }

    println!("\nSummary:");
    for (name, outcome, took) in &results {
        let mark = if outcome.is_ok() { "pass" } else { "FAIL" };
        println!("  [{mark}] {name} ({:.1} s)", took.as_secs_f64());
    }
    if let Some(tally) = crate::wrong_answers::tally() {
        println!("  {tally}");
    }
    let failed = results.iter().filter(|(_, o, _)| o.is_err()).count();
    if failed == 0 {
        println!("all {} checks passed", results.len());
        Ok(())
    } else {
        Err(format!("{failed} of {} checks failed", results.len()))
    }
}

/// After the book step, which built `book/build` with the widgets in it.
fn playground(root: &std::path::Path) -> Result<(), String> {
    crate::playground::check(root)?;
    crate::playground_web::book_end_to_end(&root.join(crate::book::SITE_DIR))
}

fn fmt(root: &std::path::Path) -> Result<(), String> {
    project::run_status(project::cargo(root).args(["fmt", "--all", "--check"]))
}

fn clippy(root: &std::path::Path) -> Result<(), String> {
    project::run_status(project::cargo(root).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]))
}

fn tests(root: &std::path::Path) -> Result<(), String> {
    project::run_status(project::cargo(root).args(["test", "--quiet"]))
}

fn wasm_build(root: &std::path::Path) -> Result<(), String> {
    let mut cmd = project::cargo(root);
    cmd.args(["build", "--quiet", "--lib", "--target", WASM_TARGET]);
    for krate in WASM_CRATES {
        cmd.args(["--package", krate]);
    }
    project::run_status(&mut cmd)
        .map_err(|e| format!("{e}\n(if the target is missing: rustup target add {WASM_TARGET})"))
}
