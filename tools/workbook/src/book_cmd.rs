//! `cargo workbook book` and `cargo workbook serve`: build the book's runner
//! (which builds and serves the book with mdBook's library, pinned in
//! Cargo.lock), and the wasm playground whose widgets the chapters embed.
//!
//! `serve` answers its first page as soon as the runner is built: the
//! runner shows a placeholder for each program output not cached yet and
//! produces them in the background, while this command builds the
//! playground (installing the pinned wasm-bindgen CLI the first time).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use workbook_support::file_watch::{self, Snapshot};
use workbook_support::workspace::Workspace;

use crate::book::{For, SITE_DIR, build, build_runner, place_playground, step};
use crate::project;

/// `cargo workbook book`: build the book into `book/build`.
pub fn run_book() -> Result<(), String> {
    let root = project::root()?;
    build(&root, For::Reader)?;
    println!(
        "the book is in {} (open index.html, or `cargo workbook serve`)",
        root.join(SITE_DIR).display()
    );
    Ok(())
}

/// `cargo workbook serve [--port N]`: serve the book on 127.0.0.1. The
/// runner rebuilds it when a chapter or anything a page includes or runs
/// changes (book.toml's `extra-watch-dirs`); this command builds the wasm
/// playground, and again when its sources or the crates it is built from
/// change, and the runner then picks up the new files.
pub fn run_serve(port: u16) -> Result<(), String> {
    let root = project::root()?;
    step(
        1,
        3,
        "building the book's runner (cargo build -p mdbook-runner)",
    );
    let runner = build_runner(&root)?;
    step(
        2,
        3,
        &format!(
            "serving the book on http://127.0.0.1:{port} as soon as its first build is done \
             (Ctrl-C stops); outputs not cached yet are produced in the background"
        ),
    );
    let mut server = Command::new(&runner)
        .current_dir(&root)
        .args(["serve", "book", "--port", &port.to_string()])
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", runner.display()))?;
    // The server listens before its first build: a port in use ends it at
    // once, and that is said now, not after the playground's build.
    std::thread::sleep(Duration::from_secs(1));
    if let Some(stopped) = server_stopped(&mut server)? {
        return stopped;
    }
    step(
        3,
        3,
        "building the wasm playground into book/src/playground; its widgets appear when it is ready",
    );
    let watched = playground_sources(&root)?;
    let mut seen = Snapshot::of(&watched);
    build_playground(&root);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        if let Some(stopped) = server_stopped(&mut server)? {
            return stopped;
        }
        let now = Snapshot::of(&watched);
        if let Some(changed) = seen.changed_in(&now) {
            seen = now;
            println!(
                "[serve] {} · {} changed: rebuilding the playground",
                file_watch::clock(),
                file_watch::shown(&changed, &root)
            );
            build_playground(&root);
        }
    }
}

/// Builds the playground into the book's sources; a failed build is
/// reported and leaves the last good playground in place.
fn build_playground(root: &Path) {
    match place_playground(root) {
        Ok(_) => println!("[serve] {} · the playground is built", file_watch::clock()),
        Err(e) => println!("[serve] the playground does not build: {e}"),
    }
}

/// How the server ended, once it has.
fn server_stopped(server: &mut Child) -> Result<Option<Result<(), String>>, String> {
    let status = server
        .try_wait()
        .map_err(|e| format!("cannot wait for the book's server: {e}"))?;
    Ok(status.map(|status| {
        if status.success() {
            Ok(())
        } else {
            Err(format!("the book's server stopped ({status})"))
        }
    }))
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
