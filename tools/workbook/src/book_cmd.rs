//! `cargo workbook book` and `cargo workbook serve`: install the pinned
//! mdBook once, build the runner preprocessor, then build or serve `book/`.
//!
//! mdBook finds the runner through `MDBOOK_PREPROCESSOR__RUNNER__COMMAND`,
//! which overrides `[preprocessor.runner] command` in book.toml with the
//! binary built here (book.toml's own command, `cargo run ... mdbook-runner`,
//! serves a plain `mdbook build book`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use workbook_support::workspace::Workspace;

use crate::file_watch::{self, Snapshot};
use crate::project;
use crate::tool_cache::Tool;

/// mdBook itself; its version must equal the `mdbook-preprocessor` crate the
/// runner is built with (the root Cargo.toml pins it; a unit test keeps the
/// two equal, and the runner refuses a different minor version at run time).
pub const MDBOOK: Tool = Tool {
    krate: "mdbook",
    version: "0.5.4",
    binary: "mdbook",
    locked: true,
};

const RUNNER_PACKAGE: &str = "mdbook-runner";

/// `cargo workbook book`: build the book into `book/build`.
pub fn run_book() -> Result<(), String> {
    let root = project::root()?;
    build(&root, For::Reader)?;
    println!(
        "the book is in {} (open index.html, or `cargo workbook serve`)",
        root.join("book/build").display()
    );
    Ok(())
}

/// `cargo workbook serve [--port N]`: serve the book on 127.0.0.1. mdBook
/// rebuilds it when a chapter or anything a page includes or runs changes
/// (book.toml's `extra-watch-dirs`); this command rebuilds the wasm
/// playground when its sources or the crates it is built from change, and
/// mdBook then picks up the new files.
pub fn run_serve(port: u16) -> Result<(), String> {
    let root = project::root()?;
    let (mdbook, runner) = prepare(&root, 4)?;
    step(
        4,
        4,
        &format!("serving the book on http://127.0.0.1:{port} (Ctrl-C stops)"),
    );
    let port = port.to_string();
    let mut cmd = mdbook_command(&mdbook, &runner, &root, For::Reader);
    cmd.args(["serve", "book", "--hostname", "127.0.0.1", "--port", &port]);
    let mut server = cmd
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", project::describe(&cmd)))?;
    let watched = playground_sources(&root)?;
    let mut seen = Snapshot::of(&watched);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        if let Some(status) = server
            .try_wait()
            .map_err(|e| format!("cannot wait for mdBook: {e}"))?
        {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("mdBook stopped ({status})"))
            };
        }
        let now = Snapshot::of(&watched);
        if let Some(changed) = seen.changed_in(&now) {
            seen = now;
            println!(
                "[serve] {} · {} changed: rebuilding the playground",
                file_watch::clock(),
                file_watch::shown(&changed, &root)
            );
            // A failed build leaves the last good playground in place.
            if let Err(e) =
                crate::playground_cmd::build_into(&root, &root.join("book/src/playground"))
            {
                println!("[serve] the playground does not build: {e}");
            }
        }
    }
}

/// What the wasm playground is built from: its own sources and web assets,
/// and the workspace crates it depends on (the book's allocators).
fn playground_sources(root: &Path) -> Result<Vec<PathBuf>, String> {
    let ws = Workspace::load(root)?;
    let playground = ws.package("playground")?;
    Ok(ws
        .source_dirs(playground)
        .into_iter()
        .filter(|dir| dir != &playground.dir)
        .chain(["src", "www", "Cargo.toml"].map(|p| playground.dir.join(p)))
        .collect())
}

/// Who a book build is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum For {
    /// A reader: where Miri is not installed, a wrong answer only Miri
    /// rejects gets a note on how to see it (the runner's `without-miri =
    /// "note"`), so reading needs no nightly.
    Reader,
    /// The test command: every wrong answer must be proven rejected.
    Check,
}

/// Installs mdBook if needed, builds the runner, and builds the book: what
/// `cargo workbook book` and the book check share.
pub fn build(root: &Path, purpose: For) -> Result<(), String> {
    let (mdbook, runner) = prepare(root, 4)?;
    step(
        4,
        4,
        "building the book (programs run the first time; later builds reuse their output)",
    );
    project::run_status(mdbook_command(&mdbook, &runner, root, purpose).args(["build", "book"]))
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

/// The built runner.
fn runner_path(root: &Path) -> PathBuf {
    project::target_dir(root)
        .join("debug")
        .join(format!("{RUNNER_PACKAGE}{}", std::env::consts::EXE_SUFFIX))
}

/// Steps 1 to 3 of `total`: mdBook, the runner, and the wasm playground
/// whose widgets the chapters embed.
fn prepare(root: &Path, total: usize) -> Result<(PathBuf, PathBuf), String> {
    step(
        1,
        total,
        &format!(
            "mdBook {} (installed once into the tool cache)",
            MDBOOK.version
        ),
    );
    let mdbook = MDBOOK.ensure()?;
    step(
        2,
        total,
        "building the runner preprocessor (cargo build -p mdbook-runner)",
    );
    project::run_status(project::cargo(root).args([
        "build",
        "--quiet",
        "--package",
        RUNNER_PACKAGE,
    ]))?;
    step(
        3,
        total,
        "building the wasm playground into book/src/playground (mdBook copies it into the site)",
    );
    crate::playground_cmd::build_into(root, &root.join("book/src/playground"))?;
    let runner = runner_path(root);
    if !runner.is_file() {
        return Err(format!(
            "built {RUNNER_PACKAGE} but {} does not exist (is build.target-dir set in a cargo config?)",
            runner.display()
        ));
    }
    Ok((mdbook, runner))
}

fn mdbook_command(mdbook: &Path, runner: &Path, root: &Path, purpose: For) -> Command {
    let mut cmd = Command::new(mdbook);
    cmd.current_dir(root)
        .env("MDBOOK_PREPROCESSOR__RUNNER__COMMAND", runner);
    if purpose == For::Reader {
        cmd.env("MDBOOK_PREPROCESSOR__RUNNER__WITHOUT_MIRI", "note");
    }
    cmd
}

fn step(k: usize, n: usize, what: &str) {
    println!("[{k}/{n}] {what}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdbook_version_equals_the_pinned_preprocessor_crate() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("root Cargo.toml is readable");
        let pin = text
            .lines()
            .find_map(|line| line.strip_prefix("mdbook-preprocessor = \"="))
            .and_then(|rest| rest.strip_suffix('"'))
            .expect("root Cargo.toml pins mdbook-preprocessor = \"=X.Y.Z\"");
        assert_eq!(MDBOOK.version, pin);
    }
}
