//! The command line: every subcommand, its arguments and its help, declared
//! once with clap. The help lists learner commands apart from maintainer
//! commands; both lists are generated from the declarations below.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::check_cmd::Options;

#[derive(Debug, Parser)]
#[command(
    name = "cargo workbook",
    bin_name = "cargo workbook",
    about = "The Allocator Workbook's exercises, book, playground and checks.",
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every exercise in order of difficulty: chapter, hints seen, status
    List,
    /// Run exercise N's tests and say what passes and what is left
    Check {
        /// The exercise's number (`cargo workbook list` shows them)
        #[arg(value_name = "N", value_parser = exercise_number)]
        number: u32,
        #[command(flatten)]
        run: RunFlags,
    },
    /// Re-run the first unsolved exercise's tests (or exercise N's) on every save
    Watch {
        /// The exercise's number [default: the first unsolved one]
        #[arg(value_name = "N", value_parser = exercise_number)]
        number: Option<u32>,
        #[command(flatten)]
        run: RunFlags,
    },
    /// The next hint for exercise N, each more concrete than the last
    Hint {
        /// The exercise's number (`cargo workbook list` shows them)
        #[arg(value_name = "N", value_parser = exercise_number)]
        number: u32,
        /// Show again every hint already seen, without a new one
        #[arg(long)]
        all: bool,
    },
    /// Your exercise N beside the reference solution
    Compare {
        /// The exercise's number (`cargo workbook list` shows them)
        #[arg(value_name = "N", value_parser = exercise_number)]
        number: u32,
    },
    /// Back up your exercise N and restore its stub
    Reset {
        /// The exercise's number (`cargo workbook list` shows them)
        #[arg(value_name = "N", value_parser = exercise_number)]
        number: u32,
    },
    /// Bring back backup K of exercise N (the newest when K is left out)
    Restore {
        /// The exercise's number
        #[arg(value_name = "N", value_parser = exercise_number)]
        number: u32,
        /// Which backup (`reset` prints its number)
        #[arg(value_name = "K")]
        backup: Option<u32>,
    },
    /// Serve the book on 127.0.0.1, rebuilding it (and the playground) on changes
    Serve {
        /// The port to listen on
        #[arg(long, default_value_t = 3000, value_parser = clap::value_parser!(u16).range(1..))]
        port: u16,
    },
    /// Build the book into book/build, running the programs its pages show (cached)
    Book,
    /// Record a program's (or an exercise's tests') heap and draw it
    #[command(group = clap::ArgGroup::new("target").multiple(false))]
    Trace {
        /// The workspace package: a listing, or `exercise-N` (its tests run)
        #[arg(short = 'p', long = "package", value_name = "PKG")]
        package: String,
        /// Trace this binary of the package
        #[arg(long, value_name = "B", group = "target")]
        bin: Option<String>,
        /// Trace this test target (its tests run one at a time)
        #[arg(long, value_name = "T", group = "target")]
        test: Option<String>,
        /// Trace this example
        #[arg(long, value_name = "E", group = "target")]
        example: Option<String>,
        /// The program's own arguments
        #[arg(last = true, value_name = "ARGS")]
        args: Vec<String>,
    },
    /// Run every check the project has (the command CI runs)
    Test,
    /// Build the wasm playground (copy it to DIR, serve it, or run its checks)
    #[command(group = clap::ArgGroup::new("then").multiple(false))]
    Playground {
        /// Copy the built site into DIR
        #[arg(long, value_name = "DIR", group = "then")]
        into: Option<PathBuf>,
        /// Serve it on 127.0.0.1
        #[arg(long, group = "then")]
        serve: bool,
        /// The port `--serve` listens on
        #[arg(long, default_value_t = 8001, requires = "serve",
              value_parser = clap::value_parser!(u16).range(1..))]
        port: u16,
        /// Run its checks: wasm tests and the end-to-end checks in headless Chromium
        #[arg(long, group = "then")]
        check: bool,
    },
    /// Measure every allocator of the book on this machine (release build)
    Bench {
        /// Smaller workloads and fewer runs (well under a minute)
        #[arg(long)]
        quick: bool,
    },
    /// Run the allocator crates and solutions under Miri
    Miri {
        /// Install the pinned nightly with Miri instead
        #[arg(long, conflicts_with = "packages")]
        install: bool,
        /// Only these packages (default: every allocator crate and solution)
        #[arg(value_name = "PACKAGE")]
        packages: Vec<String>,
    },
    /// Prove every wrong solution in wrong-answers/ (or those named) is rejected
    WrongAnswers {
        /// Only these wrong answers (`wrong-N-<mistake>`)
        #[arg(value_name = "PACKAGE")]
        packages: Vec<String>,
    },
}

/// The flags `check` and `watch` share.
#[derive(Debug, Args)]
pub struct RunFlags {
    /// Run the tests under Miri (finds data races and missing happens-before)
    #[arg(long)]
    miri: bool,
    /// Stop a test run after SECS seconds [default: 120, 600 under Miri]
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,
}

impl From<RunFlags> for Options {
    fn from(flags: RunFlags) -> Options {
        Options {
            miri: flags.miri,
            timeout: flags.timeout.map(Duration::from_secs),
        }
    }
}

/// What a learner runs, in the order they meet it; the rest is for people
/// working on the workbook itself.
const LEARNER: &[&str] = &[
    "list", "check", "watch", "hint", "compare", "reset", "restore", "serve", "book", "trace",
];
const MAINTAINER: &[&str] = &["test", "playground", "bench", "miri", "wrong-answers"];

/// Parses the arguments (after `cargo workbook`); on `--help` or an error,
/// clap prints and exits.
pub fn parse() -> Cli {
    let parsed = command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    match parsed {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidSubcommand => {
            // Beside clap's suggestion, every valid name: a learner who
            // guessed a command's name sees the one they wanted.
            let _ = e.print();
            eprintln!(
                "\nThe commands are: {}.",
                LEARNER
                    .iter()
                    .chain(MAINTAINER)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            std::process::exit(e.exit_code());
        }
        Err(e) => e.exit(),
    }
}

/// The clap command, its top-level help grouped by who uses each command.
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let group = |title: &str, names: &[&str]| {
        let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
        let mut text = format!("{title}:\n");
        for name in names {
            let about = cmd
                .find_subcommand(name)
                .and_then(|c| c.get_about())
                .map(|a| a.to_string())
                .unwrap_or_default();
            text.push_str(&format!("  {name:width$}  {about}\n"));
        }
        text
    };
    let template = format!(
        "{{about}}\n\n{{usage-heading}} {{usage}}\n\n{}\n{}\nOptions:\n{{options}}\n\n\
         `cargo workbook <COMMAND> --help` explains a command.",
        group("Learner commands", LEARNER),
        group("Maintainer commands", MAINTAINER),
    );
    cmd.help_template(template)
}

/// An exercise number as a learner types it; whether it exists is checked
/// against exercises.toml later.
fn exercise_number(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "`{text}` is not an exercise number: give a whole number such as 3 \
             (`cargo workbook list` shows them)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, String> {
        command()
            .try_get_matches_from(std::iter::once("cargo-workbook").chain(args.iter().copied()))
            .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_command_is_in_exactly_one_help_group() {
        let cmd = Cli::command();
        let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        for name in &names {
            let groups = [LEARNER, MAINTAINER]
                .iter()
                .filter(|g| g.contains(name))
                .count();
            assert_eq!(groups, 1, "`{name}` is in {groups} help groups");
        }
        for listed in LEARNER.iter().chain(MAINTAINER) {
            assert!(names.contains(listed), "`{listed}` is not a command");
        }
        command().debug_assert();
    }

    #[test]
    fn the_help_groups_learner_and_maintainer_commands() {
        let help = command().render_help().to_string();
        let learner = help.find("Learner commands:").expect("learner group");
        let maintainer = help.find("Maintainer commands:").expect("maintainer group");
        assert!(learner < maintainer, "{help}");
        assert!(
            help[learner..maintainer].lines().any(
                |l| l.trim_start().starts_with("check") && l.contains("Run exercise N's tests")
            ),
            "{help}"
        );
        assert!(help[maintainer..].contains("test"), "{help}");
    }

    #[test]
    fn options_come_in_any_order() {
        for args in [
            ["check", "--miri", "3", "--timeout", "5"],
            ["check", "3", "--timeout", "5", "--miri"],
            ["check", "--timeout", "5", "--miri", "3"],
        ] {
            let Command::Check { number, run } = parse(&args).unwrap().command else {
                panic!("not check");
            };
            assert_eq!(number, 3);
            let options = Options::from(run);
            assert!(options.miri);
            assert_eq!(options.timeout, Some(Duration::from_secs(5)));
        }
        let Command::Serve { port } = parse(&["serve", "--port", "9000"]).unwrap().command else {
            panic!("not serve");
        };
        assert_eq!(port, 9000);
    }

    #[test]
    fn bad_input_is_refused_with_the_rule_and_typos_get_a_suggestion() {
        for (args, wanted) in [
            (&["check", "x"][..], "`x` is not an exercise number"),
            (&["check", "0"], "`0` is not an exercise number"),
            (&["check"], "<N>"),
            (&["check", "3", "--fast"], "unexpected argument '--fast'"),
            (&["check", "3", "--timeout", "0"], "--timeout <SECS>"),
            (&["serve", "--port", "70000"], "70000"),
            (&["chek", "3"], "similar subcommand exists: 'check'"),
            (&["hint", "3", "--al"], "similar argument exists: '--all'"),
            (&["miri", "--install", "bump"], "cannot be used with"),
            (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        ] {
            let error = parse(args).unwrap_err();
            assert!(error.contains(wanted), "{args:?}: {error}");
        }
    }

    #[test]
    fn every_command_has_help() {
        for sub in Cli::command().get_subcommands() {
            let name = sub.get_name();
            let error = parse(&[name, "--help"]).unwrap_err();
            assert!(error.contains("Usage: cargo workbook"), "{name}: {error}");
        }
    }

    #[test]
    fn playground_takes_one_action_and_port_only_with_serve() {
        let Command::Playground { serve, port, .. } =
            parse(&["playground", "--port", "9000", "--serve"])
                .unwrap()
                .command
        else {
            panic!("not playground");
        };
        assert!(serve);
        assert_eq!(port, 9000);
        for (args, wanted) in [
            (
                &["playground", "--serve", "--check"][..],
                "cannot be used with",
            ),
            (&["playground", "--port", "9000"], "--serve"),
            (&["playground", "--into"], "a value is required"),
        ] {
            let error = parse(args).unwrap_err();
            assert!(error.contains(wanted), "{args:?}: {error}");
        }
    }

    #[test]
    fn trace_reads_its_target_and_the_programs_arguments() {
        let Command::Trace {
            package,
            bin,
            test,
            args,
            ..
        } = parse(&[
            "trace",
            "--test",
            "bump",
            "-p",
            "exercise-3",
            "--",
            "--exact",
            "x",
        ])
        .unwrap()
        .command
        else {
            panic!("not trace");
        };
        assert_eq!(
            (package.as_str(), bin, test),
            ("exercise-3", None, Some("bump".into()))
        );
        assert_eq!(args, ["--exact", "x"]);
        for (args, wanted) in [
            (&["trace"][..], "--package <PKG>"),
            (
                &["trace", "-p", "a", "--bin", "x", "--test", "y"],
                "cannot be used with",
            ),
            (&["trace", "-p", "a", "vec-push"], "[-- <ARGS>...]"),
        ] {
            let error = parse(args).unwrap_err();
            assert!(error.contains(wanted), "{args:?}: {error}");
        }
    }
}
