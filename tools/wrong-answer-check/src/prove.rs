//! Running wrong answers' tests the way each declares, and proving each is
//! rejected; proofs are cached by a hash of every input.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use workbook_support::cache::{Key, Store};
use workbook_support::cargo::cargo;
use workbook_support::process::{run_with_timeout, tail};
use workbook_support::toolchain::Toolchain;
use workbook_support::workspace::{Package, Workspace};

use crate::gallery::{MEMBER_GLOB, RejectedBy, WrongAnswer, miri_toolchain};
use crate::libtest::{Failure, TestOutcome, parse_libtest};
use crate::report;

/// Bump when the key's recipe, the stored format or the report changes.
const FORMAT: &str = "wrong-answer-check v1";

/// How many lines of a long output a report keeps (its end names the
/// problem).
const TAIL_LINES: usize = 30;

/// The Miri flags every run uses; the seeds are added per wrong answer.
const MIRIFLAGS: &str = "-Zmiri-strict-provenance";

/// The pinned nightly, if Miri is installed on it; else the command that
/// installs it.
pub fn miri_ready(root: &Path) -> Result<String, String> {
    let toolchain = miri_toolchain(root)?;
    let mut cmd = Command::new("cargo");
    cmd.arg(format!("+{toolchain}"))
        .args(["miri", "--version"])
        .current_dir(root)
        .env_remove("RUSTUP_TOOLCHAIN");
    match cmd.output() {
        Ok(out) if out.status.success() => Ok(toolchain),
        _ => Err(format!(
            "Miri on the pinned nightly `{toolchain}` is not installed; install it with\n    \
             rustup toolchain install {toolchain} --profile minimal --component miri"
        )),
    }
}

/// A wrong answer, proven rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub package: String,
    /// The `caught-by` tests that failed (under Miri: the one it stopped).
    pub caught: Vec<String>,
    /// The real failure, normalised ([`crate::normalise`]) for a book page.
    pub report: String,
    /// Found in the cache rather than run now.
    pub cached: bool,
}

/// Proves each of `answers` rejected by its exercise's tests, natively or
/// under Miri as it declares; one result per answer, in order. Results
/// found in the cache under the workspace's target directory are not run
/// again; new proofs are stored there. The native ones build in one cargo
/// invocation, the Miri ones in another. Each run may take `timeout`.
/// `toolchain` builds `workspace` (native proofs are keyed by it).
pub fn prove_rejected(
    workspace: &Workspace,
    toolchain: &Toolchain,
    answers: &[WrongAnswer],
    timeout: Duration,
    progress: &dyn Fn(&str),
) -> Vec<Result<Rejection, String>> {
    let prover = Prover::new(workspace, toolchain, timeout, progress);
    let mut results: Vec<Option<Result<Rejection, String>>> =
        answers.iter().map(|_| None).collect();
    let mut keys = BTreeMap::new();
    let mut native = Vec::new();
    let mut miri = Vec::new();
    for (i, answer) in answers.iter().enumerate() {
        match prover.key(answer) {
            Ok(key) => {
                if let Some(found) = prover.cached(answer, &key) {
                    results[i] = Some(Ok(found));
                } else {
                    keys.insert(i, key);
                    match answer.rejected_by {
                        RejectedBy::Native => native.push(i),
                        RejectedBy::Miri { .. } => miri.push(i),
                    }
                }
            }
            Err(e) => results[i] = Some(Err(e)),
        }
    }

    let cached = answers.len() - native.len() - miri.len();
    if cached > 0 {
        progress(&format!(
            "{cached} of {} wrong answers proven before with the same inputs (cached)",
            answers.len()
        ));
    }
    if !native.is_empty() {
        let group: Vec<&WrongAnswer> = native.iter().map(|&i| &answers[i]).collect();
        for (&i, outcome) in native.iter().zip(prover.native(&group)) {
            results[i] = Some(outcome);
        }
    }
    if !miri.is_empty() {
        let group: Vec<&WrongAnswer> = miri.iter().map(|&i| &answers[i]).collect();
        for (&i, outcome) in miri.iter().zip(prover.miri(&group)) {
            results[i] = Some(outcome);
        }
    }
    for (i, key) in keys {
        if let Some(Ok(rejection)) = &results[i]
            && let Err(e) = prover.store(&key, rejection)
        {
            results[i] = Some(Err(e));
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("no result (an internal error)".into())))
        .collect()
}

/// The proofs of `answers` already in the cache under the workspace's
/// target directory, found without running anything: `None` where an
/// answer has no proof for its current inputs yet. One result per answer,
/// in order.
pub fn cached_rejections(
    workspace: &Workspace,
    toolchain: &Toolchain,
    answers: &[WrongAnswer],
) -> Vec<Result<Option<Rejection>, String>> {
    let prover = Prover::new(workspace, toolchain, Duration::ZERO, &|_| {});
    answers
        .iter()
        .map(|answer| Ok(prover.cached(answer, &prover.key(answer)?)))
        .collect()
}

struct Prover<'a> {
    workspace: &'a Workspace,
    /// `rustc -vV` of the toolchain that builds the workspace.
    rustc: &'a str,
    timeout: Duration,
    progress: &'a dyn Fn(&str),
    store: Store,
}

impl<'a> Prover<'a> {
    fn new(
        workspace: &'a Workspace,
        toolchain: &'a Toolchain,
        timeout: Duration,
        progress: &'a dyn Fn(&str),
    ) -> Self {
        Prover {
            workspace,
            rustc: &toolchain.verbose,
            timeout,
            progress,
            store: Store::new(workspace.target_dir.join("wrong-answers")),
        }
    }

    fn root(&self) -> &Path {
        &self.workspace.root
    }

    /// Everything that can change the proof.
    fn key(&self, answer: &WrongAnswer) -> Result<String, String> {
        let member = self.workspace.package(&answer.package).map_err(|_| {
            format!(
                "{}: `{}` is not a workspace member; add \"{MEMBER_GLOB}\" to [workspace] members \
                 in the root Cargo.toml",
                answer.manifest().display(),
                answer.package
            )
        })?;
        let mut key = Key::new(FORMAT);
        key.add("package", answer.package.as_bytes());
        key.add("caught-by", answer.caught_by.join("\n").as_bytes());
        match &answer.rejected_by {
            RejectedBy::Native => key.add("native", self.rustc.as_bytes()),
            RejectedBy::Miri { seeds } => {
                key.add("miri", miri_toolchain(self.root())?.as_bytes());
                key.add("miriflags", MIRIFLAGS.as_bytes());
                key.add("seeds", seeds.as_bytes());
            }
        }
        for file in ["Cargo.toml", "Cargo.lock", ".cargo/config.toml"] {
            key.add_file(file, &self.root().join(file));
        }
        // The package, its path dependencies, and the directories of target
        // files that live elsewhere (the exercise's tests).
        let mut dirs: BTreeSet<PathBuf> = self.workspace.source_dirs(member);
        for package in dirs.clone().iter().filter_map(|d| self.package_in(d)) {
            for file in package.sources_outside() {
                if let Some(parent) = file.parent() {
                    dirs.insert(parent.to_path_buf());
                }
            }
        }
        for dir in dirs {
            key.add_tree(&dir, self.root())?;
        }
        Ok(key.hex())
    }

    fn package_in(&self, dir: &Path) -> Option<&Package> {
        self.workspace.packages.iter().find(|p| p.dir == dir)
    }

    fn cached(&self, answer: &WrongAnswer, key: &str) -> Option<Rejection> {
        let text = self.store.get(key)?;
        let (first, report) = text.split_once('\n')?;
        let caught = first.strip_prefix("caught: ")?;
        Some(Rejection {
            package: answer.package.clone(),
            caught: caught.split(' ').map(str::to_owned).collect(),
            report: report.to_owned(),
            cached: true,
        })
    }

    fn store(&self, key: &str, rejection: &Rejection) -> Result<(), String> {
        let text = format!(
            "caught: {}\n{}",
            rejection.caught.join(" "),
            rejection.report
        );
        self.store.put(key, &text)
    }

    /// A cargo command in the root, building into the shared target dir.
    fn cargo(&self, toolchain: Option<&str>, args: &[&str]) -> Command {
        let mut cmd = match toolchain {
            // `cargo +TOOLCHAIN` is understood by rustup's `cargo`, the one
            // on PATH; the variables cargo sets for its children would
            // otherwise pin the calling toolchain.
            Some(toolchain) => {
                let mut cmd = Command::new("cargo");
                cmd.arg(format!("+{toolchain}"));
                for var in ["RUSTUP_TOOLCHAIN", "CARGO", "RUSTC", "RUSTDOC"] {
                    cmd.env_remove(var);
                }
                cmd
            }
            None => cargo(),
        };
        cmd.current_dir(self.root())
            .args(args)
            .arg("--target-dir")
            .arg(&self.workspace.target_dir)
            .env_remove("CARGO_TARGET_DIR")
            .env("RUST_BACKTRACE", "0");
        cmd
    }

    /// Builds the test binaries of `group` in one invocation; the ones that
    /// do not build are errors, found by building each alone only then.
    fn build(
        &self,
        toolchain: Option<&str>,
        prefix: &[&str],
        group: &[&WrongAnswer],
    ) -> BTreeMap<String, String> {
        let mut broken = BTreeMap::new();
        let build = |which: &[&&WrongAnswer]| {
            let mut args = prefix.to_vec();
            args.extend(["--no-run", "--quiet"]);
            for answer in which {
                args.extend(["--package", answer.package.as_str()]);
            }
            run_with_timeout(&mut self.cargo(toolchain, &args), self.timeout)
        };
        let started = Instant::now();
        let all: Vec<&&WrongAnswer> = group.iter().collect();
        match build(&all) {
            Ok((status, _, _)) if status.success() => {}
            _ => {
                for answer in group {
                    match build(&[answer]) {
                        Ok((status, _, _)) if status.success() => {}
                        Ok((_, _, stderr)) => {
                            broken.insert(
                                answer.package.clone(),
                                format!(
                                    "{} does not compile; a wrong answer must compile, so that its \
                                     tests (not the compiler) reject it:\n{}",
                                    answer.dir.display(),
                                    tail(&stderr, TAIL_LINES)
                                ),
                            );
                        }
                        Err(e) => {
                            broken.insert(answer.package.clone(), format!("cannot build: {e}"));
                        }
                    }
                }
            }
        }
        (self.progress)(&format!(
            "built {} wrong answer(s) in {:.1} s",
            group.len(),
            started.elapsed().as_secs_f64()
        ));
        broken
    }

    fn native(&self, group: &[&WrongAnswer]) -> Vec<Result<Rejection, String>> {
        (self.progress)(&format!(
            "building the tests of {} wrong answer(s) (one cargo invocation)",
            group.len()
        ));
        let broken = self.build(None, &["test"], group);
        self.each(group, &broken, "", |answer| self.native_one(answer))
    }

    fn native_one(&self, answer: &WrongAnswer) -> Result<Rejection, String> {
        let shown = format!("cargo test -p {} --no-fail-fast", answer.package);
        let mut cmd = self.cargo(
            None,
            &["test", "--no-fail-fast", "--package", &answer.package],
        );
        let (status, stdout, stderr) = run_with_timeout(&mut cmd, self.timeout)
            .map_err(|e| format!("{}: `{shown}`: {e}", answer.dir.display()))?;
        let outcome = parse_libtest(&stdout);
        if status.success() {
            return Err(format!(
                "{} PASSES its exercise's tests ({} passed with `{shown}`): they do not \
                 catch this mistake",
                answer.package,
                outcome.passed.len()
            ));
        }
        if outcome.failed.is_empty() && aborted(&stderr) {
            return self.aborted_test(answer);
        }
        let (names, failures) = caught(answer, &outcome, &stdout, &stderr)?;
        Ok(Rejection {
            package: answer.package.clone(),
            report: report::normalise(&report::native(&failures), self.root()),
            caught: names,
            cached: false,
        })
    }

    /// `prove` for each answer of `group` that built (the others get their
    /// build error from `broken`), with each one's time as progress.
    fn each(
        &self,
        group: &[&WrongAnswer],
        broken: &BTreeMap<String, String>,
        how: &str,
        prove: impl Fn(&WrongAnswer) -> Result<Rejection, String>,
    ) -> Vec<Result<Rejection, String>> {
        group
            .iter()
            .map(|answer| {
                if let Some(e) = broken.get(&answer.package) {
                    return Err(e.clone());
                }
                let started = Instant::now();
                let result = prove(answer);
                (self.progress)(&format!(
                    "{}{how} ({:.1} s)",
                    answer.package,
                    started.elapsed().as_secs_f64()
                ));
                result
            })
            .collect()
    }

    /// A test binary that aborted (a non-unwinding panic, a failed unsafe
    /// precondition) names no test when its tests run in parallel: run them
    /// one at a time, and the test it stops in is the one that started last.
    fn aborted_test(&self, answer: &WrongAnswer) -> Result<Rejection, String> {
        let shown = format!(
            "cargo test -p {} --no-fail-fast -- --test-threads=1",
            answer.package
        );
        let mut cmd = self.cargo(
            None,
            &["test", "--no-fail-fast", "--package", &answer.package],
        );
        cmd.args(["--", "--test-threads=1"]);
        let (_, stdout, stderr) = run_with_timeout(&mut cmd, self.timeout)
            .map_err(|e| format!("{}: `{shown}`: {e}", answer.dir.display()))?;
        let outcome = parse_libtest(&stdout);
        let Some(test) = outcome.unfinished.clone().filter(|_| aborted(&stderr)) else {
            // The abort did not happen again: judge this run instead.
            let (names, failures) = caught(answer, &outcome, &stdout, &stderr)?;
            return Ok(Rejection {
                package: answer.package.clone(),
                caught: names,
                report: report::normalise(&report::native(&failures), self.root()),
                cached: false,
            });
        };
        if !answer.caught_by.iter().any(|c| same_test(&test, c)) {
            return Err(format!(
                "{}: the tests aborted in `{test}`, which caught-by does not name ({})",
                answer.package,
                answer.caught_by.join(", ")
            ));
        }
        Ok(Rejection {
            package: answer.package.clone(),
            caught: vec![test.clone()],
            report: report::normalise(&report::aborted(&test, &stderr), self.root()),
            cached: false,
        })
    }

    fn miri(&self, group: &[&WrongAnswer]) -> Vec<Result<Rejection, String>> {
        let toolchain = match miri_ready(self.root()) {
            Ok(toolchain) => toolchain,
            Err(e) => return group.iter().map(|_| Err(e.clone())).collect(),
        };
        (self.progress)(&format!(
            "building the tests of {} wrong answer(s) for Miri ({toolchain})",
            group.len()
        ));
        let broken = self.build(Some(&toolchain), &["miri", "test"], group);
        self.each(group, &broken, " under Miri", |answer| {
            self.miri_one(&toolchain, answer)
        })
    }

    /// Explores the declared seeds; at the first failing one, runs that
    /// seed alone, whose report is deterministic and readable.
    fn miri_one(&self, toolchain: &str, answer: &WrongAnswer) -> Result<Rejection, String> {
        let RejectedBy::Miri { seeds } = &answer.rejected_by else {
            return Err("not a Miri wrong answer (an internal error)".into());
        };
        let run = |flags: String| {
            let mut cmd = self.cargo(
                Some(toolchain),
                &["miri", "test", "--package", &answer.package],
            );
            cmd.args(["--", "--exact"])
                .args(&answer.caught_by)
                .env("MIRIFLAGS", &flags);
            run_with_timeout(&mut cmd, self.timeout).map_err(|e| {
                format!(
                    "{}: `MIRIFLAGS=\"{flags}\" cargo miri test -p {}`: {e}",
                    answer.dir.display(),
                    answer.package
                )
            })
        };
        let explore = format!("{MIRIFLAGS} -Zmiri-many-seeds={seeds}");
        let (status, _, stderr) = run(explore.clone())?;
        if status.success() {
            return Err(format!(
                "{} PASSES its exercise's tests {} under Miri with every seed of {seeds} \
                 (MIRIFLAGS=\"{explore}\"): no run caught it; widen `seeds` or name other tests",
                answer.package,
                answer.caught_by.join(", ")
            ));
        }
        let seed = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("FAILING SEED: ")?.trim().parse::<u64>().ok())
            .min()
            .ok_or_else(|| {
                format!(
                    "{}: Miri did not run its tests to the end and named no failing seed:\n{}",
                    answer.package,
                    tail(&stderr, TAIL_LINES)
                )
            })?;
        let single = format!("{MIRIFLAGS} -Zmiri-seed={seed}");
        let (status, stdout, stderr) = run(single.clone())?;
        if status.success() {
            return Err(format!(
                "{}: seed {seed} failed while exploring {seeds}, but passed when run alone \
                 (MIRIFLAGS=\"{single}\")",
                answer.package
            ));
        }
        let outcome = parse_libtest(&stdout);
        if let Some(test) = &outcome.unfinished {
            if !answer.caught_by.iter().any(|c| same_test(test, c)) {
                return Err(format!(
                    "{}: Miri stopped in `{test}`, which caught-by does not name ({})",
                    answer.package,
                    answer.caught_by.join(", ")
                ));
            }
            return Ok(Rejection {
                package: answer.package.clone(),
                caught: vec![test.clone()],
                report: report::normalise(&report::miri(test, seed, &stderr), self.root()),
                cached: false,
            });
        }
        let (names, failures) = caught(answer, &outcome, &stdout, &stderr)?;
        Ok(Rejection {
            package: answer.package.clone(),
            caught: names,
            report: report::normalise(
                &format!("Under Miri, seed {seed}:\n{}", report::native(&failures)),
                self.root(),
            ),
            cached: false,
        })
    }
}

/// The `caught-by` tests among the failures, or why the run proves nothing.
fn caught<'o>(
    answer: &WrongAnswer,
    outcome: &'o TestOutcome,
    stdout: &str,
    stderr: &str,
) -> Result<(Vec<String>, Vec<&'o Failure>), String> {
    let output = format!("{stderr}{stdout}");
    if output.contains("could not compile") || output.contains("error[E") {
        return Err(format!(
            "{} does not compile; a wrong answer must compile, so that its tests (not the \
             compiler) reject it:\n{}",
            answer.dir.display(),
            tail(stderr, TAIL_LINES)
        ));
    }
    if outcome.failed.is_empty() {
        return Err(format!(
            "{}: its tests did not run to the end, so nothing proves them failing:\n{}",
            answer.package,
            tail(&output, TAIL_LINES)
        ));
    }
    let failures: Vec<&Failure> = outcome
        .failed
        .iter()
        .filter(|f| answer.caught_by.iter().any(|c| same_test(&f.name, c)))
        .collect();
    if failures.is_empty() {
        let failed: Vec<&str> = outcome.failed.iter().map(|f| f.name.as_str()).collect();
        return Err(format!(
            "{} is rejected, but not by the tests its caught-by names ({}); it failed {}. \
             Name the test that catches this mistake",
            answer.package,
            answer.caught_by.join(", "),
            failed.join(", ")
        ));
    }
    Ok((failures.iter().map(|f| f.name.clone()).collect(), failures))
}

/// Whether a test process was killed by a signal (an abort) rather than
/// ending with failed tests.
fn aborted(stderr: &str) -> bool {
    stderr.contains("process didn't exit successfully") && stderr.contains("(signal: ")
}

/// A libtest name (`module::name`) against a caught-by entry (a function
/// name or the same path).
fn same_test(libtest_name: &str, declared: &str) -> bool {
    libtest_name == declared || libtest_name.ends_with(&format!("::{declared}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_tests_match_libtest_names() {
        assert!(same_test("two_threads", "two_threads"));
        assert!(same_test("threads::two_threads", "two_threads"));
        assert!(same_test("threads::two_threads", "threads::two_threads"));
        assert!(!same_test("more_two_threads", "two_threads"));
    }
}
