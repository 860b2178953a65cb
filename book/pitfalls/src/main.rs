//! `pitfalls list` prints the case names; `pitfalls show <case>` builds (and
//! runs) one case and prints its real diagnostic. The book's preprocessor
//! calls both.

use std::process::ExitCode;

const USAGE: &str = "usage: pitfalls list | pitfalls show <case>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["list"] => {
            for case in pitfalls::CASES {
                println!("{}", case.name);
            }
            ExitCode::SUCCESS
        }
        ["show", name] => show(name),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn show(name: &str) -> ExitCode {
    let case = match pitfalls::find(name) {
        Ok(case) => case,
        Err(unknown) => {
            eprintln!("{unknown}");
            return ExitCode::from(2);
        }
    };
    match pitfalls::check(case) {
        Ok(report) => {
            print!("{}", report.diagnostic);
            match report.mismatch {
                None => ExitCode::SUCCESS,
                Some(why) => {
                    eprintln!("case `{name}` did not fail as expected: {why}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(harness) => {
            eprintln!("cannot check case `{name}`: {harness}");
            ExitCode::FAILURE
        }
    }
}
