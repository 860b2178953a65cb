//! `cargo workbook <command>` — see `cargo workbook help`.

mod bench_cmd;
mod book_cmd;
mod check_cmd;
mod commands;
mod compare_cmd;
mod exercise_check;
mod exercises;
mod hint_cmd;
mod list_cmd;
mod playground_cmd;
mod playground_web;
mod project;
mod reset_cmd;
mod test_cmd;
mod tool_cache;
mod watch_cmd;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match commands::dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
