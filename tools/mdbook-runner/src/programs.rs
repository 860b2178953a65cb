//! The programs behind `{{#run}}` and `{{#pitfall}}` (and `{{#toolchain}}`):
//! which to run, their cache keys, building them once, and running them on a
//! few threads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use workbook_support::cache::{Key, Store};
use workbook_support::cargo::cargo;
use workbook_support::process::{run_with_timeout, tail};
use workbook_support::toolchain::Toolchain;
use workbook_support::workspace::{Package, Workspace};

use crate::compile;
use crate::directive::Directive;
use crate::project::Project;
use crate::render::rendered;
use crate::site::{Results, Site, progress};

/// How many lines of a failed run's output an error shows.
const TAIL_LINES: usize = 40;

/// Bump when the key's recipe or the stored format changes.
const CACHE_FORMAT: &str = "mdbook-runner cache v2";

/// The package whose `show CASE` prints a pitfall's real diagnostic.
const PITFALLS_PACKAGE: &str = "pitfalls";

/// Environment variables that change what a build produces or what a
/// program prints (profile and flag settings, the allocators' own
/// configuration variables); part of every cache key, so changing one
/// reruns the programs instead of showing stale output.
const KEYED_ENV: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_PROFILE_",
    "CARGO_BUILD_",
    "CARGO_INCREMENTAL",
    "RUSTC_WRAPPER",
    "MALLOC_",
    "GLIBC_TUNABLES",
    "_RJEM_",
    "MIMALLOC_",
    "RUST_MIN_STACK",
];

/// One program to run (a `{{#run}}` or `{{#pitfall}}`), shared by every
/// directive that asks for exactly the same thing.
struct Job {
    directive: Directive,
    sites: Vec<Site>,
    package: String,
    package_dir: PathBuf,
    bin: String,
    args: Vec<String>,
    /// Built and run with the release profile.
    release: bool,
    key: String,
}

impl Job {
    /// The command a reader would type to see the same output.
    fn shown(&self) -> String {
        let release = if self.release { " --release" } else { "" };
        format!(
            "cargo run{release} -p {} --bin {} -- {}",
            self.package,
            self.bin,
            self.args.join(" ")
        )
        .trim_end()
        .trim_end_matches(" --")
        .to_owned()
    }
}

/// Whether a result missing from the cache is produced now or left out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Build and run it now (a build for reading or for the test command).
    Produce,
    /// Leave it out; the caller produces it later (`serve`, in the
    /// background) and shows a placeholder meanwhile.
    LeaveOut,
}

/// The programs `{{#run}}` and `{{#pitfall}}` run, and `{{#toolchain}}`.
/// With [`Missing::LeaveOut`], a directive without a cached result is
/// neither in the results nor in the errors.
pub fn program_results(
    project: &Project,
    sites: BTreeMap<Directive, Vec<Site>>,
    timeout: Duration,
    missing: Missing,
) -> Result<Results, String> {
    let Project {
        workspace: ws,
        toolchain,
    } = project;
    let mut results = BTreeMap::new();
    let mut errors = Vec::new();
    let mut jobs = Vec::new();
    let mut trees = TreeHashes::default();
    for (directive, where_used) in sites {
        let (package, requested_bin, args, release) = match &directive {
            Directive::Toolchain => {
                results.insert(directive, toolchain.version.clone());
                continue;
            }
            // Handled by the wrong-answer step and by `preprocess::run`.
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
        let resolved = ws
            .package(&package)
            .and_then(|p| Ok((p, p.binary(requested_bin.as_deref())?)));
        match resolved {
            Ok((pkg, bin)) => {
                let key = cache_key(ws, pkg, &directive, toolchain, &mut trees)?;
                jobs.push(Job {
                    directive,
                    sites: where_used,
                    package,
                    package_dir: pkg.dir.clone(),
                    bin,
                    args,
                    release,
                    key,
                });
            }
            Err(e) => errors.extend(where_used.iter().map(|s| s.error(&e))),
        }
    }
    if jobs.is_empty() {
        return Ok((results, errors));
    }

    let store = Store::new(ws.target_dir.join("book-runner").join("cache"));
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
    if missing == Missing::LeaveOut {
        return Ok((results, errors));
    }

    let (executables, broken) = build(ws, &to_run)?;
    let mut runnable = Vec::new();
    for job in to_run {
        if let Some(why) = broken.get(&job.package) {
            let message = format!("package `{}` does not build:\n{why}", job.package);
            errors.extend(job.sites.iter().map(|s| s.error(&message)));
            continue;
        }
        match executables.get(&(job.release, job.package.clone(), job.bin.clone())) {
            Some(exe) => runnable.push((job, exe.clone())),
            None => {
                let message = format!("`{}`: cargo built no executable for it", job.shown());
                errors.extend(job.sites.iter().map(|s| s.error(&message)));
            }
        }
    }

    let outcomes = run_all(&ws.root, &runnable, timeout);
    for ((job, _), outcome) in runnable.into_iter().zip(outcomes) {
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

/// The hash of each source tree, computed once per build however many
/// directives depend on it.
#[derive(Default)]
struct TreeHashes(HashMap<PathBuf, String>);

impl TreeHashes {
    fn of(&mut self, dir: &Path, root: &Path) -> Result<&str, String> {
        if !self.0.contains_key(dir) {
            let mut key = Key::new(CACHE_FORMAT);
            key.add_tree(dir, root)?;
            self.0.insert(dir.to_path_buf(), key.hex());
        }
        Ok(self.0.get(dir).map(String::as_str).unwrap_or_default())
    }
}

/// Everything that can change a directive's output: the directive, the
/// compiler, the workspace's manifests and lock file, the sources of the
/// package and of its path dependencies, and the environment of
/// [`KEYED_ENV`].
fn cache_key(
    ws: &Workspace,
    package: &Package,
    directive: &Directive,
    toolchain: &Toolchain,
    trees: &mut TreeHashes,
) -> Result<String, String> {
    let mut key = Key::new(CACHE_FORMAT);
    key.add("directive", directive.canonical().as_bytes());
    key.add("rustc", toolchain.verbose.as_bytes());
    for (name, value) in keyed_env(std::env::vars_os()) {
        key.add(&name, value.as_bytes());
    }
    for file in ["Cargo.lock", "Cargo.toml", ".cargo/config.toml"] {
        key.add_file(file, &ws.root.join(file));
    }
    for dir in ws.source_dirs(package) {
        let tree = trees.of(&dir, &ws.root)?;
        key.add(&dir.to_string_lossy(), tree.as_bytes());
    }
    Ok(key.hex())
}

/// The variables of [`KEYED_ENV`] (exact names, or prefixes ending in `_`),
/// sorted by name.
fn keyed_env(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> BTreeMap<String, String> {
    vars.filter_map(|(name, value)| {
        let name = name.into_string().ok()?;
        let keyed = KEYED_ENV.iter().any(|k| {
            if k.ends_with('_') {
                name.starts_with(k)
            } else {
                name == *k
            }
        });
        keyed.then(|| (name, value.to_string_lossy().into_owned()))
    })
    .collect()
}

/// (release, package, binary) → executable.
type Executables = BTreeMap<(bool, String, String), PathBuf>;

/// Builds every package the jobs need, once per profile they ask for, in
/// one cargo invocation per profile; the executables, and the packages that
/// do not build with their first compiler error.
fn build(ws: &Workspace, jobs: &[Job]) -> Result<(Executables, BTreeMap<String, String>), String> {
    let mut executables = Executables::new();
    let mut broken = BTreeMap::new();
    for release in [false, true] {
        let packages: BTreeSet<&str> = jobs
            .iter()
            .filter(|j| j.release == release)
            .map(|j| j.package.as_str())
            .collect();
        if packages.is_empty() {
            continue;
        }
        let names: Vec<&str> = packages.into_iter().collect();
        let profile = if release { "release" } else { "dev" };
        progress(&format!(
            "building {} ({profile}; a first build compiles dependencies and can take minutes)",
            names.join(", ")
        ));
        let started = Instant::now();
        let built = compile::build(ws, &ws.target_dir, &names, release)?;
        progress(&format!(
            "built in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        for ((package, bin), exe) in built.executables {
            executables.insert((release, package, bin), exe);
        }
        broken.extend(built.broken);
    }
    Ok((executables, broken))
}

/// Runs the jobs on a few threads; the outcomes come back in job order.
fn run_all(root: &Path, jobs: &[(Job, PathBuf)], timeout: Duration) -> Vec<Result<String, String>> {
    // Release runs are measurements (the benchmark): they run one at a time,
    // after everything else, so no other program shares the CPU with them.
    let (alone, shared): (Vec<usize>, Vec<usize>) =
        (0..jobs.len()).partition(|&i| jobs[i].0.release);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let done = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Result<String, String>>>> =
        Mutex::new(jobs.iter().map(|_| None).collect());
    let pool = Pool {
        root,
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
    jobs: &'a [(Job, PathBuf)],
    timeout: Duration,
    done: &'a AtomicUsize,
    outcomes: &'a Mutex<Vec<Option<Result<String, String>>>>,
}

/// Adds one to its counter when dropped.
struct CountOnDrop<'a>(&'a AtomicUsize);

impl Drop for CountOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

/// How often the runner names the programs that are still running, so a
/// long one (a pitfall compiling jemalloc, the benchmark) is not silent.
const STILL_RUNNING_EVERY: Duration = Duration::from_secs(20);

impl Pool<'_> {
    /// Runs the jobs at `indices` on up to `workers` threads.
    fn run(&self, indices: &[usize], workers: usize) {
        let next = AtomicUsize::new(0);
        let running: Mutex<BTreeMap<usize, Instant>> = Mutex::new(BTreeMap::new());
        let finished = AtomicUsize::new(0);
        let workers = workers.min(indices.len());
        std::thread::scope(|scope| {
            scope.spawn(|| self.report_long_runs(&running, &finished, workers));
            for _ in 0..workers {
                scope.spawn(|| {
                    // Counted even if the worker panics, so the reporter
                    // (and the scope) always ends.
                    let _done = CountOnDrop(&finished);
                    while let Some(&i) = indices.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let Some((job, exe)) = self.jobs.get(i) else {
                            break;
                        };
                        let started = Instant::now();
                        if let Ok(mut running) = running.lock() {
                            running.insert(i, started);
                        }
                        let outcome = run_job(self.root, job, exe, self.timeout);
                        if let Ok(mut running) = running.lock() {
                            running.remove(&i);
                        }
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

    /// Every [`STILL_RUNNING_EVERY`], the programs running longer than that.
    fn report_long_runs(
        &self,
        running: &Mutex<BTreeMap<usize, Instant>>,
        finished: &AtomicUsize,
        workers: usize,
    ) {
        let mut last = Instant::now();
        while finished.load(Ordering::Acquire) < workers {
            std::thread::sleep(Duration::from_millis(200));
            if last.elapsed() < STILL_RUNNING_EVERY {
                continue;
            }
            last = Instant::now();
            let Ok(running) = running.lock() else {
                return;
            };
            for (&i, started) in running.iter() {
                let took = started.elapsed();
                if let (true, Some((job, _))) = (took >= STILL_RUNNING_EVERY, self.jobs.get(i)) {
                    progress(&format!(
                        "still running after {:.0} s: {}",
                        took.as_secs_f64(),
                        job.directive.canonical()
                    ));
                }
            }
        }
    }
}

/// Runs one job's executable directly (cargo already built it), with the
/// environment `cargo run` would give it; Ok(stdout) when it ended the way
/// the chapter expects.
fn run_job(root: &Path, job: &Job, exe: &Path, timeout: Duration) -> Result<String, String> {
    let mut cmd = Command::new(exe);
    cmd.args(&job.args)
        .current_dir(root)
        .env("CARGO", cargo().get_program())
        .env("CARGO_MANIFEST_DIR", &job.package_dir)
        .env("CARGO_PKG_NAME", &job.package);
    let shown = job.shown();
    let (status, stdout, stderr) = run_with_timeout(&mut cmd, timeout).map_err(|e| {
        let hint = if e.starts_with("still running") {
            " (raise `[preprocessor.runner] timeout-secs` if it needs longer)"
        } else {
            ""
        };
        format!("`{shown}`: {e}{hint}")
    })?;
    let code = status.code();
    let ended = code.map_or_else(|| status.to_string(), |c| format!("exited with status {c}"));
    // A failed run shows what it printed on stdout too: a program often
    // says there what it was doing when it stopped.
    let printed = |stdout: &str, stderr: &str| {
        let mut text = String::new();
        if !stdout.trim().is_empty() {
            text.push_str("  stdout:\n");
            text.push_str(&tail(stdout, TAIL_LINES));
        }
        if !stderr.trim().is_empty() {
            text.push_str("  stderr:\n");
            text.push_str(&tail(stderr, TAIL_LINES));
        }
        text
    };
    match &job.directive {
        Directive::Pitfall { case } => match code {
            Some(0) => Ok(stdout),
            Some(1) => Err(format!(
                "pitfall case `{case}` did not fail the way it should:\n{}{}",
                stdout,
                tail(&stderr, TAIL_LINES)
            )),
            Some(2) => Err(format!(
                "unknown pitfall case `{case}` (`cargo run -p {PITFALLS_PACKAGE} -- list` names them):\n{}",
                tail(&stderr, TAIL_LINES)
            )),
            _ => Err(format!("`{shown}` {ended}:\n{}", printed(&stdout, &stderr))),
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
                "`{shown}` {ended}, expected status {expected}{hint}:\n{}",
                printed(&stdout, &stderr)
            ))
        }
        Directive::Toolchain | Directive::WrongAnswer { .. } | Directive::Widget { .. } => {
            Ok(stdout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_keyed_environment_enters_the_cache_key() {
        let vars = [
            ("RUSTFLAGS", "-C target-cpu=native"),
            ("CARGO_PROFILE_RELEASE_LTO", "true"),
            ("_RJEM_MALLOC_CONF", "stats_print:true"),
            ("RUSTFLAGSX", "not a flag variable"),
            ("PWD", "/somewhere"),
            ("TERM", "xterm"),
        ]
        .map(|(k, v)| (k.into(), v.into()));
        let keyed = keyed_env(vars.into_iter());
        assert_eq!(
            keyed.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "CARGO_PROFILE_RELEASE_LTO",
                "RUSTFLAGS",
                "_RJEM_MALLOC_CONF"
            ]
        );
    }

    #[test]
    fn the_shown_command_is_what_a_reader_would_type() {
        let job = |release, args: &[&str]| Job {
            directive: Directive::Toolchain,
            sites: Vec::new(),
            package: "bump".into(),
            package_dir: PathBuf::new(),
            bin: "bump".into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            release,
            key: String::new(),
        };
        assert_eq!(job(false, &[]).shown(), "cargo run -p bump --bin bump");
        assert_eq!(
            job(true, &["--quick"]).shown(),
            "cargo run --release -p bump --bin bump -- --quick"
        );
    }
}
