//! Running a run-fail case: with a time limit, its stderr kept up to a
//! size, and how it ended (code, signal, or killed as hung).

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::PACKAGE_DIR;

/// How much of a run case's stderr is kept; the rest is drained and counted.
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
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let stderr = child
        .stderr
        .take()
        .ok_or("the child's stderr was not captured")?;
    let reader = thread::spawn(move || read_capped(stderr));
    let status = child
        .wait_timeout(watch)
        .map_err(|e| format!("cannot wait for {}: {e}", exe.display()))?;
    let (status, killed_after) = match status {
        Some(status) => (status, None),
        None => {
            child
                .kill()
                .map_err(|e| format!("cannot kill {}: {e}", exe.display()))?;
            let status = child
                .wait()
                .map_err(|e| format!("cannot reap {}: {e}", exe.display()))?;
            (status, Some(watch))
        }
    };
    let stderr = reader
        .join()
        .map_err(|_| "reading the child's stderr panicked")?;
    Ok(RunResult {
        code: status.code(),
        signal: if killed_after.is_some() {
            None
        } else {
            exit_signal(&status)
        },
        killed_after,
        stderr,
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

/// Keeps the first `STDERR_KEEP_BYTES` and drains the rest, so a chatty
/// child never blocks on a full pipe.
fn read_capped(mut from: impl Read) -> String {
    let mut kept = Vec::new();
    let mut dropped = 0_usize;
    let mut chunk = [0_u8; 4096];
    loop {
        match from.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = STDERR_KEEP_BYTES.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&chunk[..room]);
                dropped += n - room;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        let _ = writeln!(text, "\n[... {dropped} more bytes of stderr]");
    }
    text
}
