//! `cargo workbook <command>`: the command line is declared in `cli`, each
//! command lives in its own `*_cmd` module (`cargo workbook --help` lists
//! them).

mod bench_cmd;
mod book;
mod book_cmd;
mod check_cmd;
mod cli;
mod compare_cmd;
mod exercise_check;
mod exercises;
mod hint_cmd;
mod list_cmd;
mod miri;
mod miri_cmd;
mod miri_report;
mod playground;
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

use cli::Command;

fn main() -> ExitCode {
    restore_default_sigpipe();
    match run(cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Hands each command to its module.
fn run(command: Command) -> Result<(), String> {
    match command {
        Command::List => list_cmd::run(),
        Command::Check { number, run } => check_cmd::run(number, run.into()),
        Command::Watch { number, run } => watch_cmd::run(number, run.into()),
        Command::Hint { number, all } => hint_cmd::run(number, all),
        Command::Compare { number } => compare_cmd::run(number),
        Command::Reset { number } => reset_cmd::run(number),
        Command::Restore { number, backup } => reset_cmd::restore(number, backup),
        Command::Serve { port } => book_cmd::run_serve(port),
        Command::Book => book_cmd::run_book(),
        Command::Trace {
            package,
            bin,
            test,
            example,
            args,
        } => {
            use trace_cmd::Target;
            let target = (bin.map(Target::Bin))
                .or(test.map(Target::Test))
                .or(example.map(Target::Example));
            trace_cmd::run(trace_cmd::Request {
                package,
                target,
                args,
            })
        }
        Command::Test => test_cmd::run(),
        Command::Playground {
            into,
            serve,
            port,
            check,
        } => playground_cmd::run(match (into, serve, check) {
            (Some(dir), _, _) => playground_cmd::Then::CopyInto(dir),
            (None, true, _) => playground_cmd::Then::Serve { port },
            (None, false, true) => playground_cmd::Then::Check,
            (None, false, false) => playground_cmd::Then::Nothing,
        }),
        Command::Bench { quick } => bench_cmd::run(quick),
        Command::Miri { install, packages } => miri_cmd::run(install, &packages),
        Command::WrongAnswers { packages } => wrong_answers::run(&packages),
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
