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

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use wait_timeout::ChildExt;

/// The directory this package lives in; case paths are relative to it.
const PACKAGE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The subdirectory of the cargo target directory the cases are built in.
const CASES_TARGET_SUBDIR: &str = "pitfalls-cases";

/// How much of a run case's stderr is kept; the rest is drained and counted.
const STDERR_KEEP_BYTES: usize = 8 * 1024;

/// How long a run case that should finish may take.
const FINISH_LIMIT: Duration = Duration::from_secs(20);

/// How long a run case that should hang is watched before it is killed.
const DEADLOCK_WATCH: Duration = Duration::from_secs(3);

/// How one case is built (compile-fail) or built and run (run-fail).
#[derive(Debug)]
pub enum Kind {
    /// One source file compiled by `rustc`; must fail.
    Rustc { source: &'static str },
    /// A library compiled first, then a binary linked against it; the
    /// binary must fail.
    RustcWithLibrary {
        library_name: &'static str,
        library: &'static str,
        source: &'static str,
    },
    /// A Cargo package with its own workspace and lock file, checked by
    /// `cargo check`; must fail. `source` carries the expectation.
    CargoPackage {
        dir: &'static str,
        source: &'static str,
    },
    /// A program built by `rustc` and run; must end as `expect` says.
    /// `build_env` is the environment of the build (for `option_env!`),
    /// `env` that of the run.
    Run {
        source: &'static str,
        build_env: &'static [(&'static str, &'static str)],
        args: &'static [&'static str],
        env: &'static [(&'static str, &'static str)],
        expect: RunExpectation,
    },
}

/// How a run-fail case must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Exits on its own with this status code.
    Code(i32),
    /// Is killed by this signal (e.g. 6 for an abort).
    Signal(i32),
    /// Never finishes: still running when the watch ends (a deadlock).
    Hangs,
}

/// What a run-fail case must do.
#[derive(Debug, Clone, Copy)]
pub struct RunExpectation {
    pub ending: Ending,
    /// Text stderr must contain, if any.
    pub stderr_phrase: Option<&'static str>,
}

/// One pitfall.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    /// One line: the mistake and what it leads to.
    pub shows: &'static str,
    pub kind: Kind,
}

/// Every case, in the chapter's order.
pub const CASES: &[Case] = &[
    Case {
        name: "missing-unsafe-impl",
        shows: "`impl GlobalAlloc` without `unsafe` is rejected (E0200)",
        kind: Kind::Rustc {
            source: "cases/missing_unsafe_impl.rs",
        },
    },
    Case {
        name: "two-global-allocators",
        shows: "a crate may declare only one `#[global_allocator]`",
        kind: Kind::Rustc {
            source: "cases/two_global_allocators.rs",
        },
    },
    Case {
        name: "library-chooses-allocator",
        shows: "a library that declares a global allocator conflicts with the application's",
        kind: Kind::RustcWithLibrary {
            library_name: "chooser",
            library: "cases/library_chooses_allocator/chooser.rs",
            source: "cases/library_chooses_allocator/main.rs",
        },
    },
    Case {
        name: "allocator-api-on-stable",
        shows: "per-collection allocators (`Vec::new_in`) are unstable (E0658)",
        kind: Kind::Rustc {
            source: "cases/allocator_api_on_stable.rs",
        },
    },
    Case {
        name: "jemalloc-stats-feature-off",
        shows: "`tikv_jemalloc_ctl::stats` needs the `stats` feature (E0432)",
        kind: Kind::CargoPackage {
            dir: "cases/jemalloc_stats_feature_off",
            source: "src/main.rs",
        },
    },
    Case {
        name: "not-a-global-alloc",
        shows: "`#[global_allocator]` needs a type that implements `GlobalAlloc` (E0277)",
        kind: Kind::Rustc {
            source: "cases/not_a_global_alloc.rs",
        },
    },
    Case {
        name: "println-in-alloc-deadlock",
        shows: "`println!` inside `alloc` before stdout was used deadlocks",
        kind: Kind::Run {
            source: "cases/println_in_alloc_deadlock.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Hangs,
                stderr_phrase: None,
            },
        },
    },
    Case {
        name: "string-in-alloc-overflow",
        shows: "building a `String` inside `alloc` recurses until the stack overflows",
        kind: Kind::Run {
            source: "cases/string_in_alloc_overflow.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Signal(SIGABRT),
                stderr_phrase: Some("has overflowed its stack"),
            },
        },
    },
    Case {
        name: "string-in-alloc-at-startup",
        shows: "the same recursion from the first allocation dies before main, silently (SIGSEGV)",
        kind: Kind::Run {
            source: "cases/string_in_alloc_overflow.rs",
            build_env: &[(LOG_FROM_STARTUP, "1")],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Signal(SIGSEGV),
                stderr_phrase: None,
            },
        },
    },
    Case {
        name: "integer-eprintln-works",
        shows: "`eprintln!` of a plain integer inside `alloc` does not allocate: it works",
        kind: Kind::Run {
            source: "cases/integer_eprintln_works.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Code(0),
                stderr_phrase: Some("finished with 8 numbers"),
            },
        },
    },
    Case {
        name: "panic-in-alloc",
        shows: "a panic in `alloc` unwinds out of the allocator (undefined behaviour)",
        kind: Kind::Run {
            source: "cases/panic_in_alloc.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Code(101),
                stderr_phrase: Some("refusing 1048576 bytes"),
            },
        },
    },
    Case {
        name: "panic-in-alloc-backtrace",
        shows: "the same panic with RUST_BACKTRACE=1 panics again while panicking: abort",
        kind: Kind::Run {
            source: "cases/panic_in_alloc.rs",
            build_env: &[],
            args: &[],
            env: &[("RUST_BACKTRACE", "1")],
            expect: RunExpectation {
                ending: Ending::Signal(SIGABRT),
                stderr_phrase: Some("thread panicked while processing panic"),
            },
        },
    },
    Case {
        name: "over-budget-abort",
        shows: "an allocator that returns null makes `vec!` abort via `handle_alloc_error`",
        kind: Kind::Run {
            source: "cases/over_budget.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Signal(SIGABRT),
                stderr_phrase: Some("memory allocation of 2097152 bytes failed"),
            },
        },
    },
    Case {
        name: "over-budget-try-reserve",
        shows: "the same refusal through `try_reserve` is an `Err` the program recovers from",
        kind: Kind::Run {
            source: "cases/over_budget.rs",
            build_env: &[],
            args: &["try-reserve"],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Code(0),
                stderr_phrase: Some("recovered: memory allocation failed"),
            },
        },
    },
];

/// Read by `string_in_alloc_overflow.rs` at compile time.
const LOG_FROM_STARTUP: &str = "LOG_FROM_STARTUP";

const SIGABRT: i32 = 6;
const SIGSEGV: i32 = 11;

/// The case called `name`, or an error listing the valid names.
pub fn find(name: &str) -> Result<&'static Case, String> {
    CASES.iter().find(|case| case.name == name).ok_or_else(|| {
        let names: Vec<&str> = CASES.iter().map(|case| case.name).collect();
        format!("unknown case `{name}`; the cases are: {}", names.join(", "))
    })
}

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

/// `Err` with the compiler's output if a build the case needs failed.
fn require_built(output: Output, what: &str, source: &str) -> Result<(), String> {
    if output.success {
        Ok(())
    } else {
        Err(format!(
            "the {what} {source} did not build:\n{}",
            output.stderr
        ))
    }
}

fn compile_fail_result(source: &str, text: &str, output: Output) -> (String, Option<String>) {
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
        SIGABRT => "SIGABRT",
        SIGSEGV => "SIGSEGV",
        9 => "SIGKILL",
        _ => "other signal",
    }
}

/// Runs `exe` with a clean backtrace setting, kills it after `watch`.
fn run_program(
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

/// A finished compiler run.
#[derive(Debug)]
struct Output {
    success: bool,
    stderr: String,
}

fn run_compiler(command: &mut Command, what: &str) -> Result<Output, String> {
    let output = command
        .current_dir(PACKAGE_DIR)
        // Stable must behave as stable, whatever the caller's environment.
        .env_remove("RUSTC_BOOTSTRAP")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    Ok(Output {
        success: output.status.success(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// `rustc` (or `$RUSTC`) with the workspace's edition, run from the package
/// directory so that diagnostics name sources as `cases/...`.
fn rustc(args: &[&str]) -> Result<Output, String> {
    rustc_with_env(args, &[])
}

/// `rustc` with `env` set and every case's build variable otherwise removed,
/// so the caller's environment cannot switch a case's behaviour.
fn rustc_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<Output, String> {
    let program = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut command = Command::new(&program);
    for case in CASES {
        if let Kind::Run { build_env, .. } = case.kind {
            for (name, _) in build_env {
                command.env_remove(name);
            }
        }
    }
    run_compiler(
        command
            .envs(env.iter().copied())
            .args(["--edition", "2024", "--error-format=human", "--color=never"])
            .args(args),
        &format!(
            "{} (set RUSTC to the compiler to use)",
            program.to_string_lossy()
        ),
    )
}

/// `cargo check` of a case package, in its own target directory.
fn cargo_check(dir: &Path, target: &Path) -> Result<Output, String> {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run_compiler(
        Command::new(&program)
            .args([
                "check",
                "--locked",
                "--quiet",
                "--color=never",
                "--manifest-path",
            ])
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target.join("target"))
            .env_remove("CARGO_BUILD_TARGET_DIR")
            .env_remove("CARGO_BUILD_BUILD_DIR"),
        &format!(
            "{} (set CARGO to the cargo to use)",
            program.to_string_lossy()
        ),
    )
}

fn read_source(relative: &Path) -> Result<String, String> {
    let path = Path::new(PACKAGE_DIR).join(relative);
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The absolute paths a diagnostic may mention, and how to show each.
struct Places {
    cases_target: PathBuf,
    /// `(absolute prefix, replacement)`, longest prefix first.
    replacements: Vec<(String, String)>,
}

impl Places {
    fn discover() -> Result<Self, String> {
        let target = target_dir()?;
        let cases_target = target.join(CASES_TARGET_SUBDIR);
        let mut replacements = vec![
            (format!("{PACKAGE_DIR}/"), String::new()),
            (path_arg(&target), "target".to_owned()),
        ];
        if let Some(home) = cargo_home() {
            replacements.push((path_arg(&home), "$CARGO_HOME".to_owned()));
        }
        replacements.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
        Ok(Self {
            cases_target,
            replacements,
        })
    }

    /// Makes machine paths relative: this package's files as `cases/...`,
    /// the target directory as `target`, Cargo's home as `$CARGO_HOME`, the
    /// standard library's remapped `/rustc/<commit>/` as nothing.
    fn normalise(&self, text: &str) -> String {
        let mut text = strip_rustc_remap(text);
        for (prefix, replacement) in &self.replacements {
            text = text.replace(prefix.as_str(), replacement);
        }
        text
    }

    /// A machine path left in `text`, if any.
    fn leaked_path(&self, text: &str) -> Option<String> {
        let home = std::env::var("HOME").ok().filter(|home| home.len() > 1);
        let temp = path_arg(&std::env::temp_dir());
        let mut suspects: Vec<String> = self
            .replacements
            .iter()
            .map(|(prefix, _)| prefix.clone())
            .collect();
        suspects.extend(home);
        suspects.push(temp);
        suspects
            .into_iter()
            .find(|suspect| text.contains(suspect.as_str()))
    }
}

/// Removes the `/rustc/<commit hash>/` prefix rustc puts on standard library
/// paths, leaving `library/std/src/...`.
pub fn strip_rustc_remap(text: &str) -> String {
    const PREFIX: &str = "/rustc/";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(PREFIX) {
        out.push_str(&rest[..at]);
        let after = &rest[at + PREFIX.len()..];
        let hash_len = after.chars().take_while(char::is_ascii_hexdigit).count();
        if hash_len >= 7 && after[hash_len..].starts_with('/') {
            rest = &after[hash_len + 1..];
        } else {
            out.push_str(PREFIX);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// The cargo target directory: the ancestor of this executable that holds
/// Cargo's `CACHEDIR.TAG`, else `$CARGO_TARGET_DIR`.
fn target_dir() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this executable's path: {e}"))?;
    if let Some(found) = exe
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
    {
        return Ok(found.to_path_buf());
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => Ok(PathBuf::from(dir)),
        _ => Err(format!(
            "cannot find the cargo target directory above {}; run through cargo \
             or set CARGO_TARGET_DIR to an absolute path",
            exe.display()
        )),
    }
}

fn cargo_home() -> Option<PathBuf> {
    match std::env::var_os("CARGO_HOME") {
        Some(home) => Some(PathBuf::from(home)),
        None => std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
