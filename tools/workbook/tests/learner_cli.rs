//! The learner commands, run as a learner runs them, on a temporary copy of
//! the workspace (so nothing here touches the real exercises).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{copy_of_workspace, nested_target_dir, stderr, stdout, workspace};

/// A copy of the project's files (tracked and untracked, not ignored) in a
/// fresh git repository with one commit, as a learner's clone would be.
struct Copy {
    dir: tempfile::TempDir,
    test: &'static str,
}

impl Copy {
    fn new(test: &'static str) -> Self {
        let dir = copy_of_workspace();
        git(dir.path(), &["init", "--quiet"]);
        git(dir.path(), &["add", "--all"]);
        git(
            dir.path(),
            &[
                "-c",
                "user.name=learner",
                "-c",
                "user.email=learner@example.com",
                "commit",
                "--quiet",
                "-m",
                "clone",
            ],
        );
        Self { dir, test }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn workbook(&self, args: &[&str]) -> Output {
        workbook_in(self.dir.path(), self.test, args)
    }

    /// Solves exercise `number` the way a learner might: by writing the
    /// reference solution's source over the stub, and its `[dependencies]`
    /// (exercise 1 adds mimalloc) into the exercise's manifest.
    fn solve(&self, number: u32) {
        std::fs::copy(
            self.path(&format!("solutions/exercise-{number}/src/lib.rs")),
            self.path(&format!("exercises/exercise-{number}/src/lib.rs")),
        )
        .expect("copy the solution");
        let read = |path: &str| std::fs::read_to_string(self.path(path)).expect("read a manifest");
        let manifest = format!("exercises/exercise-{number}/Cargo.toml");
        let theirs = read(&format!("solutions/exercise-{number}/Cargo.toml"));
        let ours = read(&manifest);
        if let (Some(wanted), Some(present)) = (
            section(&theirs, "[dependencies]"),
            section(&ours, "[dependencies]"),
        ) {
            std::fs::write(self.path(&manifest), ours.replacen(present, wanted, 1))
                .expect("write the manifest");
        }
    }

    /// Exercise `number`'s hints, from the metadata.
    fn hints(&self, number: usize) -> Vec<String> {
        let text = std::fs::read_to_string(self.path("exercises/exercises.toml"))
            .expect("read the metadata");
        let metadata: toml::Table = toml::from_str(&text).expect("the metadata parses");
        metadata["exercise"]
            .as_array()
            .expect("a list of exercises")[number - 1]["hints"]
            .as_array()
            .expect("hints")
            .iter()
            .map(|h| h.as_str().expect("a hint").trim().to_owned())
            .collect()
    }
}

/// The text of a manifest's `header` table, up to the next table.
fn section<'a>(manifest: &'a str, header: &str) -> Option<&'a str> {
    let start = manifest.find(&format!("\n{header}\n"))? + 1;
    let length = manifest[start + header.len()..]
        .find("\n[")
        .map_or(manifest.len() - start, |end| end + header.len() + 1);
    Some(&manifest[start..start + length])
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn workbook_command(dir: &Path, test: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_workbook"));
    cmd.args(args).current_dir(dir).env(
        "CARGO_TARGET_DIR",
        nested_target_dir("learner-cli-tests", test),
    );
    cmd
}

fn workbook_in(dir: &Path, test: &str, args: &[&str]) -> Output {
    workbook_command(dir, test, args)
        .output()
        .expect("the workbook runs")
}

#[test]
fn bad_input_is_refused_with_what_is_valid() {
    let root = workspace();
    let count = std::fs::read_to_string(root.join("exercises/exercises.toml"))
        .expect("exercises.toml")
        .matches("[[exercise]]")
        .count();
    let valid = format!("valid exercise numbers are 1 to {count}");
    let no_99 = format!("there is no exercise 99; {valid}");
    let no_such = format!("there is no exercise {}; {valid}", count + 1);
    let over = (count + 1).to_string();
    for (args, expected) in [
        (&["hint", "99"][..], no_99.as_str()),
        (&["check", over.as_str()], no_such.as_str()),
        (
            &["compare", "x"],
            "`x` is not an exercise number: give a whole number such as 3",
        ),
        (&["check", "0"], "`0` is not an exercise number"),
        (
            &["hint"],
            "the following required arguments were not provided",
        ),
        (&["reset", "1", "2"], "unexpected argument '2'"),
        (&["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (&["chek", "3"], "a similar subcommand exists: 'check'"),
    ] {
        let out = workbook_in(&root, "bad-input", args);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    let out = workbook_in(&root, "bad-input", &["frobnicate"]);
    for command in ["list", "check", "hint", "compare", "watch", "reset"] {
        assert!(
            stderr(&out).contains(command),
            "the valid commands include {command}"
        );
    }
}

#[test]
fn hints_escalate_one_per_call_and_are_remembered_outside_git() {
    let copy = Copy::new("hint");
    let hints = copy.hints(3);
    let total = hints.len();
    assert!(total >= 3, "exercise 3 has escalating hints: {hints:?}");
    let all = copy.workbook(&["hint", "3", "--all"]);
    assert!(
        stdout(&all).contains("No hint seen yet. `cargo workbook hint 3` shows the first."),
        "{}",
        stdout(&all)
    );
    for (index, hint) in hints.iter().enumerate() {
        let out = copy.workbook(&["hint", "3"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.starts_with("Exercise 3: "), "{text}");
        assert!(
            text.contains(&format!("Hint {} of {total}:\n{hint}\n", index + 1)),
            "call {} shows hint {}: {text}",
            index + 1,
            index + 1
        );
        for later in &hints[index + 1..] {
            assert!(!text.contains(later.as_str()), "no later hint yet: {text}");
        }
    }
    let past_the_end = stdout(&copy.workbook(&["hint", "3"]));
    assert!(
        past_the_end.contains(&format!("Hint {total} of {total}:"))
            && past_the_end.contains("there are no more"),
        "{past_the_end}"
    );
    let again = stdout(&copy.workbook(&["hint", "3", "--all"]));
    for (index, hint) in hints.iter().enumerate() {
        assert!(
            again.contains(&format!("Hint {} of {total}:\n{hint}\n", index + 1)),
            "{again}"
        );
    }
    // Another exercise counts on its own.
    let other = stdout(&copy.workbook(&["hint", "4"]));
    assert!(
        other.contains(&format!("Hint 1 of {}:", copy.hints(4).len())),
        "{other}"
    );

    let bad = copy.workbook(&["hint", "3", "--next"]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("unexpected argument '--next'"),
        "{}",
        stderr(&bad)
    );

    let status = git(copy.dir.path(), &["status", "--porcelain"]);
    assert!(
        stdout(&status).is_empty(),
        "the hints seen are the learner's own, ignored by git: {}",
        stdout(&status)
    );
}

#[test]
fn list_counts_a_copied_solution_as_solved() {
    let copy = Copy::new("list");
    let count = std::fs::read_to_string(copy.path("exercises/exercises.toml"))
        .expect("exercises.toml")
        .matches("[[exercise]]")
        .count();
    let before = copy.workbook(&["list"]);
    assert!(before.status.success(), "{}", stderr(&before));
    assert!(
        stdout(&before).contains(&format!("0/{count} solved")),
        "{}",
        stdout(&before)
    );

    copy.solve(3);
    copy.workbook(&["hint", "3"]);
    let after = copy.workbook(&["list"]);
    let text = stdout(&after);
    assert!(text.contains(&format!("1/{count} solved")), "{text}");
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("3 "))
        .expect("a row for exercise 3");
    assert!(
        row.trim_end().ends_with("solved") && !row.contains("not yet"),
        "{row}"
    );
    assert!(
        row.contains(&format!(" 1/{} ", copy.hints(3).len())),
        "one hint of exercise 3 seen: {row}"
    );
    assert!(text.contains("Next: exercise 1"), "{text}");
}

#[test]
fn reset_backs_up_and_restores() {
    let copy = Copy::new("reset");
    let lib = copy.path("exercises/exercise-1/src/lib.rs");
    let stub = std::fs::read_to_string(&lib).expect("read the stub");
    let backups = copy.path("exercises/exercise-1/backup");

    let out = copy.workbook(&["reset", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("already the stub"),
        "{}",
        stdout(&out)
    );
    assert!(!backups.exists(), "nothing to back up, no backup made");

    for (k, attempt) in ["// my first try\n", "// my second try\n"]
        .iter()
        .enumerate()
    {
        std::fs::write(&lib, attempt).expect("write my work");
        let out = copy.workbook(&["reset", "1"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let said = format!(
            "saved your exercises/exercise-1/src/lib.rs to backup {} (exercises/exercise-1/backup/{}-",
            k + 1,
            k + 1
        );
        assert!(stdout(&out).contains(&said), "{}", stdout(&out));
        assert!(
            stdout(&out).contains(&format!(
                "`cargo workbook restore 1 {}` brings it back",
                k + 1
            )),
            "{}",
            stdout(&out)
        );
        assert_eq!(
            std::fs::read_to_string(&lib).expect("read"),
            stub,
            "the stub is back"
        );
    }
    let mut saved: Vec<String> = std::fs::read_dir(&backups)
        .expect("the backup directory")
        .map(|e| {
            std::fs::read_to_string(e.expect("entry").path().join("src/lib.rs"))
                .expect("read a backup")
        })
        .collect();
    saved.sort();
    assert_eq!(
        saved,
        ["// my first try\n", "// my second try\n"],
        "each reset kept its own backup"
    );

    // The newest comes back; the stub it replaces is saved as backup 3.
    let out = copy.workbook(&["restore", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&lib).expect("read"),
        "// my second try\n"
    );
    assert!(stdout(&out).contains("to backup 3 ("), "{}", stdout(&out));
    // An older one by its number.
    let out = copy.workbook(&["restore", "1", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&lib).expect("read"),
        "// my first try\n"
    );
    let out = copy.workbook(&["restore", "1", "9"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("exercise 1 has no backup 9; its backups: 1 (20"),
        "{}",
        stderr(&out)
    );
    let status = git(copy.dir.path(), &["status", "--porcelain"]);
    assert!(
        !stdout(&status).contains("backup"),
        "backups are ignored by git: {}",
        stdout(&status)
    );
}

#[test]
fn compare_shows_the_difference_and_the_verdict() {
    let copy = Copy::new("compare");
    let out = copy.workbook(&["compare", "4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("--- exercises/exercise-4/src/lib.rs (yours)"),
        "{text}"
    );
    assert!(
        text.contains("+++ solutions/exercise-4/src/lib.rs (reference)"),
        "{text}"
    );
    assert!(
        text.contains("+    fn charge(&self, size: usize) -> bool {"),
        "{text}"
    );
    assert!(
        !text.contains("ANCHOR"),
        "the book's markers are not part of the comparison"
    );
    assert!(
        text.contains("Your code does not pass its tests yet"),
        "{text}"
    );

    copy.solve(4);
    let text = stdout(&copy.workbook(&["compare", "4"]));
    assert!(text.contains("Your code passes all its tests."), "{text}");
}

#[test]
fn check_names_what_is_left_then_says_it_passes() {
    let copy = Copy::new("check");
    let out = copy.workbook(&["check", "2"]);
    let text = stdout(&out);
    assert!(!out.status.success(), "an unsolved exercise fails: {text}");
    assert!(
        stderr(&out).contains("exercise 2 is not solved yet"),
        "{}",
        stderr(&out)
    );
    let mut tests = String::new();
    for entry in std::fs::read_dir(copy.path("exercises/exercise-2/tests")).expect("the tests") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            tests.push_str(&std::fs::read_to_string(path).expect("read a test file"));
        }
    }
    let failing: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("FAIL  "))
        .collect();
    assert!(!failing.is_empty(), "the failing tests are listed: {text}");
    for name in &failing {
        let function = name.rsplit("::").next().unwrap_or(name);
        assert!(
            tests.contains(&format!("fn {function}(")),
            "`{name}` is one of the exercise's tests"
        );
    }
    assert!(
        text.contains("not solved yet"),
        "the stub's guide is shown: {text}"
    );
    assert!(
        text.contains(&format!(
            "{} left. Stuck? `cargo workbook hint 2`",
            failing.len()
        )),
        "{text}"
    );

    copy.solve(2);
    let out = copy.workbook(&["check", "2"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(text.contains("exercise 2 is solved"), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(
        text.contains("the workspace's lints have nothing to say about your code"),
        "{text}"
    );

    // A solved exercise with something the compiler warns about: the
    // remark is shown, and the exercise is still solved.
    let lib = copy.path("exercises/exercise-2/src/lib.rs");
    let mut source = std::fs::read_to_string(&lib).expect("read");
    source.push_str("\npub fn with_a_remark() {\n    let unused = 1;\n}\n");
    std::fs::write(&lib, source).expect("write");
    let out = copy.workbook(&["check", "2"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(
        text.contains("exercises/exercise-2/src/lib.rs:")
            && text.contains("unused variable: `unused`"),
        "{text}"
    );
}

/// `watch` runs until stopped: these tests start it as a child and stop it
/// and everything it started (unix process groups).
#[cfg(unix)]
mod watch {
    use std::io::{BufRead, BufReader, Read};
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    use std::sync::mpsc::{self, Receiver, Sender};
    use std::time::{Duration, Instant};

    use super::{Copy, workbook_command};

    /// A running `watch`, killed with everything it started when dropped (also
    /// when an assertion fails), so no watcher or cargo outlives the test.
    struct Watcher {
        child: std::process::Child,
        lines: Receiver<String>,
        /// Everything printed so far, and how much of it was already matched.
        seen: String,
        matched: usize,
    }

    impl Watcher {
        fn start(copy: &Copy) -> Self {
            let mut child = workbook_command(copy.dir.path(), copy.test, &["watch"])
                // Its own process group, so one signal reaches its cargo too.
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the workbook starts");
            let (send, lines) = mpsc::channel();
            forward_lines(child.stdout.take().expect("piped stdout"), send.clone());
            forward_lines(child.stderr.take().expect("piped stderr"), send);
            Self {
                child,
                lines,
                seen: String::new(),
                matched: 0,
            }
        }

        /// Waits until `expected` is printed after the previous match; panics
        /// with everything printed if it takes longer than `timeout`.
        fn wait_for(&mut self, expected: &str, timeout: Duration) {
            let deadline = Instant::now() + timeout;
            loop {
                if let Some(at) = self.seen[self.matched..].find(expected) {
                    self.matched += at + expected.len();
                    return;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                match self.lines.recv_timeout(left) {
                    Ok(line) => {
                        self.seen.push_str(&line);
                        self.seen.push('\n');
                    }
                    Err(_) => panic!(
                        "`{expected}` not printed within {timeout:?} (or watch ended); it printed:\n{}",
                        self.seen
                    ),
                }
            }
        }
    }

    impl Drop for Watcher {
        fn drop(&mut self) {
            let group = format!("-{}", self.child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = self.child.wait();
        }
    }

    /// Sends each line `from` prints, on a thread, until it closes.
    fn forward_lines(from: impl Read + Send + 'static, to: Sender<String>) {
        std::thread::spawn(move || {
            for line in BufReader::new(from).lines() {
                let Ok(line) = line else { break };
                if to.send(line).is_err() {
                    break;
                }
            }
        });
    }

    #[test]
    fn watch_reruns_on_save_and_moves_on_when_solved() {
        let copy = Copy::new("watch");
        let mut watch = Watcher::start(&copy);
        // Judging every exercise first compiles them all; slow on a busy machine.
        watch.wait_for("Watching exercise 1 ", Duration::from_secs(600));
        watch.wait_for(
            "left. Stuck? `cargo workbook hint 1`",
            Duration::from_secs(180),
        );

        copy.solve(1);
        watch.wait_for("exercise 1 is solved", Duration::from_secs(180));
        watch.wait_for("Watching exercise 2 ", Duration::from_secs(60));
    }
}
