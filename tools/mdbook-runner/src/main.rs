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
//! `mdbook-runner check BOOK_DIR` checks a built book (see `check.rs`).

mod answers;
mod check;
mod compile;
mod directive;
mod external;
mod html;
mod preprocess;
mod programs;
mod render;
mod site;
mod widget;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: mdbook-runner                 (as an mdBook preprocessor: [context, book] JSON on stdin)
       mdbook-runner supports RENDERER
       mdbook-runner check BOOK_DIR";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => preprocess(),
        // The output is Markdown, which every renderer accepts.
        ["supports", _renderer] => ExitCode::SUCCESS,
        ["check", book_dir] => report(check::check(Path::new(book_dir)), "the book check"),
        ["-h" | "--help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("error: unexpected arguments {args:?}\n{USAGE}");
            ExitCode::from(2)
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
    match preprocess::run(&ctx, book) {
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
