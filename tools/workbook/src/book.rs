//! The book: building the runner (which builds the book with mdBook's
//! library), building the book for a reader or for the test command, and
//! checking the result.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::project;

const RUNNER_PACKAGE: &str = "mdbook-runner";

/// Where the book is built (book.toml's `build-dir`), from the workspace
/// root.
pub const SITE_DIR: &str = "book/build";

/// Where the playground is placed among the book's sources, from the
/// workspace root; mdBook copies it into the site.
const PLAYGROUND_DIR: &str = "book/src/playground";

/// Who a book build is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum For {
    /// A reader: where Miri is not installed, a wrong answer only Miri
    /// rejects gets a note on how to see it (the runner's `--reader`), so
    /// reading needs no nightly.
    Reader,
    /// The test command: every wrong answer must be proven rejected.
    Check,
}

/// Builds the runner and the playground, then the book: what `cargo
/// workbook book` and the book check share.
pub fn build(root: &Path, purpose: For) -> Result<(), String> {
    step(
        1,
        3,
        "building the book's runner (cargo build -p mdbook-runner)",
    );
    let runner = build_runner(root)?;
    step(
        2,
        3,
        "building the wasm playground into book/src/playground (the book copies it into the site)",
    );
    place_playground(root)?;
    step(
        3,
        3,
        "building the book (programs run the first time; later builds reuse their output)",
    );
    let mut cmd = Command::new(&runner);
    cmd.current_dir(root).args(["build", "book"]);
    if purpose == For::Reader {
        cmd.arg("--reader");
    }
    project::run_status(&mut cmd)
}

/// The check step of `cargo workbook test`: the book builds (the runner
/// fails it on any error), then `mdbook-runner check` looks at the result.
pub fn check(root: &Path) -> Result<(), String> {
    build(root, For::Check)?;
    println!("checking links, listings and output blocks");
    project::run_status(
        Command::new(runner_path(root))
            .current_dir(root)
            .args(["check", "book"]),
    )
}

/// Builds the wasm playground into the book's sources.
pub fn place_playground(root: &Path) -> Result<(), String> {
    crate::playground::build_into(root, &root.join(PLAYGROUND_DIR)).map(|_| ())
}

/// Builds the runner; its path.
pub fn build_runner(root: &Path) -> Result<PathBuf, String> {
    project::run_status(project::cargo(root).args(["build", "--package", RUNNER_PACKAGE]))?;
    let runner = runner_path(root);
    if runner.is_file() {
        Ok(runner)
    } else {
        Err(format!(
            "built {RUNNER_PACKAGE} but {} does not exist",
            runner.display()
        ))
    }
}

/// The built runner.
fn runner_path(root: &Path) -> PathBuf {
    project::target_dir(root)
        .join("debug")
        .join(format!("{RUNNER_PACKAGE}{}", std::env::consts::EXE_SUFFIX))
}

/// A numbered step of a long command.
pub fn step(k: usize, n: usize, what: &str) {
    println!("[{k}/{n}] {what}");
}
