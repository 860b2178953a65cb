//! The table of subcommands. Each entry names its module's entry point, so
//! adding a command is one line here plus its own module.

use crate::test_cmd;

/// A subcommand: its name, its usage line, what it does, and its entry point.
pub struct Command {
    pub name: &'static str,
    pub usage: &'static str,
    pub about: &'static str,
    pub run: fn(&[String]) -> Result<(), String>,
}

pub const COMMANDS: &[Command] = &[
    Command {
        name: "test",
        usage: "test",
        about: "run every check the project has (the command CI runs)",
        run: test_cmd::run,
    },
    Command {
        name: "book",
        usage: "book",
        about: "build the book into book/build (installs mdBook once)",
        run: crate::book_cmd::run_book,
    },
    Command {
        name: "serve",
        usage: "serve [--port N]",
        about: "serve the book on http://127.0.0.1:3000, rebuilding on changes",
        run: crate::book_cmd::run_serve,
    },
    Command {
        name: "playground",
        usage: crate::playground_cmd::USAGE,
        about: "build the wasm playground into playground/pkg (copy it to DIR, serve it, or run its checks)",
        run: crate::playground_cmd::run,
    },
    Command {
        name: "list",
        usage: "list",
        about: "every exercise in order of difficulty: chapter, hints seen, status, progress",
        run: crate::list_cmd::run,
    },
    Command {
        name: "check",
        usage: crate::check_cmd::USAGE,
        about: "run exercise N's tests and say what passes and what is left (--miri: under Miri)",
        run: crate::check_cmd::run,
    },
    Command {
        name: "hint",
        usage: crate::hint_cmd::USAGE,
        about: "the next hint for exercise N, each more concrete (--all: the ones seen again)",
        run: crate::hint_cmd::run,
    },
    Command {
        name: "compare",
        usage: "compare N",
        about: "show your exercise N beside the reference solution",
        run: crate::compare_cmd::run,
    },
    Command {
        name: "watch",
        usage: "watch [N] [--miri] [--timeout SECS]",
        about: "re-run the first unsolved exercise's tests (or N's) on every save",
        run: crate::watch_cmd::run,
    },
    Command {
        name: "reset",
        usage: "reset N",
        about: "back up your exercise N and restore its stub",
        run: crate::reset_cmd::run,
    },
    Command {
        name: "bench",
        usage: "bench [--quick]",
        about: "measure every allocator of the book on this machine (release build)",
        run: crate::bench_cmd::run,
    },
    Command {
        name: "miri",
        usage: crate::miri_cmd::USAGE,
        about: "run the allocator crates and solutions under Miri (--install: install Miri)",
        run: crate::miri_cmd::run,
    },
    Command {
        name: "trace",
        usage: crate::trace_cmd::USAGE,
        about: "record a program's (or an exercise's tests') malloc and free calls and draw its heap",
        run: crate::trace_cmd::run,
    },
    Command {
        name: "wrong-answers",
        usage: crate::wrong_answers::USAGE,
        about: "prove every wrong solution in wrong-answers/ (or those named) is rejected by its exercise's tests",
        run: crate::wrong_answers::run,
    },
    Command {
        name: "help",
        usage: "help",
        about: "show this list",
        run: help,
    },
];

pub fn dispatch(args: &[String]) -> Result<(), String> {
    let Some(name) = args.first() else {
        print_help();
        return Err("no command given".into());
    };
    if matches!(name.as_str(), "-h" | "--help") {
        print_help();
        return Ok(());
    }
    match COMMANDS.iter().find(|c| c.name == name) {
        Some(cmd) => (cmd.run)(&args[1..]),
        None => Err(format!(
            "unknown command `{name}`; valid commands: {}",
            COMMANDS
                .iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn help(args: &[String]) -> Result<(), String> {
    if let Some(extra) = args.first() {
        return Err(format!("`help` takes no arguments, got `{extra}`"));
    }
    print_help();
    Ok(())
}

fn print_help() {
    println!("usage: cargo workbook <command> [args]\n\ncommands:");
    let width = COMMANDS.iter().map(|c| c.usage.len()).max().unwrap_or(0);
    for c in COMMANDS {
        println!("  {:width$}  {}", c.usage, c.about);
    }
}

/// Rejects arguments for commands that take none.
pub fn no_args(command: &str, args: &[String]) -> Result<(), String> {
    match args.first() {
        Some(extra) => Err(format!("`{command}` takes no arguments, got `{extra}`")),
        None => Ok(()),
    }
}
