//! The pitfalls chapter's cases and the harness that proves each one fails
//! the way the book says.
//!
//! A compile-fail case states its expected error in its own source, on a line
//! `//~ ERROR [E0000] key phrase`; the harness compiles it and checks that the
//! compiler really reports that error. A run-fail case is a program with its
//! own `#[global_allocator]`; the harness builds it, runs it with a time limit
//! and checks how it ended and what it wrote to stderr.
//!
//! Everything is built under `<cargo target dir>/pitfalls-cases/`, never in
//! the directory an outer `cargo` build holds locked.

mod cases;
mod compiler;
mod expect;
mod places;
mod run;

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;
use std::thread;

pub use cases::{CASES, Case, Ending, Kind, RunExpectation, find};
pub use expect::{
    ExpectedError, check_run, compile_error_mismatch, describe_ending, parse_expected_error,
};
pub use places::strip_rustc_remap;
pub use run::RunResult;

use compiler::{cargo_check, path_arg, read_source, require_built, rustc, rustc_with_env};
use expect::compile_fail_result;
use places::Places;
use run::{DEADLOCK_WATCH, FINISH_LIMIT, run_program};

/// The directory this package lives in; case paths are relative to it.
const PACKAGE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// What a case really did, after its expectation was checked.
#[derive(Debug)]
pub struct Report {
    /// The real diagnostic, paths made relative: the compiler's whole stderr,
    /// or the program's stderr followed by an `exit: ...` line.
    pub diagnostic: String,
    /// `None` when the case failed exactly as expected, else why not.
    pub mismatch: Option<String>,
}

/// Builds (and for run cases, runs) one case and checks it. `Err` means the
/// harness itself could not do its job (no compiler, unreadable file).
pub fn check(case: &Case) -> Result<Report, String> {
    let places = Places::discover()?;
    let build_dir = places.cases_target.join(case.name);
    std::fs::create_dir_all(&build_dir)
        .map_err(|e| format!("cannot create {}: {e}", build_dir.display()))?;
    // Another process (a book build, a second test run) may check the same
    // case at the same moment; they must not overwrite each other's output.
    let lock = File::create(build_dir.join(".lock")).map_err(|e| {
        format!(
            "cannot create the lock file in {}: {e}",
            build_dir.display()
        )
    })?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", build_dir.display()))?;

    let (raw, mismatch) = match &case.kind {
        Kind::Rustc { source } => {
            let output = rustc(&[source, "-o", &path_arg(&build_dir.join("case"))])?;
            compile_fail_result(source, &read_source(Path::new(source))?, output)
        }
        Kind::RustcWithLibrary {
            library_name,
            library,
            source,
        } => {
            let rlib = build_dir.join(format!("lib{library_name}.rlib"));
            let built = rustc(&[
                library,
                "--crate-type=rlib",
                "--crate-name",
                library_name,
                "-o",
                &path_arg(&rlib),
            ])?;
            require_built(built, "library", library)?;
            let extern_arg = format!("{library_name}={}", path_arg(&rlib));
            let output = rustc(&[
                source,
                "--extern",
                &extern_arg,
                "-o",
                &path_arg(&build_dir.join("case")),
            ])?;
            compile_fail_result(source, &read_source(Path::new(source))?, output)
        }
        Kind::CargoPackage { dir, source } => {
            let output = cargo_check(Path::new(dir), &build_dir)?;
            let text = read_source(&Path::new(dir).join(source))?;
            compile_fail_result(source, &text, output)
        }
        Kind::Run {
            source,
            build_env,
            args,
            env,
            expect,
        } => {
            let exe = build_dir.join("case");
            let built = rustc_with_env(
                &[source, "-C", "opt-level=1", "-o", &path_arg(&exe)],
                build_env,
            )?;
            require_built(built, "program", source)?;
            let watch = match expect.ending {
                Ending::Hangs => DEADLOCK_WATCH,
                Ending::Code(_) | Ending::Signal(_) => FINISH_LIMIT,
            };
            let run = run_program(&exe, args, env, watch)?;
            let mismatch = check_run(expect, &run);
            let ending = describe_ending(&run);
            let mut text = run.stderr;
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            let _ = writeln!(text, "exit: {ending}");
            (text, mismatch)
        }
    };
    let diagnostic = places.normalise(&raw);
    let mismatch = mismatch.or_else(|| {
        places
            .leaked_path(&diagnostic)
            .map(|leak| format!("the diagnostic still contains a machine path: {leak}"))
    });
    Ok(Report {
        diagnostic,
        mismatch,
    })
}

/// Checks every case at once, one thread each; results in `CASES` order.
pub fn check_all() -> Vec<(&'static Case, Result<Report, String>)> {
    thread::scope(|scope| {
        let running: Vec<_> = CASES
            .iter()
            .map(|case| (case, scope.spawn(move || check(case))))
            .collect();
        running
            .into_iter()
            .map(|(case, handle)| {
                let result = handle
                    .join()
                    .unwrap_or_else(|_| Err(format!("checking `{}` panicked", case.name)));
                (case, result)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiler::Output;

    #[test]
    fn annotation_with_code_and_phrase() {
        let parsed =
            parse_expected_error("//~ ERROR E0200 requires an `unsafe impl`\nfn main() {}");
        assert_eq!(
            parsed,
            Ok(ExpectedError {
                code: Some("E0200".to_owned()),
                phrase: "requires an `unsafe impl`".to_owned()
            })
        );
    }

    #[test]
    fn annotation_without_code() {
        let parsed = parse_expected_error("// text\n//~ ERROR cannot define multiple\n");
        assert_eq!(
            parsed.map(|e| (e.code, e.phrase)),
            Ok((None, "cannot define multiple".into()))
        );
    }

    #[test]
    fn annotation_missing_twice_or_without_phrase_is_refused() {
        assert!(parse_expected_error("fn main() {}").is_err());
        assert!(parse_expected_error("//~ ERROR E0200").is_err());
        assert!(parse_expected_error("//~ ERROR E0200 a\n//~ ERROR E0201 b").is_err());
    }

    #[test]
    fn compile_error_needs_code_and_phrase_on_the_same_error_line() {
        let expected = ExpectedError {
            code: Some("E0277".into()),
            phrase: "not satisfied".into(),
        };
        let right = "error[E0277]: the trait bound `A: B` is not satisfied\n";
        assert_eq!(compile_error_mismatch(&expected, right), None);
        let wrong_code = "error[E0278]: the trait bound `A: B` is not satisfied\n";
        assert!(compile_error_mismatch(&expected, wrong_code).is_some());
        let phrase_elsewhere = "error[E0277]: something\n  = note: not satisfied\n";
        assert!(compile_error_mismatch(&expected, phrase_elsewhere).is_some());
    }

    #[test]
    fn a_case_that_compiles_is_a_mismatch_naming_the_error() {
        let output = Output {
            success: true,
            stderr: String::new(),
        };
        let (_, mismatch) = compile_fail_result("x.rs", "//~ ERROR E0658 unstable", output);
        let mismatch = mismatch.expect("a successful compile must be reported");
        assert!(
            mismatch.contains("it compiled") && mismatch.contains("E0658"),
            "{mismatch}"
        );
    }

    fn run(code: Option<i32>, signal: Option<i32>, killed: bool, stderr: &str) -> RunResult {
        RunResult {
            code,
            signal,
            killed_after: killed.then_some(DEADLOCK_WATCH),
            stderr: stderr.to_owned(),
        }
    }

    #[test]
    fn run_expectations_check_ending_and_phrase() {
        let abort = RunExpectation {
            ending: Ending::Signal(6),
            stderr_phrase: Some("failed"),
        };
        assert_eq!(
            check_run(&abort, &run(None, Some(6), false, "it failed")),
            None
        );
        assert!(check_run(&abort, &run(None, Some(6), false, "fine")).is_some());
        assert!(check_run(&abort, &run(Some(0), None, false, "it failed")).is_some());
        let hangs = RunExpectation {
            ending: Ending::Hangs,
            stderr_phrase: None,
        };
        assert_eq!(check_run(&hangs, &run(None, None, true, "")), None);
        let finished = check_run(&hangs, &run(Some(0), None, false, ""));
        assert!(finished.is_some_and(|why| why.contains("code 0")));
    }

    #[test]
    fn rustc_remap_is_stripped_only_before_a_hash() {
        let text = " --> /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/a.rs:6:0";
        assert_eq!(strip_rustc_remap(text), " --> library/std/src/a.rs:6:0");
        assert_eq!(strip_rustc_remap("/rustc/notes"), "/rustc/notes");
    }

    #[test]
    fn case_names_are_unique_and_findable() {
        for case in CASES {
            assert_eq!(find(case.name).map(|found| found.name), Ok(case.name));
        }
        let unknown = find("no-such-case").expect_err("unknown names are refused");
        assert!(unknown.contains("missing-unsafe-impl"), "{unknown}");
    }
}
