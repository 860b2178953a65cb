//! Running a command with a time limit, reading its output as it runs.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// Runs `cmd` with its stdin closed, reading both pipes while it runs;
/// `(status, stdout, stderr)`, or an error if it cannot start or takes longer
/// than `timeout` (then it is stopped, with everything it started).
pub fn run_with_timeout(
    cmd: &mut Command,
    timeout: Duration,
) -> Result<(ExitStatus, String, String), String> {
    // Its own process group, so a timeout stops the program and everything
    // it started (cargo, the tests, a compiler), not just cargo.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
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
        std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        })
    });
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            stop_group(&mut child);
            return Err(format!(
                "still running after {} s, stopped",
                timeout.as_secs()
            ));
        }
        Err(e) => return Err(format!("cannot wait for it: {e}")),
    };
    let [stdout, stderr] = readers.map(|r| r.join().unwrap_or_default());
    Ok((status, stdout, stderr))
}

/// Stops `child` and, on Unix, the process group it leads.
fn stop_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
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
}
