//! Running a run-fail case: with a time limit, its stderr kept up to a
//! size, and how it ended (code, signal, or killed as hung).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use workbook_support::process::run_separate;

use crate::PACKAGE_DIR;

/// How much of a run case's output is kept; the rest is drained and counted.
const STDERR_KEEP_BYTES: usize = 8 * 1024;

/// How long a run case that should finish may take.
pub const FINISH_LIMIT: Duration = Duration::from_secs(20);

/// How long a run case that should hang is watched before it is killed.
pub const DEADLOCK_WATCH: Duration = Duration::from_secs(3);

/// How a run case really ended.
#[derive(Debug)]
pub struct RunResult {
    /// `Some` if it exited on its own with a status code.
    pub code: Option<i32>,
    /// `Some` if a signal ended it (and the harness did not kill it).
    pub signal: Option<i32>,
    /// How long it ran before the harness killed it, if it never finished.
    pub killed_after: Option<Duration>,
    pub stderr: String,
}

/// Runs `exe` with a clean backtrace setting, kills it after `watch`.
pub(crate) fn run_program(
    exe: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    watch: Duration,
) -> Result<RunResult, String> {
    let mut command = Command::new(exe);
    command
        .args(args)
        .current_dir(PACKAGE_DIR)
        // The outcome of some cases depends on these; each case sets what
        // it needs, nothing leaks in from the caller.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .envs(env.iter().copied());
    let run = run_separate(&mut command, watch, STDERR_KEEP_BYTES)?;
    Ok(RunResult {
        code: run.status.and_then(|s| s.code()),
        signal: run.status.as_ref().and_then(exit_signal),
        killed_after: run.status.is_none().then_some(watch),
        stderr: run.stderr,
    })
}

#[cfg(unix)]
fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

#[cfg(not(unix))]
fn exit_signal(_status: &std::process::ExitStatus) -> Option<i32> {
    None
}
