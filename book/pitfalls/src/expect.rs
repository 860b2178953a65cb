//! What "fails the way the book says" means: the `//~ ERROR` annotation of
//! a compile-fail case against the compiler's output, and the ending and
//! stderr of a run-fail case against its expectation.

use crate::cases::{Ending, RunExpectation};
use crate::compiler::Output;
use crate::run::{DEADLOCK_WATCH, RunResult};

/// The error a compile-fail case must produce, from its `//~ ERROR` line.
#[derive(Debug, PartialEq, Eq)]
pub struct ExpectedError {
    pub code: Option<String>,
    pub phrase: String,
}

/// Reads the `//~ ERROR [E0000] key phrase` annotation of a case source.
pub fn parse_expected_error(source: &str) -> Result<ExpectedError, String> {
    const MARKER: &str = "//~ ERROR";
    let mut found = source
        .lines()
        .filter_map(|line| line.trim().strip_prefix(MARKER));
    let rest = found
        .next()
        .ok_or_else(|| format!("no `{MARKER} [E0000] key phrase` line"))?;
    if found.next().is_some() {
        return Err(format!(
            "more than one `{MARKER}` line; a case expects one error"
        ));
    }
    let rest = rest.trim();
    let (code, phrase) = match rest.split_once(' ') {
        Some((first, phrase)) if is_error_code(first) => (Some(first.to_owned()), phrase.trim()),
        _ if is_error_code(rest) => (Some(rest.to_owned()), ""),
        _ => (None, rest),
    };
    if phrase.is_empty() {
        return Err(format!(
            "`{MARKER}` needs a key phrase of the error message"
        ));
    }
    Ok(ExpectedError {
        code,
        phrase: phrase.to_owned(),
    })
}

fn is_error_code(word: &str) -> bool {
    word.len() == 5 && word.starts_with('E') && word.chars().skip(1).all(|c| c.is_ascii_digit())
}

/// Why `stderr` does not report `expected`, or `None` if it does: some line
/// `error[CODE]: ...` (or `error: ...` when no code is expected) contains
/// the key phrase.
pub fn compile_error_mismatch(expected: &ExpectedError, stderr: &str) -> Option<String> {
    let header = match &expected.code {
        Some(code) => format!("error[{code}]: "),
        None => "error: ".to_owned(),
    };
    let reported = stderr
        .lines()
        .filter_map(|line| line.strip_prefix(&header))
        .any(|message| message.contains(&expected.phrase));
    if reported {
        None
    } else {
        Some(format!(
            "expected `{header}...{}...`, but the compiler reported:\n{stderr}",
            expected.phrase
        ))
    }
}

pub(crate) fn compile_fail_result(
    source: &str,
    text: &str,
    output: Output,
) -> (String, Option<String>) {
    let mismatch = match parse_expected_error(text) {
        Err(e) => Some(format!("{source}: {e}")),
        Ok(expected) if output.success => Some(format!(
            "it compiled, but it should fail with {}: {}",
            expected.code.as_deref().unwrap_or("an error"),
            expected.phrase
        )),
        Ok(expected) => compile_error_mismatch(&expected, &output.stderr),
    };
    (output.stderr, mismatch)
}

/// Why `run` does not meet `expect`, or `None` if it does.
pub fn check_run(expect: &RunExpectation, run: &RunResult) -> Option<String> {
    let ending_ok = match expect.ending {
        Ending::Hangs => run.killed_after.is_some(),
        Ending::Code(code) => run.killed_after.is_none() && run.code == Some(code),
        Ending::Signal(signal) => run.killed_after.is_none() && run.signal == Some(signal),
    };
    if !ending_ok {
        return Some(format!(
            "expected it to {}, but it ended with {}; stderr:\n{}",
            describe_expected(expect.ending),
            describe_ending(run),
            run.stderr
        ));
    }
    match expect.stderr_phrase {
        Some(phrase) if !run.stderr.contains(phrase) => Some(format!(
            "expected stderr to contain `{phrase}`, but it was:\n{}",
            run.stderr
        )),
        _ => None,
    }
}

fn describe_expected(ending: Ending) -> String {
    match ending {
        Ending::Code(code) => format!("exit with code {code}"),
        Ending::Signal(signal) => format!("die of signal {signal} ({})", signal_name(signal)),
        Ending::Hangs => format!("hang (still running after {} s)", DEADLOCK_WATCH.as_secs()),
    }
}

/// The `exit: ...` line: how the program ended.
pub fn describe_ending(run: &RunResult) -> String {
    if let Some(after) = run.killed_after {
        format!("killed after {} s timeout (deadlock)", after.as_secs())
    } else if let Some(signal) = run.signal {
        format!("signal {signal} ({})", signal_name(signal))
    } else if let Some(code) = run.code {
        format!("code {code}")
    } else {
        "unknown".to_owned()
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGABRT => "SIGABRT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGKILL => "SIGKILL",
        _ => "other signal",
    }
}
