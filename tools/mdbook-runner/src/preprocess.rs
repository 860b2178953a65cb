//! Replaces the directives of every chapter with real results, or collects
//! every reason it cannot (each as `src/chapter.md:LINE: message`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::{Book, BookItem};
use wrong_answer_check::run_with_timeout;

use crate::cache::{Key, Store};
use crate::directive::{self, Directive};
use crate::widget;
use crate::workspace::{Package, Workspace, cargo};

/// The package whose `show CASE` prints a pitfall's real diagnostic.
const PITFALLS_PACKAGE: &str = "pitfalls";

/// How long one program may run before the build gives up on it, unless
/// `[preprocessor.runner] timeout-secs` says otherwise. Generous: a pitfall
/// case may compile jemalloc from scratch on a busy machine.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// Where a directive appears, as the chapter's author sees it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Site {
    file: String,
    line: usize,
}

impl Site {
    fn error(&self, message: &str) -> String {
        format!("{}:{}: {message}", self.file, self.line)
    }
}

/// One program to run (a `{{#run}}` or `{{#pitfall}}`), shared by every
/// directive that asks for exactly the same thing.
struct Job {
    directive: Directive,
    sites: Vec<Site>,
    package: String,
    bin: String,
    args: Vec<String>,
    /// Built and run with the release profile.
    release: bool,
    key: String,
}

pub fn run(ctx: &PreprocessorContext, mut book: Book) -> Result<Book, Vec<String>> {
    let timeout = ctx
        .config
        .get::<u64>("preprocessor.runner.timeout-secs")
        .map_err(|e| vec![format!("book.toml: preprocessor.runner.timeout-secs: {e}")])?
        .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
    let src_dir = ctx.config.book.src.clone();

    let mut errors = Vec::new();
    let mut chapters: BTreeMap<PathBuf, Vec<directive::Found>> = BTreeMap::new();
    let mut sites: BTreeMap<Directive, Vec<Site>> = BTreeMap::new();
    for item in book.iter() {
        let BookItem::Chapter(chapter) = item else {
            continue;
        };
        let Some(path) = &chapter.path else {
            continue;
        };
        let file = src_dir
            .join(chapter.source_path.as_ref().unwrap_or(path))
            .to_string_lossy()
            .into_owned();
        let (found, malformed) = directive::scan(&chapter.content);
        for bad in malformed {
            errors.push(format!("{file}:{}: {}", bad.line, bad.message));
        }
        for f in &found {
            sites.entry(f.directive.clone()).or_default().push(Site {
                file: file.clone(),
                line: f.line,
            });
        }
        if !found.is_empty() {
            chapters.insert(path.clone(), found);
        }
    }

    // Widgets need no program: check their names, render them per chapter.
    let (widgets, sites): (BTreeMap<_, _>, BTreeMap<_, _>) = sites
        .into_iter()
        .partition(|(d, _)| matches!(d, Directive::Widget { .. }));
    if !widgets.is_empty() {
        match Workspace::find(&ctx.root).and_then(|ws| widget::known(&ws.root)) {
            Ok(known) => {
                for (directive, where_used) in &widgets {
                    if let Directive::Widget { name } = directive
                        && !known.contains(name)
                    {
                        let message = format!(
                            "`{}`: the playground has no widget `{name}`; {} defines {}",
                            directive.canonical(),
                            widget::WIDGETS_JS,
                            known.join(", ")
                        );
                        errors.extend(where_used.iter().map(|s| s.error(&message)));
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }

    let results = if sites.is_empty() {
        BTreeMap::new()
    } else {
        match results_for(&ctx.root, sites, timeout) {
            Ok((results, failures)) => {
                errors.extend(failures);
                results
            }
            Err(e) => {
                errors.push(e);
                BTreeMap::new()
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }

    book.for_each_chapter_mut(|chapter| {
        let Some(found) = chapter.path.as_ref().and_then(|p| chapters.get(p)) else {
            return;
        };
        // Replace from the end so earlier spans stay valid.
        let path = chapter.path.clone().unwrap_or_default();
        for f in found.iter().rev() {
            if let Directive::Widget { name } = &f.directive {
                let text = widget::html(name, &path).replace('\n', &format!("\n{}", f.indent));
                chapter.content.replace_range(f.span.clone(), &text);
            } else if let Some(text) = results.get(&f.directive) {
                let text = text.replace('\n', &format!("\n{}", f.indent));
                chapter.content.replace_range(f.span.clone(), &text);
            }
        }
    });
    Ok(book)
}

/// The text each directive becomes, and the errors of those that failed.
type Results = (BTreeMap<Directive, String>, Vec<String>);

fn results_for(
    book_root: &Path,
    sites: BTreeMap<Directive, Vec<Site>>,
    timeout: Duration,
) -> Result<Results, String> {
    let (wrong_answers, programs): (BTreeMap<_, _>, BTreeMap<_, _>) = sites
        .into_iter()
        .partition(|(d, _)| matches!(d, Directive::WrongAnswer { .. }));
    let (mut results, mut errors) = if programs.is_empty() {
        (BTreeMap::new(), Vec::new())
    } else {
        program_results(book_root, programs, timeout)?
    };
    if !wrong_answers.is_empty() {
        let (shown, failed) = wrong_answer_results(book_root, wrong_answers, timeout)?;
        results.extend(shown);
        errors.extend(failed);
    }
    Ok((results, errors))
}

/// `{{#wrong-answer PACKAGE}}`: the failure each wrong answer's tests
/// produce, proven by `wrong-answer-check` (the same code, and the same
/// cache under the target directory, as the gallery step of
/// `cargo workbook test`); an error where a wrong answer is not rejected.
fn wrong_answer_results(
    book_root: &Path,
    sites: BTreeMap<Directive, Vec<Site>>,
    timeout: Duration,
) -> Result<Results, String> {
    let root = Workspace::find(book_root)?.root;
    let mut results = BTreeMap::new();
    let mut errors = Vec::new();
    let mut wanted = Vec::new();
    for (directive, where_used) in sites {
        let Directive::WrongAnswer { package } = &directive else {
            continue;
        };
        match wrong_answer_check::by_package(&root, package) {
            Ok(answer) => wanted.push((directive, where_used, answer)),
            Err(e) => errors.extend(where_used.iter().map(|s| s.error(&e))),
        }
    }
    let answers: Vec<_> = wanted.iter().map(|(_, _, a)| a.clone()).collect();
    progress(&format!(
        "proving {} wrong answer(s) rejected by their exercises' tests",
        answers.len()
    ));
    let proofs = wrong_answer_check::prove_rejected(
        &root,
        &target_dir(&root),
        &answers,
        timeout,
        &|message| progress(message),
    );
    for ((directive, where_used, answer), proof) in wanted.into_iter().zip(proofs) {
        match proof {
            Ok(rejection) => {
                results.insert(directive, code_block(&rejection.report));
            }
            Err(e) => {
                let message = format!(
                    "`{}` cannot show {}'s failure: {e}",
                    directive.canonical(),
                    answer.package
                );
                errors.extend(where_used.iter().map(|s| s.error(&message)));
            }
        }
    }
    Ok((results, errors))
}

/// The programs `{{#run}}` and `{{#pitfall}}` run, and `{{#toolchain}}`.
fn program_results(
    book_root: &Path,
    sites: BTreeMap<Directive, Vec<Site>>,
    timeout: Duration,
) -> Result<Results, String> {
    let rustc_version = rustc_version(book_root)?;
    let mut results = BTreeMap::new();
    let mut errors = Vec::new();
    let mut jobs = Vec::new();
    let mut workspace = None;
    for (directive, where_used) in sites {
        let (package, requested_bin, args, release) = match &directive {
            Directive::Toolchain => {
                results.insert(directive, rustc_version.clone());
                continue;
            }
            // Handled by `wrong_answer_results` and by `run` itself.
            Directive::WrongAnswer { .. } | Directive::Widget { .. } => continue,
            Directive::Run(spec) => (
                spec.package.clone(),
                spec.bin.clone(),
                spec.args.clone(),
                spec.release,
            ),
            Directive::Pitfall { case } => (
                PITFALLS_PACKAGE.to_owned(),
                None,
                vec!["show".to_owned(), case.clone()],
                false,
            ),
        };
        let ws = match &workspace {
            Some(ws) => ws,
            None => workspace.insert(Workspace::find(book_root)?),
        };
        let resolved = ws
            .package(&package)
            .and_then(|p| Ok((p, p.binary(requested_bin.as_deref())?)));
        match resolved {
            Ok((pkg, bin)) => {
                let key = cache_key(ws, pkg, &directive, &rustc_version)?;
                jobs.push(Job {
                    directive,
                    sites: where_used,
                    package,
                    bin,
                    args,
                    release,
                    key,
                });
            }
            Err(e) => errors.extend(where_used.iter().map(|s| s.error(&e))),
        }
    }
    let Some(ws) = workspace else {
        return Ok((results, errors));
    };

    let target_dir = target_dir(&ws.root);
    let store = Store::new(target_dir.join("book-runner").join("cache"));
    let (cached, to_run): (Vec<Job>, Vec<Job>) =
        jobs.into_iter().partition(|j| store.get(&j.key).is_some());
    for job in cached {
        if let Some(output) = store.get(&job.key) {
            let shown = rendered(&job.directive, &output);
            results.insert(job.directive, shown);
        }
    }
    if to_run.is_empty() {
        progress(&format!("all {} results are cached", results.len()));
        return Ok((results, errors));
    }

    let broken = build(&ws.root, &target_dir, &to_run);
    let (runnable, unbuildable): (Vec<Job>, Vec<Job>) = to_run
        .into_iter()
        .partition(|j| !broken.contains_key(&j.package));
    for job in unbuildable {
        let message = format!(
            "package `{}` does not build:\n{}",
            job.package, broken[&job.package]
        );
        errors.extend(job.sites.iter().map(|s| s.error(&message)));
    }

    let outcomes = run_all(&ws.root, &target_dir, &runnable, timeout);
    for (job, outcome) in runnable.into_iter().zip(outcomes) {
        match outcome {
            Ok(output) => {
                store.put(&job.key, &output)?;
                let shown = rendered(&job.directive, &output);
                results.insert(job.directive, shown);
            }
            Err(e) => errors.extend(job.sites.iter().map(|s| s.error(&e))),
        }
    }
    Ok((results, errors))
}

/// Everything that can change a directive's output.
fn cache_key(
    ws: &Workspace,
    package: &Package,
    directive: &Directive,
    rustc_version: &str,
) -> Result<String, String> {
    let mut key = Key::new();
    key.add("directive", directive.canonical().as_bytes());
    key.add("rustc", rustc_version.as_bytes());
    for file in ["Cargo.lock", "Cargo.toml", ".cargo/config.toml"] {
        key.add_file(file, &ws.root.join(file));
    }
    for dir in ws.source_dirs(package) {
        key.add_tree(&dir, &ws.root)?;
    }
    Ok(key.hex())
}

/// The workspace's own target directory (`$CARGO_TARGET_DIR` or `target`),
/// so the programs the book runs reuse what `cargo build` and `cargo test`
/// already compiled instead of building everything a second time. Nothing
/// holds its lock while mdBook runs: `cargo workbook book` and `serve` are
/// started by `cargo run`, which releases the lock before the program starts
/// (a `cargo test` running at the same time just makes the runner wait).
pub fn target_dir(workspace_root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace_root.join(dir),
        None => workspace_root.join("target"),
    }
}

fn rustc_version(dir: &Path) -> Result<String, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .arg("--version")
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run `rustc --version`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`rustc --version` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn progress(message: &str) {
    eprintln!("[runner] {message}");
}

fn cargo_in(root: &Path, target_dir: &Path, subcommand: &str) -> Command {
    let mut cmd = cargo();
    cmd.current_dir(root)
        .args([subcommand, "--quiet", "--color", "never", "--target-dir"])
        .arg(target_dir)
        .env_remove("CARGO_TARGET_DIR");
    cmd
}

/// Builds every package the jobs need, once per profile they ask for;
/// returns the packages that do not build, each with cargo's errors. One
/// cargo invocation per profile builds them all; only when it fails is each
/// package built alone, to say which is broken.
fn build(root: &Path, target_dir: &Path, jobs: &[Job]) -> BTreeMap<String, String> {
    let mut broken = BTreeMap::new();
    for release in [false, true] {
        let packages: BTreeSet<&str> = jobs
            .iter()
            .filter(|j| j.release == release)
            .map(|j| j.package.as_str())
            .collect();
        if !packages.is_empty() {
            let names: Vec<&str> = packages.into_iter().collect();
            build_profile(root, target_dir, &names, release, &mut broken);
        }
    }
    broken
}

fn build_profile(
    root: &Path,
    target_dir: &Path,
    names: &[&str],
    release: bool,
    broken: &mut BTreeMap<String, String>,
) {
    let profile = if release { "release" } else { "dev" };
    progress(&format!(
        "building {} ({profile}; a first build compiles dependencies and can take minutes)",
        names.join(", ")
    ));
    let started = Instant::now();
    let build_some = |which: &[&str]| {
        let mut cmd = cargo_in(root, target_dir, "build");
        cmd.arg("--bins");
        if release {
            cmd.arg("--release");
        }
        for p in which {
            cmd.args(["--package", p]);
        }
        cmd.stdin(Stdio::null()).output()
    };
    match build_some(names) {
        Ok(out) if out.status.success() => {}
        _ => {
            for (i, name) in names.iter().enumerate() {
                progress(&format!(
                    "building {name} alone ({}/{})",
                    i + 1,
                    names.len()
                ));
                match build_some(&[name]) {
                    Ok(out) if out.status.success() => {}
                    Ok(out) => {
                        broken.insert(name.to_string(), tail(&out.stderr));
                    }
                    Err(e) => {
                        broken.insert(name.to_string(), format!("cannot start cargo: {e}"));
                    }
                }
            }
        }
    }
    progress(&format!(
        "built in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
}

/// Runs the jobs on a few threads; the outcomes come back in job order.
fn run_all(
    root: &Path,
    target_dir: &Path,
    jobs: &[Job],
    timeout: Duration,
) -> Vec<Result<String, String>> {
    // Release runs are measurements (the benchmark): they run one at a time,
    // after everything else, so no other program shares the CPU with them.
    let (alone, shared): (Vec<usize>, Vec<usize>) = (0..jobs.len()).partition(|&i| jobs[i].release);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let done = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Result<String, String>>>> =
        Mutex::new(jobs.iter().map(|_| None).collect());
    let pool = Pool {
        root,
        target_dir,
        jobs,
        timeout,
        done: &done,
        outcomes: &outcomes,
    };
    pool.run(&shared, workers);
    pool.run(&alone, 1);
    outcomes
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err("the run was lost (a worker thread panicked)".into())))
        .collect()
}

/// What the worker threads of [`run_all`] share.
struct Pool<'a> {
    root: &'a Path,
    target_dir: &'a Path,
    jobs: &'a [Job],
    timeout: Duration,
    done: &'a AtomicUsize,
    outcomes: &'a Mutex<Vec<Option<Result<String, String>>>>,
}

impl Pool<'_> {
    /// Runs the jobs at `indices` on up to `workers` threads.
    fn run(&self, indices: &[usize], workers: usize) {
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..workers.min(indices.len()) {
                scope.spawn(|| {
                    while let Some(&i) = indices.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let Some(job) = self.jobs.get(i) else { break };
                        let started = Instant::now();
                        let outcome = run_job(self.root, self.target_dir, job, self.timeout);
                        let finished = self.done.fetch_add(1, Ordering::Relaxed) + 1;
                        progress(&format!(
                            "[{finished}/{}] {} ({:.1} s)",
                            self.jobs.len(),
                            job.directive.canonical(),
                            started.elapsed().as_secs_f64()
                        ));
                        if let Ok(mut slots) = self.outcomes.lock()
                            && let Some(slot) = slots.get_mut(i)
                        {
                            *slot = Some(outcome);
                        }
                    }
                });
            }
        });
    }
}

/// Runs one job; Ok(stdout) when it ended the way the chapter expects.
fn run_job(root: &Path, target_dir: &Path, job: &Job, timeout: Duration) -> Result<String, String> {
    let mut cmd = cargo_in(root, target_dir, "run");
    let release = if job.release { " --release" } else { "" };
    if job.release {
        cmd.arg("--release");
    }
    cmd.args(["--package", &job.package, "--bin", &job.bin, "--"])
        .args(&job.args)
        .stdin(Stdio::null());
    let shown = format!(
        "cargo run{release} -p {} --bin {} -- {}",
        job.package,
        job.bin,
        job.args.join(" ")
    );
    let (status, stdout, stderr) = run_with_timeout(&mut cmd, timeout).map_err(|e| {
        let hint = if e.starts_with("still running") {
            " (raise `[preprocessor.runner] timeout-secs` if it needs longer)"
        } else {
            ""
        };
        format!("`{}`: {e}{hint}", shown.trim_end())
    })?;
    let code = status.code();
    let ended = code.map_or_else(|| status.to_string(), |c| format!("exited with status {c}"));
    match &job.directive {
        Directive::Pitfall { case } => match code {
            Some(0) => Ok(stdout),
            Some(1) => Err(format!(
                "pitfall case `{case}` did not fail the way it should:\n{}{}",
                stdout,
                tail(stderr.as_bytes())
            )),
            Some(2) => Err(format!(
                "unknown pitfall case `{case}` (`cargo run -p {PITFALLS_PACKAGE} -- list` names them):\n{}",
                tail(stderr.as_bytes())
            )),
            _ => Err(format!(
                "`{}` {ended}:\n{}",
                shown.trim_end(),
                tail(stderr.as_bytes())
            )),
        },
        Directive::Run(spec) => {
            let expected = spec.expect_exit.unwrap_or(0);
            if code == Some(expected) {
                return Ok(stdout);
            }
            let hint = if spec.expect_exit.is_none() {
                code.map(|c| format!(" (if that failure is the point, write `--expect-exit {c}`)"))
                    .unwrap_or_default()
            } else {
                String::new()
            };
            Err(format!(
                "`{}` {ended}, expected status {expected}{hint}:\n{}",
                shown.trim_end(),
                tail(stderr.as_bytes())
            ))
        }
        Directive::Toolchain | Directive::WrongAnswer { .. } | Directive::Widget { .. } => {
            Ok(stdout)
        }
    }
}

/// The end of a long error output: the part that names the problem.
fn tail(bytes: &[u8]) -> String {
    const KEEP: usize = 40;
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let skipped = lines.len().saturating_sub(KEEP);
    let mut out = String::new();
    if skipped > 0 {
        out.push_str(&format!("    ... ({skipped} lines before)\n"));
    }
    for line in &lines[skipped..] {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// What a directive's output becomes in the chapter: Markdown as it is for
/// `{{#run ... --markdown}}`, a `text` block otherwise.
fn rendered(directive: &Directive, output: &str) -> String {
    match directive {
        Directive::Run(spec) if spec.markdown => markdown(output),
        _ => code_block(output),
    }
}

/// Program output that is Markdown (tables, inline HTML), inserted as it is
/// apart from the escaping of [`escape_directive`].
pub fn markdown(output: &str) -> String {
    output
        .trim_end_matches('\n')
        .lines()
        .map(escape_directive)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line that mdBook's `links` step would read as a directive
/// (`{{#include ...}}`), escaped so it shows as written.
fn escape_directive(line: &str) -> String {
    match line.find("{{#") {
        Some(at) if line[at..].contains("}}") => format!("{}\\{}", &line[..at], &line[at..]),
        _ => line.to_owned(),
    }
}

/// Program output as a fenced `text` block. The fence is longer than any
/// backtick run in the output, and directive-like text is escaped
/// ([`escape_directive`]).
pub fn code_block(output: &str) -> String {
    let longest_run = output
        .lines()
        .map(|l| l.trim_start().bytes().take_while(|&b| b == b'`').count())
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let mut block = format!("{fence}text\n");
    for line in output.trim_end_matches('\n').lines() {
        block.push_str(&escape_directive(line));
        block.push('\n');
    }
    block.push_str(&fence);
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_becomes_a_text_block() {
        assert_eq!(code_block("a\nb\n"), "```text\na\nb\n```");
        assert_eq!(code_block(""), "```text\n```");
    }

    #[test]
    fn the_fence_outgrows_backticks_in_the_output() {
        assert_eq!(code_block("````\nx\n"), "`````text\n````\nx\n`````");
    }

    #[test]
    fn directive_text_in_output_is_escaped_for_mdbook() {
        assert_eq!(
            code_block("see {{#include a.rs}} and {{# b}}\n{{#open"),
            "```text\nsee \\{{#include a.rs}} and {{# b}}\n{{#open\n```"
        );
    }

    #[test]
    fn markdown_output_is_inserted_as_it_is() {
        let report = "### Report\n\n| a | b |\n|---|---:|\n| x | 1 |\n\n<figure>\n<svg></svg>\n</figure>\n\n";
        assert_eq!(markdown(report), report.trim_end());
        assert_eq!(
            markdown("see {{#include a.rs}}\n"),
            "see \\{{#include a.rs}}"
        );
        let run = |flag: &str| directive::parse(&format!("{{{{#run a{flag}}}}}")).unwrap();
        assert_eq!(rendered(&run(" --markdown"), "| x |\n"), "| x |");
        assert_eq!(rendered(&run(""), "| x |\n"), "```text\n| x |\n```");
    }

    #[test]
    fn long_error_output_keeps_its_end() {
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let kept = tail(text.as_bytes());
        assert!(kept.starts_with("    ... (60 lines before)\n    line 61\n"));
        assert!(kept.ends_with("    line 100\n"));
    }
}
