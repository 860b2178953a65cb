//! `cargo workbook <command>` — see `cargo workbook help`.

mod bench_cmd;
mod book_cmd;
mod bounded;
mod check_cmd;
mod commands;
mod compare_cmd;
mod exercise_check;
mod exercises;
mod file_watch;
mod hint_cmd;
mod list_cmd;
mod miri;
mod miri_cmd;
mod miri_report;
mod playground_cmd;
mod playground_web;
mod project;
mod reset_cmd;
mod test_cmd;
mod tool_cache;
mod trace_cmd;
mod watch_cmd;
mod wrong_answers;

use std::process::ExitCode;

fn main() -> ExitCode {
    restore_default_sigpipe();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match commands::dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Rust programs ignore SIGPIPE, so printing into a closed pipe (`| head`)
/// makes `println!` panic. A command-line tool should just stop, as `cat` does.
fn restore_default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any other thread exists;
    // setting a signal's disposition to its default has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
