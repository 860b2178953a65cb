//! The book's runner: an mdBook preprocessor that replaces
//!
//! - `{{#run PACKAGE [--bin NAME] [--expect-exit CODE] [--release] [--markdown] [-- ARGS]}}`
//!   with the program's real standard output: in a ```` ```text ```` block, or
//!   as it is with `--markdown` (a report of tables and inline HTML);
//!   `--release` builds and runs it with the release profile,
//! - `{{#pitfall CASE}}` with the real diagnostic of a pitfall case,
//! - `{{#toolchain}}` with the `rustc --version` that built the book,
//! - `{{#widget NAME}}` with a playground widget and its loader,
//!
//! and fails the build, naming chapter file and line, when any of them
//! cannot be produced. Results are cached under the runner's target
//! directory by a hash of everything that can change them.
//!
//! It also builds and serves the book itself, with mdBook's library (see
//! `book.rs`), so the workbook needs no separately installed mdBook:
//!
//! - `mdbook-runner build BOOK_DIR [--reader]` builds it;
//! - `mdbook-runner serve BOOK_DIR [--port N]` serves it and rebuilds it on
//!   changes, producing missing results in the background (`serve.rs`);
//! - `mdbook-runner check BOOK_DIR` checks a built book (`check.rs`).

mod answers;
mod background;
mod book;
mod check;
mod compile;
mod directive;
mod external;
mod html;
mod preprocess;
mod programs;
mod project;
mod render;
mod results;
mod serve;
mod site;
mod widget;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::book::Audience;

/// The book's runner: an mdBook preprocessor (run with no command, as mdBook
/// does), and the book's builder and server.
#[derive(Parser)]
#[command(name = "mdbook-runner")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Answers mdBook whether RENDERER is supported (every one is: the
    /// output is Markdown).
    Supports { renderer: String },
    /// Builds the book into its build directory, running every program
    /// whose output is not cached.
    Build {
        book_dir: PathBuf,
        /// For reading: a wrong answer only Miri rejects gets a note where
        /// Miri is not installed (without it, that is an error).
        #[arg(long)]
        reader: bool,
    },
    /// Serves the book on 127.0.0.1 and rebuilds it when a file it shows
    /// changes; results not cached yet are produced in the background.
    Serve {
        book_dir: PathBuf,
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// Checks a built book: links, listings, output blocks.
    Check { book_dir: PathBuf },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        None => preprocess(),
        Some(Command::Supports { .. }) => ExitCode::SUCCESS,
        Some(Command::Build { book_dir, reader }) => {
            let audience = if reader {
                Audience::Reader
            } else {
                Audience::Check
            };
            match book::build(&book_dir, &audience) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Some(Command::Serve { book_dir, port }) => {
            match serve::serve(&book_dir, &format!("127.0.0.1:{port}")) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Some(Command::Check { book_dir }) => {
            report(check::check(Path::new(&book_dir)), "the book check")
        }
    }
}

fn preprocess() -> ExitCode {
    let (ctx, book) = match mdbook_preprocessor::parse_input(std::io::stdin()) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if !same_minor_version(&ctx.mdbook_version, mdbook_preprocessor::MDBOOK_VERSION) {
        eprintln!(
            "warning: the runner was built for mdBook {} but is called by mdBook {}",
            mdbook_preprocessor::MDBOOK_VERSION,
            ctx.mdbook_version
        );
    }
    match preprocess::run(&ctx, book, None) {
        Ok(book) => {
            let mut stdout = std::io::stdout().lock();
            match serde_json::to_writer(&mut stdout, &book).map(|()| stdout.flush()) {
                Ok(Ok(())) => ExitCode::SUCCESS,
                Ok(Err(e)) => fail(&format!("cannot write the book: {e}")),
                Err(e) => fail(&format!("cannot write the book: {e}")),
            }
        }
        Err(errors) => report(Err(errors), "the runner"),
    }
}

fn report(outcome: Result<(), Vec<String>>, what: &str) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            fail(&format!("{what} found {} problem(s)", errors.len()))
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn same_minor_version(a: &str, b: &str) -> bool {
    a.split('.').take(2).eq(b.split('.').take(2))
}
