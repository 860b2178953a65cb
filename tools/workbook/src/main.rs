//! `cargo workbook <command>` — see `cargo workbook help`.

mod book_cmd;
mod commands;
mod playground_cmd;
mod playground_web;
mod project;
mod test_cmd;
mod tool_cache;

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
