//! `cargo workbook trace -p PKG [--bin B | --test T | --example E] [-- ARGS]`:
//! records every `malloc`, `free` and `realloc` of one of the workspace's
//! programs, unchanged, and draws the heap over the run.
//!
//! The program runs with the `heap-trace-preload` library preloaded
//! (`LD_PRELOAD`), which records each C allocation call into a fixed
//! buffer and writes it out when the program exits. A package without a
//! program (an exercise, a library) is traced through its test binaries,
//! run one test at a time. The trace, two SVG pictures and a page showing
//! them go to `<target>/heap-trace/<package>[-<target>]/`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use heap_picture::text::escape;
use heap_trace::{Kind, Trace};
use serde_json::Value;
use workbook_support::workspace::{Package, Workspace};

use workbook_support::process as bounded;

use crate::project;

/// A traced run that has not ended by then is stopped (a test that
/// deadlocks would otherwise hold the command forever).
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// The pictures draw at most this many events (the first ones): a test
/// binary can make a hundred thousand calls, and an SVG of every one is tens
/// of megabytes that no browser shows well. The trace file keeps them all.
const PICTURE_EVENTS: usize = 10_000;

/// The preload library's package: built in release, it is on the path of
/// every allocation the program makes.
const PRELOAD_PACKAGE: &str = "heap-trace-preload";

/// What to trace, as given on the command line.
#[derive(Debug, Default, PartialEq)]
pub struct Request {
    pub package: String,
    pub target: Option<Target>,
    /// For the program, after `--`.
    pub args: Vec<String>,
}

/// `--bin`, `--test` or `--example`.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Bin(String),
    Test(String),
    Example(String),
}

pub fn run(request: Request) -> Result<(), String> {
    let root = project::root()?;
    let workspace = Workspace::load(&root)?;
    let package = workspace.package(&request.package)?;
    let choice = choose(package, request.target.as_ref())?;
    println!(
        "building {PRELOAD_PACKAGE} (release) and `{}` …",
        package.name
    );
    let preload = build_preload(&root)?;
    let programs = build(&root, package, &choice)?;
    if programs.is_empty() {
        return Err(format!(
            "package `{}` built no test binary to trace",
            package.name
        ));
    }
    let mut failures = Vec::new();
    for program in &programs {
        let dir = workspace
            .target_dir
            .join("heap-trace")
            .join(program.dir_name(&package.name));
        if let Err(e) = trace_one(program, &preload, &dir, &request.args, &package.dir) {
            eprintln!("error: {e}");
            failures.push(program.label.clone());
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("no trace written for {}", failures.join(", ")))
    }
}

/// What a package's request comes to.
#[derive(Debug, PartialEq)]
enum Choice {
    Bin(String),
    Example(String),
    /// The package's test binaries: one target, or all of them.
    Tests(Option<String>),
}

/// The program a request names in `package`, or its tests.
fn choose(package: &Package, target: Option<&Target>) -> Result<Choice, String> {
    let name = &package.name;
    let check = |(kind, kinds): (&str, &str), wanted: &str, have: &[String]| {
        if have.iter().any(|h| h == wanted) {
            Ok(())
        } else if have.is_empty() {
            Err(format!(
                "package `{name}` has no {kinds}, so no {kind} `{wanted}`"
            ))
        } else {
            Err(format!(
                "package `{name}` has no {kind} `{wanted}`; its {kinds}: {}",
                have.join(", ")
            ))
        }
    };
    match target {
        Some(Target::Bin(bin)) => {
            check(("binary", "binaries"), bin, &package.bins)?;
            Ok(Choice::Bin(bin.clone()))
        }
        Some(Target::Example(example)) => {
            check(("example", "examples"), example, &package.examples)?;
            Ok(Choice::Example(example.clone()))
        }
        Some(Target::Test(test)) => {
            check(("test target", "test targets"), test, &package.tests)?;
            Ok(Choice::Tests(Some(test.clone())))
        }
        None => match package.bins.as_slice() {
            [bin] => Ok(Choice::Bin(bin.clone())),
            [] if package.has_lib || !package.tests.is_empty() => Ok(Choice::Tests(None)),
            [] => Err(format!(
                "package `{name}` has no program and no tests to trace"
            )),
            bins => match &package.default_run {
                Some(bin) => Ok(Choice::Bin(bin.clone())),
                None => Err(format!(
                    "package `{name}` has {} binaries: pick one with `--bin`: {}",
                    bins.len(),
                    bins.join(", ")
                )),
            },
        },
    }
}

/// A built program to trace.
struct Program {
    /// How it is shown: `counting`, `exercise-3 test bump`.
    label: String,
    exe: PathBuf,
    /// The target's name, or `None` for a package's own binary (named as
    /// the package) and a library's unit tests.
    target: Option<String>,
    /// A libtest binary: it runs one test at a time.
    libtest: bool,
}

impl Program {
    /// `<package>` or `<package>-<target>`.
    fn dir_name(&self, package: &str) -> String {
        match &self.target {
            Some(target) => format!("{package}-{target}"),
            None => package.to_owned(),
        }
    }
}

/// Runs a cargo build with JSON messages on standard output (diagnostics
/// rendered to standard error, as usual) and returns the artifacts.
fn cargo_artifacts(root: &Path, args: &[&str]) -> Result<Vec<Value>, String> {
    let mut cmd = project::cargo(root);
    cmd.args(args)
        .args(["--quiet", "--message-format=json-render-diagnostics"])
        .stderr(std::process::Stdio::inherit());
    let out = project::output(&mut cmd)?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed (its errors are above)",
            project::describe(&cmd)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .collect())
}

fn build_preload(root: &Path) -> Result<PathBuf, String> {
    let artifacts = cargo_artifacts(root, &["build", "--release", "-p", PRELOAD_PACKAGE])?;
    artifacts
        .iter()
        .filter(|a| {
            a["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .flat_map(|a| a["filenames"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .find(|f| f.ends_with(".so"))
        .map(PathBuf::from)
        .ok_or_else(|| {
            format!(
                "building {PRELOAD_PACKAGE} gave no shared library: tracing needs Linux with glibc"
            )
        })
}

fn build(root: &Path, package: &Package, choice: &Choice) -> Result<Vec<Program>, String> {
    let name = package.name.as_str();
    let (args, libtest): (Vec<&str>, bool) = match choice {
        Choice::Bin(bin) => (vec!["build", "-p", name, "--bin", bin], false),
        Choice::Example(example) => (vec!["build", "-p", name, "--example", example], false),
        Choice::Tests(Some(test)) => (vec!["test", "--no-run", "-p", name, "--test", test], true),
        Choice::Tests(None) => (vec!["test", "--no-run", "-p", name], true),
    };
    let artifacts = cargo_artifacts(root, &args)?;
    let mut programs = Vec::new();
    for artifact in &artifacts {
        let Some(exe) = artifact["executable"].as_str() else {
            continue;
        };
        let target = artifact["target"]["name"].as_str().unwrap_or_default();
        let kinds = &artifact["target"]["kind"];
        let is_kind = |kind: &str| {
            kinds
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == kind))
        };
        let is_test = artifact["profile"]["test"] == true;
        let program = match choice {
            Choice::Bin(bin) if is_kind("bin") && target == bin && !is_test => Program {
                label: name.to_owned(),
                exe: exe.into(),
                target: (bin != name).then(|| bin.clone()),
                libtest,
            },
            Choice::Example(example) if is_kind("example") && target == example => Program {
                label: format!("{name} example {example}"),
                exe: exe.into(),
                target: Some(example.clone()),
                libtest,
            },
            Choice::Tests(only) if is_test && only.as_ref().is_none_or(|t| t == target) => {
                // A library's (and a binary's) unit tests carry the crate's
                // name; integration tests their file's.
                let unit = !is_kind("test");
                Program {
                    label: if unit {
                        format!("{name} unit tests")
                    } else {
                        format!("{name} test {target}")
                    },
                    exe: exe.into(),
                    target: Some(if unit {
                        "unittests".to_owned()
                    } else {
                        target.to_owned()
                    }),
                    libtest,
                }
            }
            _ => continue,
        };
        programs.push(program);
    }
    if !matches!(choice, Choice::Tests(None)) {
        return Ok(programs);
    }
    // Leave out test binaries without tests (a library with no unit tests
    // still gets a harness): they would only trace the harness.
    let mut with_tests = Vec::new();
    for program in programs {
        if count_tests(&program.exe)? == 0 {
            println!("  {}: no tests, not traced", program.label);
        } else {
            with_tests.push(program);
        }
    }
    Ok(with_tests)
}

/// How many tests a libtest binary has.
fn count_tests(exe: &Path) -> Result<usize, String> {
    let mut cmd = Command::new(exe);
    cmd.args(["--list", "--format", "terse"]);
    let out = project::output(&mut cmd)?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.ends_with(": test"))
        .count())
}

/// The files of one trace.
const RECORDED: &str = "recorded.jsonl";
const TRACE: &str = "trace.jsonl";
const LIVE_BYTES: &str = "live-bytes.svg";
const BLOCK_MAP: &str = "block-map.svg";
const PAGE: &str = "index.html";

fn trace_one(
    program: &Program,
    preload: &Path,
    dir: &Path,
    args: &[String],
    package_dir: &Path,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // A run that writes nothing must not leave an earlier run's files.
    for file in [RECORDED, TRACE, LIVE_BYTES, BLOCK_MAP, PAGE] {
        let path = dir.join(file);
        if path.exists() {
            std::fs::remove_file(&path)
                .map_err(|e| format!("cannot remove the old {}: {e}", path.display()))?;
        }
    }
    let recorded = dir.join(RECORDED);
    let mut cmd = Command::new(&program.exe);
    if program.libtest {
        cmd.arg("--test-threads=1")
            .current_dir(package_dir)
            .env("CARGO_MANIFEST_DIR", package_dir);
    }
    cmd.args(args);
    let shown = project::describe(&cmd);
    // A panic's backtrace is symbolised with thousands of allocations,
    // which would bury the program's own.
    cmd.env("RUST_BACKTRACE", "0");
    let mut preloads = preload.as_os_str().to_owned();
    if let Some(more) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
        preloads.push(":");
        preloads.push(more);
    }
    cmd.env("LD_PRELOAD", preloads)
        .env("HEAP_TRACE_OUT", &recorded);

    println!("\nrecording {}: `{shown}` …", program.label);
    let done = bounded::run_merged(&mut cmd, RUN_LIMIT)?;
    let output = done.output.trim_end();
    if !output.is_empty() {
        println!("{output}");
    }
    let ended = match done.status {
        None => {
            return Err(format!(
                "`{shown}` did not end within {} s and was stopped: no trace written \
                 (the preload library writes it when the program exits)",
                RUN_LIMIT.as_secs()
            ));
        }
        Some(status) => status,
    };
    let how = describe_exit(ended);
    let Ok(text) = std::fs::read_to_string(&recorded) else {
        return Err(format!(
            "{} {how}, and no trace was written: the events are written by an exit \
             handler, which a crash, `std::process::abort` or `_exit` skips{}",
            program.label,
            if ended.success() {
                " (or the preload library could not be loaded: see the program's output above)"
            } else {
                ""
            }
        ));
    };
    let mut trace = Trace::parse(&text).map_err(|e| {
        format!(
            "the recorded trace {} does not parse: {e}",
            recorded.display()
        )
    })?;
    let completed = complete(&mut trace);

    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(TRACE, &trace.to_json_lines())?;
    let _ = std::fs::remove_file(&recorded);
    let title = format!("The heap of {}", program.label);
    let first_part;
    let drawn = if trace.events.len() > PICTURE_EVENTS {
        first_part = Trace {
            events: trace
                .events
                .get(..PICTURE_EVENTS)
                .unwrap_or_default()
                .to_vec(),
            dropped: trace.dropped,
        };
        &first_part
    } else {
        &trace
    };
    let live_svg = heap_picture::live_bytes_svg(
        drawn,
        &heap_picture::Options {
            title: format!("Live bytes over the run of {}", program.label),
            ..Default::default()
        },
    );
    let map_svg = heap_picture::block_map_svg(
        drawn,
        &heap_picture::Options {
            title: format!("Blocks by address over the run of {}", program.label),
            ..Default::default()
        },
    );
    write(LIVE_BYTES, &live_svg)?;
    write(BLOCK_MAP, &map_svg)?;
    let summary = Summary::of(&trace, completed);
    write(
        PAGE,
        &page(&title, &shown, &how, &summary, &live_svg, &map_svg),
    )?;

    println!(
        "\n{} {how}. Its heap trace is in {}:",
        program.label,
        dir.display()
    );
    for name in [TRACE, LIVE_BYTES, BLOCK_MAP, PAGE] {
        println!("  {}", dir.join(name).display());
    }
    for line in summary.lines() {
        println!("{line}");
    }
    if let Some(note) = unseen_allocations(&trace, &program.exe) {
        println!("{note}");
    }
    if !ended.success() {
        if program.libtest {
            println!(
                "Note: {} {how}: some tests failed (their messages are above). The trace \
                 covers every test, failing ones included.",
                program.label
            );
        } else {
            println!(
                "Note: {} {how}; the trace covers the run up to its exit.",
                program.label
            );
        }
    }
    Ok(())
}

/// Why a trace may miss the program's own allocations: a global allocator
/// that does not call `malloc` gets its memory from the kernel (`mmap`) or
/// from a static, so only the C library's own calls are recorded.
fn unseen_allocations(trace: &Trace, exe: &Path) -> Option<String> {
    let binary = std::fs::read(exe).unwrap_or_default();
    let contains = |needle: &[u8]| binary.windows(needle.len()).any(|w| w == needle);
    let linked: Vec<&str> = [
        ("mimalloc", &b"mi_malloc_aligned"[..]),
        ("jemalloc", b"_rjem_"),
    ]
    .into_iter()
    .filter(|(_, symbol)| contains(symbol))
    .map(|(name, _)| name)
    .collect();
    if !linked.is_empty() {
        return Some(format!(
            "Note: this program contains {}, which gets its memory from the kernel, not from \
             malloc: blocks it hands out do not appear in the trace (the ones that do come from \
             the C library and from allocators that call malloc).",
            linked.join(" and ")
        ));
    }
    trace.events.is_empty().then(|| {
        "No malloc call was recorded: this program's global allocator does not call malloc \
         (mimalloc and jemalloc get their memory from the kernel, an arena from a static), \
         and the C library allocated nothing either."
            .to_owned()
    })
}

/// "exited normally", "exited with failure (exit code 101)", "was killed by
/// signal 11 (SIGSEGV)".
fn describe_exit(status: std::process::ExitStatus) -> String {
    if status.success() {
        return "exited normally".to_owned();
    }
    if let Some(code) = status.code() {
        return format!("exited with failure (exit code {code})");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                4 => " (SIGILL)",
                6 => " (SIGABRT: an abort, e.g. a panic while panicking or a failed allocation)",
                7 => " (SIGBUS)",
                8 => " (SIGFPE)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV: an invalid memory access)",
                15 => " (SIGTERM)",
                _ => "",
            };
            return format!("was killed by signal {signal}{name}");
        }
    }
    format!("ended with {status}")
}

/// What the recording could not know, filled in from the trace itself.
#[derive(Debug, Default, PartialEq)]
struct Completed {
    /// Frees (and reallocs) of blocks allocated before recording began:
    /// their size stays 0.
    unknown_blocks: usize,
    /// Allocations of an address the trace still holds live: a recording
    /// whose order is wrong (a free recorded after the allocation that
    /// reused its block), or a free that bypassed `free`.
    reused_while_live: usize,
    threads: usize,
}

/// Fills in what C's `free` and `realloc` do not say (a freed block's size
/// and alignment, a realloc's old size) from the block's allocation, and
/// numbers the threads 1, 2, … in order of their first event (the preload
/// records kernel thread ids).
fn complete(trace: &mut Trace) -> Completed {
    let mut live: HashMap<usize, (usize, usize)> = HashMap::new();
    let mut threads: HashMap<u32, u32> = HashMap::new();
    let mut unknown_blocks = 0;
    let mut reused_while_live = 0;
    for event in &mut trace.events {
        let next = u32::try_from(threads.len() + 1).unwrap_or(u32::MAX);
        event.thread = *threads.entry(event.thread).or_insert(next);
        match event.kind {
            Kind::Alloc | Kind::AllocZeroed => {
                if live.insert(event.addr, (event.size, event.align)).is_some() {
                    reused_while_live += 1;
                }
            }
            Kind::Dealloc => match live.remove(&event.addr) {
                Some((size, align)) => (event.size, event.align) = (size, align),
                None => unknown_blocks += 1,
            },
            Kind::Realloc => {
                let old = live.remove(&event.old_addr);
                match old {
                    Some((size, _)) => event.old_size = size,
                    None => unknown_blocks += 1,
                }
                if event.addr != 0 {
                    if live.insert(event.addr, (event.size, event.align)).is_some() {
                        reused_while_live += 1;
                    }
                } else if let Some(old) = old {
                    // A failed realloc leaves the old block where it was.
                    live.insert(event.old_addr, old);
                }
            }
        }
    }
    Completed {
        unknown_blocks,
        reused_while_live,
        threads: threads.len(),
    }
}

/// The numbers printed after a run and shown on the page.
struct Summary {
    /// What the trace's events add up to (the numbers the book's pictures
    /// use).
    counted: heap_picture::Summary,
    /// What completing the trace found out.
    completed: Completed,
}

impl Summary {
    fn of(trace: &Trace, completed: Completed) -> Self {
        Self {
            counted: heap_picture::summary(trace),
            completed,
        }
    }

    fn lines(&self) -> Vec<String> {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut lines = vec![
            format!(
                "  {}: {}, {}, {}, on {}",
                plural(self.counted.events, "event", "events"),
                plural(self.counted.allocs, "allocation", "allocations"),
                plural(self.counted.deallocs, "free", "frees"),
                plural(self.counted.reallocs, "realloc", "reallocs"),
                plural(self.completed.threads, "thread", "threads"),
            ),
            format!(
                "  peak live bytes: {} ({}); still live at exit: {}",
                self.counted.peak_live,
                heap_picture::text::human_bytes(self.counted.peak_live as u64),
                self.counted.final_live
            ),
            if self.counted.dropped == 0 {
                "  dropped: 0 (every call was recorded)".to_owned()
            } else {
                format!(
                    "  dropped: {} calls after the recorder's buffer filled up (the trace \
                     holds the start of the run)",
                    self.counted.dropped
                )
            },
        ];
        if self.counted.events > PICTURE_EVENTS {
            lines.push(format!(
                "  the pictures show the first {PICTURE_EVENTS} of the {} events",
                self.counted.events
            ));
        }
        if self.completed.unknown_blocks > 0 {
            lines.push(format!(
                "  {} of the frees and reallocs were of blocks allocated before recording began \
                 (their size is unknown: counted as 0)",
                self.completed.unknown_blocks
            ));
        }
        if self.completed.reused_while_live > 0 {
            lines.push(format!(
                "  warning: {} allocations returned an address the trace still held live: \
                 the recording's order is wrong, or a block was freed without `free`",
                self.completed.reused_while_live
            ));
        }
        lines
    }
}

/// A page with the summary and both pictures inline, no external resources.
fn page(
    title: &str,
    command: &str,
    how: &str,
    summary: &Summary,
    live_svg: &str,
    map_svg: &str,
) -> String {
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; max-width: 760px; margin: 2em auto; \
         padding: 0 1em; color: #222; background: #fff; }}\n\
         code {{ font-size: 0.95em; }}\n\
         figure {{ margin: 1.5em 0; }}\n\
         svg {{ max-width: 100%; height: auto; }}\n\
         </style>\n</head>\n<body>\n<h1>{title}</h1>\n\
         <p>Recorded by <code>cargo workbook trace</code>: every <code>malloc</code>, \
         <code>free</code> and <code>realloc</code> of <code>{command}</code>, which {how}.</p>\n\
         <ul>\n",
        title = escape(title),
        command = escape(command),
        how = escape(how),
    );
    for line in summary.lines() {
        let _ = writeln!(html, "<li>{}</li>", escape(line.trim()));
    }
    let _ = write!(
        html,
        "</ul>\n<figure>\n{live_svg}\n</figure>\n<figure>\n{map_svg}\n</figure>\n\
         <p>The events: <a href=\"{TRACE}\">{TRACE}</a> (JSON lines; the pictures are \
         also in <a href=\"{LIVE_BYTES}\">{LIVE_BYTES}</a> and \
         <a href=\"{BLOCK_MAP}\">{BLOCK_MAP}</a>).</p>\n</body>\n</html>\n"
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use heap_trace::Event;

    fn package(bins: &[&str], tests: &[&str], has_lib: bool) -> Package {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        Package {
            name: "pkg".into(),
            dir: PathBuf::new(),
            bins: names(bins),
            tests: names(tests),
            examples: Vec::new(),
            has_lib,
            default_run: None,
            target_sources: Vec::new(),
            path_deps: Vec::new(),
        }
    }

    #[test]
    fn a_package_comes_to_its_one_binary_or_its_tests() {
        let listing = package(&["pkg"], &["more"], true);
        assert_eq!(choose(&listing, None), Ok(Choice::Bin("pkg".into())));
        let exercise = package(&[], &["bump"], true);
        assert_eq!(choose(&exercise, None), Ok(Choice::Tests(None)));
        assert_eq!(
            choose(&exercise, Some(&Target::Test("bump".into()))),
            Ok(Choice::Tests(Some("bump".into())))
        );
        let two = package(&["a", "b"], &[], false);
        assert_eq!(
            choose(&two, None).unwrap_err(),
            "package `pkg` has 2 binaries: pick one with `--bin`: a, b"
        );
        assert_eq!(
            choose(&listing, Some(&Target::Bin("other".into()))).unwrap_err(),
            "package `pkg` has no binary `other`; its binaries: pkg"
        );
    }

    fn event(seq: u64, thread: u32, kind: Kind, addr: usize, size: usize) -> Event {
        Event {
            seq,
            thread,
            kind,
            addr,
            size,
            align: 16,
            old_addr: 0,
            old_size: 0,
        }
    }

    #[test]
    fn sizes_of_frees_and_reallocs_come_from_the_allocations() {
        let mut trace = Trace {
            events: vec![
                event(0, 9001, Kind::Alloc, 0x1000, 24),
                Event {
                    old_addr: 0x1000,
                    ..event(1, 42, Kind::Realloc, 0x2000, 48)
                },
                // A failed realloc: the block stays at 0x2000.
                Event {
                    old_addr: 0x2000,
                    ..event(2, 9001, Kind::Realloc, 0, 1 << 40)
                },
                Event {
                    align: 0,
                    ..event(3, 42, Kind::Dealloc, 0x2000, 0)
                },
                // Allocated before recording began.
                event(4, 7, Kind::Dealloc, 0x9000, 0),
            ],
            dropped: 0,
        };
        let completed = complete(&mut trace);
        assert_eq!(
            completed,
            Completed {
                unknown_blocks: 1,
                reused_while_live: 0,
                threads: 3
            }
        );
        let threads: Vec<u32> = trace.events.iter().map(|e| e.thread).collect();
        assert_eq!(threads, [1, 2, 1, 2, 3]);
        assert_eq!(trace.events[1].old_size, 24);
        assert_eq!(trace.events[2].old_size, 48);
        assert_eq!((trace.events[3].size, trace.events[3].align), (48, 16));
        assert_eq!(trace.events[4].size, 0);
        assert_eq!(trace.live_bytes(), [24, 48, 48, 0, 0]);
    }

    /// The check behind the summary's warning, on the order a recorder
    /// gets wrong when a free takes its slot after the C library already has
    /// the block back: another thread's malloc of the same block comes first.
    #[test]
    fn an_allocation_of_a_live_address_is_counted() {
        let right = vec![
            event(0, 1, Kind::Alloc, 0x1000, 64),
            event(1, 1, Kind::Dealloc, 0x1000, 0),
            event(2, 2, Kind::Alloc, 0x1000, 64),
        ];
        let mut wrong = right.clone();
        wrong.swap(1, 2);
        let reused =
            |events: Vec<Event>| complete(&mut Trace { events, dropped: 0 }).reused_while_live;
        assert_eq!(reused(right), 0);
        assert_eq!(reused(wrong), 1);
        let moved_onto_a_live_block = vec![
            event(0, 1, Kind::Alloc, 0x1000, 64),
            event(1, 1, Kind::Alloc, 0x2000, 64),
            Event {
                old_addr: 0x2000,
                ..event(2, 1, Kind::Realloc, 0x1000, 128)
            },
        ];
        assert_eq!(reused(moved_onto_a_live_block), 1);
    }

    #[test]
    fn exits_are_described() {
        use std::os::unix::process::ExitStatusExt;
        let status = std::process::ExitStatus::from_raw;
        assert_eq!(describe_exit(status(0)), "exited normally");
        assert_eq!(
            describe_exit(status(101 << 8)),
            "exited with failure (exit code 101)"
        );
        assert!(describe_exit(status(11)).starts_with("was killed by signal 11 (SIGSEGV"));
    }

    #[test]
    fn the_page_escapes_its_text() {
        let summary = Summary::of(&Trace::default(), Completed::default());
        let html = page(
            "a<b",
            "prog --x=\"1\"",
            "exited normally",
            &summary,
            "<svg/>",
            "<svg/>",
        );
        assert!(html.contains("<title>a&lt;b</title>"));
        assert!(html.contains("prog --x=&quot;1&quot;"));
        assert!(
            html.contains("<li>0 events: 0 allocations, 0 frees, 0 reallocs, on 0 threads</li>")
        );
    }
}
