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
