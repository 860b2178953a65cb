//! `mdbook-runner serve BOOK_DIR`: build the book, serve it, and build it
//! again when a file it shows changes or when results produced in the
//! background are ready; open pages reload after each build.
//!
//! The first build does not wait for programs that have never run: their
//! pages say so, and [`Background`] produces them (see background.rs).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mdbook_driver::MDBook;
use workbook_support::file_watch::{self, Snapshot};
use workbook_support::http::{self, Builds, LiveReload};

use crate::background::Background;
use crate::book::{self, Audience};

/// mdBook's pages connect their live-reload WebSocket to this path when
/// `output.html.live-reload-endpoint` names it.
const LIVE_RELOAD: &str = "__livereload";

pub fn serve(book_dir: &Path, address: &str) -> Result<(), String> {
    let book_dir = std::path::absolute(book_dir)
        .map_err(|e| format!("cannot resolve {}: {e}", book_dir.display()))?;
    let background = Arc::new(Background::default());
    let audience = Audience::Served(Arc::clone(&background));
    let listener = TcpListener::bind(address).map_err(|e| {
        format!("cannot listen on {address}: {e} (is another server using the port? choose one with --port)")
    })?;
    // The port the system chose, when asked for port 0.
    let address = listener
        .local_addr()
        .map_err(|e| format!("cannot read the server's address: {e}"))?;

    let started = Instant::now();
    let first = load(&book_dir, &audience).map_err(|e| format!("cannot load the book: {e}"))?;
    let site = first.build_dir_for("html");
    let mut watched = watched_paths(&book_dir, &first);
    build(first, &site, "first build");
    let builds = Arc::new(Builds::default());
    {
        let reload = LiveReload {
            path: LIVE_RELOAD,
            builds: Arc::clone(&builds),
        };
        let site = site.clone();
        std::thread::spawn(move || http::serve(listener, site, Some(reload)));
    }
    println!(
        "[serve] {} · the book is served on http://{address} (first build took {:.1} s; Ctrl-C stops)",
        file_watch::clock(),
        started.elapsed().as_secs_f64()
    );

    let mut seen = Snapshot::of(&watched);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = Snapshot::of(&watched);
        let why = if let Some(changed) = seen.changed_in(&now) {
            // An editor may write a file in several steps (truncate, then
            // write): build from what is there once it stops changing, not
            // from a half-written book.toml.
            seen = settled(&watched, now);
            background.sources_changed();
            format!("{} changed", file_watch::shown(&changed, &book_dir))
        } else if background.take_ended() {
            "results from the background are ready".to_owned()
        } else {
            continue;
        };
        match load(&book_dir, &audience) {
            Ok(book) => {
                // book.toml may name other directories to watch now.
                watched = watched_paths(&book_dir, &book);
                if build(book, &site, &why) {
                    builds.finished();
                }
            }
            Err(e) => {
                println!("[serve] {} · {why}: building", file_watch::clock());
                report_failure(&e);
            }
        }
    }
}

/// The files under `watched` once two looks 300 ms apart agree.
fn settled(watched: &[PathBuf], mut now: Snapshot) -> Snapshot {
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let again = Snapshot::of(watched);
        if again == now {
            return now;
        }
        now = again;
    }
}

fn load(book_dir: &Path, audience: &Audience) -> Result<MDBook, String> {
    book::load(book_dir, audience, Some(LIVE_RELOAD)).map_err(|e| format!("{e:#}"))
}

/// Builds `book` and serves its pages from `site`; whether it built (a
/// failure is printed, and the pages of the last good build stay up).
///
/// mdBook empties its output directory before it writes the pages, and
/// stops halfway on an error (a broken theme template, say). So the book is
/// built into a directory beside `site` and put in its place only once it
/// is whole: a page asked for during a build, or after a failed one, is the
/// last good build's, never a 404.
fn build(mut book: MDBook, site: &Path, why: &str) -> bool {
    let started = Instant::now();
    println!("[serve] {} · {why}: building", file_watch::clock());
    let staging = beside(site, "next");
    book.config.build.build_dir = staging.clone();
    let built = book
        .build()
        .map_err(|e| format!("{e:#}"))
        .and_then(|()| publish(&book.build_dir_for("html"), site));
    // Whatever is left of a failed build (or other renderers' output).
    let _ = std::fs::remove_dir_all(&staging);
    match built {
        Ok(()) => {
            println!(
                "[serve] {} · built in {:.1} s",
                file_watch::clock(),
                started.elapsed().as_secs_f64()
            );
            true
        }
        Err(e) => {
            report_failure(&e);
            false
        }
    }
}

/// `site` with `suffix` added to its name: `book/build.next`.
fn beside(site: &Path, suffix: &str) -> PathBuf {
    let mut name = site.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{suffix}"));
    site.with_file_name(name)
}

/// Puts the pages in `built` in place of those in `site`: two renames, so
/// `site` is never half-written.
fn publish(built: &Path, site: &Path) -> Result<(), String> {
    let old = beside(site, "old");
    let remove_old = || match std::fs::remove_dir_all(&old) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", old.display()))
        }
        _ => Ok(()),
    };
    remove_old()?;
    if site.exists() {
        std::fs::rename(site, &old)
            .map_err(|e| format!("cannot move {} aside: {e}", site.display()))?;
    }
    std::fs::rename(built, site).map_err(|e| {
        format!(
            "cannot move the new pages from {} to {}: {e}",
            built.display(),
            site.display()
        )
    })?;
    remove_old()
}

fn report_failure(e: &str) {
    println!(
        "[serve] {} · the book does not build; the pages of the last good build stay up:\n{e}",
        file_watch::clock()
    );
}

/// What a page can show: book.toml, the chapters and everything under
/// `src/` (the playground too), the theme, and `build.extra-watch-dirs`.
fn watched_paths(book_dir: &Path, book: &MDBook) -> Vec<PathBuf> {
    let mut paths = vec![
        book_dir.join("book.toml"),
        book.source_dir(),
        book.theme_dir(),
    ];
    paths.extend(
        book.config
            .build
            .extra_watch_dirs
            .iter()
            .map(|dir| book_dir.join(dir)),
    );
    paths
}
