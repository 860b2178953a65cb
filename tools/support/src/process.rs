//! Running a command with a time limit, reading its output as it runs, and
//! stopping it with every process it started when the limit passes (a
//! deadlocked test, a learner's spin lock that is never released, an
//! allocator that re-enters itself).
//!
//! Two ways to read the output: [`run_with_timeout`] and [`run_separate`]
//! keep stdout and stderr apart (a program whose stdout is the book's text;
//! a pitfall expected to hang); [`run_merged`] gives
//! them in one pipe, in the order they were written (libtest prints `test
//! NAME ...` on stdout and Miri its report on stderr, and only their order
//! says which test a report belongs to), with the processor time used.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::cargo::describe;

/// How a bounded run ended.
#[derive(Debug)]
pub struct Finished {
    /// Everything the command printed, standard output and error interleaved.
    pub output: String,
    /// The exit status; `None` when the time limit stopped it.
    pub status: Option<ExitStatus>,
    /// Wall-clock time.
    pub took: Duration,
    /// Processor time the command and everything it started used (where
    /// the platform says): unlike `took`, it does not grow when other work
    /// shares the machine.
    pub cpu: Option<Duration>,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }
}

/// How often [`run_merged`] looks whether the command has finished.
const POLL: Duration = Duration::from_millis(50);

/// Runs `cmd`, capturing its output, and stops it (with every process it
/// started) once it has run for `limit`.
pub fn run_merged(cmd: &mut Command, limit: Duration) -> Result<Finished, String> {
    let shown = describe(cmd);
    let (mut reader, writer) =
        std::io::pipe().map_err(|e| format!("cannot create a pipe for `{shown}`: {e}"))?;
    let writer_too = writer
        .try_clone()
        .map_err(|e| format!("cannot create a pipe for `{shown}`: {e}"))?;
    let started = Instant::now();
    let cpu_before = children_cpu();
    let spawned = cmd
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer_too)
        .spawn();
    // The command keeps its copies of the pipe's write end; while any copy is
    // open the reader never sees the end of the output.
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = spawned.map_err(|e| format!("cannot start `{shown}`: {e}"))?;

    let collector = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = reader.read_to_end(&mut bytes);
        bytes
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= limit => {
                stop_tree(&mut child);
                break None;
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => {
                stop_tree(&mut child);
                return Err(format!("cannot wait for `{shown}`: {e}"));
            }
        }
    };
    let took = started.elapsed();
    let cpu = children_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let bytes = collector
        .join()
        .map_err(|_| format!("reading the output of `{shown}` failed"))?;
    Ok(Finished {
        output: String::from_utf8_lossy(&bytes).into_owned(),
        status,
        took,
        cpu,
    })
}

/// Runs `cmd` with its stdin closed, reading both pipes while it runs;
/// `(status, stdout, stderr)`, or an error if it cannot start or takes longer
/// than `timeout` (then it is stopped, with everything it started).
pub fn run_with_timeout(
    cmd: &mut Command,
    timeout: Duration,
) -> Result<(ExitStatus, String, String), String> {
    let run = run_separate(cmd, timeout, usize::MAX)?;
    match run.status {
        Some(status) => Ok((status, run.stdout, run.stderr)),
        None => Err(format!(
            "still running after {} s, stopped",
            timeout.as_secs()
        )),
    }
}

/// How a run of [`run_separate`] ended.
#[derive(Debug)]
pub struct Separate {
    /// The exit status; `None` when the time limit stopped it.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with its stdin closed, reading both pipes while it runs and
/// keeping the first `keep` bytes of each (the rest is read and counted, so
/// a chatty program never blocks on a full pipe). After `limit` it is
/// stopped with everything it started, and `status` is `None`: for a
/// program expected to hang, that is an answer, not an error.
pub fn run_separate(cmd: &mut Command, limit: Duration, keep: usize) -> Result<Separate, String> {
    // Its own process group, so a timeout stops the program and everything
    // it started (cargo, the tests, a compiler), not just cargo.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    let readers = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .map(|pipe| {
        std::thread::spawn(move || match pipe {
            Some(pipe) => read_capped(pipe, keep),
            None => String::new(),
        })
    });
    let status = match child.wait_timeout(limit) {
        Ok(Some(status)) => Some(status),
        Ok(None) => {
            stop_tree(&mut child);
            None
        }
        Err(e) => {
            stop_tree(&mut child);
            return Err(format!("cannot wait for `{}`: {e}", describe(cmd)));
        }
    };
    let [stdout, stderr] = readers.map(|r| r.join().unwrap_or_default());
    Ok(Separate {
        status,
        stdout,
        stderr,
    })
}

/// The first `keep` bytes of `from` as text (lossy UTF-8), the rest read to
/// the end and noted as `[... N more bytes]`.
fn read_capped(mut from: impl Read, keep: usize) -> String {
    let mut kept = Vec::new();
    let mut dropped = 0_usize;
    let mut chunk = [0_u8; 8192];
    loop {
        match from.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = keep.saturating_sub(kept.len()).min(n);
                kept.extend_from_slice(&chunk[..room]);
                dropped += n - room;
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text.push_str(&format!("\n[... {dropped} more bytes]\n"));
    }
    text
}

/// User and system time of every finished child process so far (children
/// count their own children once they have waited for them).
#[cfg(unix)]
pub fn children_cpu() -> Option<Duration> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: `usage` is valid for writes of one `rusage`, which
    // `getrusage` fills completely when it returns 0.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).ok()?)
            .checked_add(Duration::from_micros(u64::try_from(t.tv_usec).ok()?))
    };
    time(usage.ru_utime)?.checked_add(time(usage.ru_stime)?)
}

#[cfg(not(unix))]
pub fn children_cpu() -> Option<Duration> {
    None
}

/// Kills `child` and all its descendants (cargo does not stop the test
/// binary it started when it is killed itself), leaves first, and the
/// process group it leads when it was started as one.
#[cfg(unix)]
fn stop_tree(child: &mut Child) {
    if let Ok(group) = libc::pid_t::try_from(child.id()) {
        // SAFETY: `kill` has no memory-safety preconditions; a negative pid
        // sends the signal to that process group (harmless if there is none).
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    for pid in descendants(child.id()).into_iter().rev() {
        if let Ok(pid) = libc::pid_t::try_from(pid) {
            // SAFETY: `kill` has no memory-safety preconditions; `pid` is a
            // positive process id, so the signal goes to that one process.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The process ids below `root`, parents before children.
#[cfg(unix)]
fn descendants(root: u32) -> Vec<u32> {
    let Ok(out) = Command::new("ps")
        .args(["-A", "-o", "pid=", "-o", "ppid="])
        .output()
    else {
        return Vec::new();
    };
    let pairs: Vec<(u32, u32)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().map(str::parse::<u32>);
            Some((fields.next()?.ok()?, fields.next()?.ok()?))
        })
        .collect();
    let mut found = vec![root];
    let mut next = 0;
    while let Some(&parent) = found.get(next) {
        found.extend(pairs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        next += 1;
    }
    found.remove(0);
    found
}

/// Elsewhere `taskkill /T` stops the whole tree at once.
#[cfg(not(unix))]
fn stop_tree(child: &mut Child) {
    let _ = Command::new("taskkill")
        .args(["/T", "/F", "/PID", &child.id().to_string()])
        .output();
    let _ = child.kill();
    let _ = child.wait();
}

/// The last `keep` lines of a long output, indented, with a note of how many
/// came before: the end of a failed run is the part that names the problem.
pub fn tail(text: &str, keep: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let skipped = lines.len().saturating_sub(keep);
    let mut out = String::new();
    if skipped > 0 {
        out.push_str(&format!("    ... ({skipped} lines before)\n"));
    }
    for line in lines.iter().skip(skipped) {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn long_output_keeps_its_end() {
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let kept = tail(&text, 40);
        assert!(kept.starts_with("    ... (60 lines before)\n    line 61\n"));
        assert!(kept.ends_with("    line 100\n"));
        assert_eq!(tail("a\nb\n", 40), "    a\n    b\n");
    }

    #[test]
    fn a_run_past_its_limit_is_stopped_with_what_it_started() {
        let started = Instant::now();
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & sleep 30; echo never"]);
        let error = run_with_timeout(&mut cmd, Duration::from_millis(300)).unwrap_err();
        assert!(error.starts_with("still running after"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_finished_run_gives_status_and_both_outputs() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let (status, stdout, stderr) = run_with_timeout(&mut cmd, Duration::from_secs(30)).unwrap();
        assert_eq!(status.code(), Some(3));
        assert_eq!((stdout.as_str(), stderr.as_str()), ("out\n", "err\n"));
    }

    #[test]
    #[cfg(unix)]
    fn output_of_both_streams_keeps_its_order() {
        let done = run_merged(
            Command::new("sh").args(["-c", "echo one; echo two >&2; echo three"]),
            Duration::from_secs(30),
        )
        .expect("sh runs");
        assert!(done.success());
        assert_eq!(done.output, "one\ntwo\nthree\n");
    }

    #[test]
    #[cfg(unix)]
    fn processor_time_of_the_command_is_measured() {
        let done = run_merged(
            Command::new("sh").args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"]),
            Duration::from_secs(120),
        )
        .expect("sh runs");
        let cpu = done.cpu.expect("measured on unix");
        assert!(cpu > Duration::from_millis(10), "{cpu:?}");
    }

    #[test]
    #[cfg(unix)]
    fn a_command_that_never_ends_is_stopped_with_its_children() {
        // The shell starts a child that would outlive it, as cargo does.
        let done = run_merged(
            Command::new("sh").args(["-c", "echo started; sleep 300 & wait"]),
            Duration::from_millis(500),
        )
        .expect("sh runs");
        assert!(done.timed_out());
        assert!(done.took < Duration::from_secs(30), "{:?}", done.took);
        // Every copy of the pipe was closed, so the output was read to its end.
        assert_eq!(done.output, "started\n");
    }

    #[test]
    fn a_chatty_run_is_kept_up_to_its_cap_and_a_hang_is_an_answer() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "head -c 100000 /dev/zero | tr '\\0' x >&2; echo done"]);
        let run = run_separate(&mut cmd, Duration::from_secs(30), 10).unwrap();
        assert!(run.status.is_some_and(|s| s.success()));
        assert_eq!(run.stdout, "done\n");
        assert_eq!(run.stderr, "xxxxxxxxxx\n[... 99990 more bytes]\n");

        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo waiting >&2; sleep 300"]);
        let run = run_separate(&mut cmd, Duration::from_millis(300), 1024).unwrap();
        assert!(run.status.is_none());
        assert_eq!(run.stderr, "waiting\n");
    }
}
