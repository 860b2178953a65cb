//! Miri, the interpreter that runs a test step by step and stops at the first
//! undefined behaviour: a data race, a misaligned or dangling pointer, a read
//! past the end of a block. Native tests of concurrent allocator code pass by
//! luck; under Miri a race is found on some seed of its scheduler.
//!
//! This module knows the pinned toolchain, which packages run under Miri,
//! whether Miri is installed, and how to start `cargo miri test`.

use std::path::Path;
use std::process::Command;

use crate::exercises::{self, Exercise};
use crate::project;

/// Overrides the pinned toolchain (to try another nightly, or to see what a
/// learner without it is told).
pub const TOOLCHAIN_ENV: &str = "WORKBOOK_MIRI_TOOLCHAIN";

/// The flags every run uses: a pointer made from a plain integer is an error
/// (allocator code must derive every pointer from one it was given).
pub const MIRIFLAGS: &str = "-Zmiri-strict-provenance";

/// Tests whose name contains this start threads: they run again over
/// `THREAD_SEEDS` schedules, because a race shows only on some of them.
pub const THREADS_FILTER: &str = "threads";

/// `-Zmiri-many-seeds=0..THREAD_SEEDS`. Four keeps the Miri step within
/// its time on two cores; the gallery's races were caught on most seeds
/// they were tried on, so four schedules rarely miss one.
pub const THREAD_SEEDS: u32 = 4;

/// The `[workspace.metadata.workbook]` table of the root manifest.
fn workbook_metadata(root: &Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    let manifest: toml::Table =
        toml::from_str(&text).map_err(|e| format!("Cargo.toml is malformed: {e}"))?;
    manifest
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("workbook"))
        .and_then(|w| w.as_table())
        .cloned()
        .ok_or_else(|| "Cargo.toml has no [workspace.metadata.workbook] table".to_owned())
}

/// The pinned nightly: `miri-toolchain` in the root manifest, unless
/// `WORKBOOK_MIRI_TOOLCHAIN` names another.
pub fn toolchain(root: &Path) -> Result<String, String> {
    if let Some(name) = std::env::var_os(TOOLCHAIN_ENV) {
        return Ok(name.to_string_lossy().into_owned());
    }
    workbook_metadata(root)?
        .get("miri-toolchain")
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            "Cargo.toml: [workspace.metadata.workbook] has no `miri-toolchain = \"nightly-YYYY-MM-DD\"`"
                .to_owned()
        })
}

/// The packages of the Miri step: the crates listed in `miri-packages` of
/// the root manifest, then each exercise's reference solution (which runs
/// the exercise's own tests), from the exercises' metadata.
pub fn packages(root: &Path) -> Result<Vec<String>, String> {
    let listed = workbook_metadata(root)?
        .get("miri-packages")
        .and_then(|p| p.as_array())
        .cloned()
        .ok_or_else(|| {
            "Cargo.toml: [workspace.metadata.workbook] has no `miri-packages = [...]` list"
                .to_owned()
        })?;
    let mut packages = Vec::new();
    for entry in listed {
        match entry.as_str() {
            Some(name) => packages.push(name.to_owned()),
            None => {
                return Err(format!(
                    "Cargo.toml: `miri-packages` holds {entry}, not a package name"
                ));
            }
        }
    }
    packages.extend(
        exercises::load(root)?
            .iter()
            .map(Exercise::solution_package),
    );
    Ok(packages)
}

/// Why an exercise (and its solution) cannot run under Miri at all, if it
/// cannot: `miri-skip = "reason"` under `[package.metadata.workbook]` in
/// the solution's manifest.
pub fn skip_reason(root: &Path, exercise: &Exercise) -> Result<Option<String>, String> {
    let path = exercise.solution_dir().join("Cargo.toml");
    let text = std::fs::read_to_string(root.join(&path))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let manifest: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(manifest
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("workbook"))
        .and_then(|w| w.get("miri-skip"))
        .and_then(|r| r.as_str())
        .map(str::to_owned))
}

/// For a package of the Miri step, why it is skipped, if it is.
pub fn package_skip_reason(root: &Path, package: &str) -> Result<Option<String>, String> {
    let Some(exercise) = exercises::load(root)?
        .into_iter()
        .find(|e| e.solution_package() == package)
    else {
        return Ok(None);
    };
    skip_reason(root, &exercise)
}

/// The command that installs what `cargo miri` needs, as a learner types it.
pub fn install_line(toolchain: &str) -> String {
    format!("rustup toolchain install {toolchain} --profile minimal --component miri,rust-src")
}

/// What is missing for Miri to run, if anything.
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    Rustup,
    Toolchain,
    Components(Vec<&'static str>),
}

const COMPONENTS: [&str; 2] = ["miri", "rust-src"];

pub fn missing(toolchain: &str) -> Option<Missing> {
    let Ok(listed) = Command::new("rustup").args(["toolchain", "list"]).output() else {
        return Some(Missing::Rustup);
    };
    let toolchains = String::from_utf8_lossy(&listed.stdout);
    // Listed with the host appended: nightly-2026-10-30-x86_64-unknown-linux-gnu.
    let present = toolchains.lines().any(|line| {
        let name = line.split_whitespace().next().unwrap_or_default();
        name == toolchain
            || name.strip_prefix(toolchain).is_some_and(|host| {
                host.starts_with('-') && !host[1..].starts_with(char::is_numeric)
            })
    });
    if !present {
        return Some(Missing::Toolchain);
    }
    let installed = Command::new("rustup")
        .args(["component", "list", "--installed", "--toolchain", toolchain])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let lacking: Vec<&str> = COMPONENTS
        .into_iter()
        .filter(|component| {
            !installed
                .lines()
                .any(|line| line == *component || line.starts_with(&format!("{component}-")))
        })
        .collect();
    (!lacking.is_empty()).then_some(Missing::Components(lacking))
}

/// The learner's message when Miri cannot run: what is missing and the one
/// command that installs it.
pub fn missing_message(toolchain: &str, missing: &Missing) -> String {
    let what = match missing {
        Missing::Rustup => {
            return format!(
                "Miri runs on a pinned nightly toolchain ({toolchain}), which is installed \
                 with rustup, and `rustup` was not found. Install rustup from https://rustup.rs, \
                 then run `cargo workbook miri --install`."
            );
        }
        Missing::Toolchain => format!("the nightly toolchain {toolchain} is not installed"),
        Missing::Components(names) => format!(
            "the toolchain {toolchain} is installed but lacks its {} component{}",
            names.join(" and "),
            if names.len() == 1 { "" } else { "s" }
        ),
    };
    format!(
        "Miri is not ready: {what}.\n\
         Install it once (about a minute) with\n\n    cargo workbook miri --install\n\n\
         which runs `{}` and `cargo +{toolchain} miri setup`.",
        install_line(toolchain)
    )
}

/// Ok when Miri can run; otherwise the learner's message.
pub fn ensure_ready(toolchain: &str) -> Result<(), String> {
    match missing(toolchain) {
        None => Ok(()),
        Some(missing) => Err(missing_message(toolchain, &missing)),
    }
}

/// Installs the toolchain and its components if missing, then prepares
/// Miri's standard library (`cargo miri setup`, quick when already done).
pub fn install(toolchain: &str) -> Result<(), String> {
    match missing(toolchain) {
        Some(Missing::Rustup) => return Err(missing_message(toolchain, &Missing::Rustup)),
        Some(_) => {
            println!("installing {toolchain} with miri and rust-src …");
            let mut cmd = Command::new("rustup");
            // rustup prints its own stack trace on errors when asked to.
            cmd.env("RUST_BACKTRACE", "0")
                .args(["toolchain", "install", toolchain, "--profile", "minimal"])
                .args(["--component", "miri,rust-src"]);
            project::run_status(&mut cmd).map_err(|e| {
                format!(
                    "{e}\nThe pinned toolchain could not be installed; is the date in \
                     Cargo.toml's `miri-toolchain` a nightly that exists?"
                )
            })?;
        }
        None => println!("{toolchain} with miri is installed"),
    }
    let mut setup = cargo(toolchain);
    setup.args(["miri", "setup"]);
    project::run_status(&mut setup)
}

/// `cargo` of the pinned toolchain. Through `rustup run`, because the cargo
/// that runs the workbook may not be rustup's proxy that understands `+T`.
pub fn cargo(toolchain: &str) -> Command {
    let mut cmd = Command::new("rustup");
    cmd.args(["run", toolchain, "cargo"])
        // The outer cargo's own path and compiler must not leak into the
        // nightly's build.
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC");
    cmd
}

/// Which tests of a package to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Every test (unit, integration and doc tests), once.
    All,
    /// The tests that start threads, once per seed of `0..THREAD_SEEDS`.
    ThreadsOverSeeds,
}

/// `cargo miri test` of `package`, with `MIRIFLAGS` set (a learner's own
/// `MIRIFLAGS` are kept after ours, e.g. `-Zmiri-backtrace=full`). With
/// `build_only`, it compiles what that run needs and runs nothing.
pub fn test_command(
    root: &Path,
    toolchain: &str,
    package: &str,
    which: Selection,
    build_only: bool,
) -> Command {
    let mut cmd = cargo(toolchain);
    cmd.current_dir(root)
        .args(["miri", "test", "--no-fail-fast", "--package", package])
        .env("RUST_BACKTRACE", "0");
    let mut flags = MIRIFLAGS.to_owned();
    if which == Selection::ThreadsOverSeeds {
        // Doc tests start no threads; leaving them out saves building them.
        cmd.arg("--tests");
        flags.push_str(&format!(" -Zmiri-many-seeds=0..{THREAD_SEEDS}"));
    }
    if build_only {
        cmd.arg("--no-run");
    } else if which == Selection::ThreadsOverSeeds {
        cmd.args(["--", THREADS_FILTER]);
    }
    if let Ok(theirs) = std::env::var("MIRIFLAGS") {
        flags.push(' ');
        flags.push_str(&theirs);
    }
    cmd.env("MIRIFLAGS", flags);
    cmd
}

/// The command as a learner would type it to run it again themselves.
pub fn shown(toolchain: &str, package: &str, which: Selection) -> String {
    match which {
        Selection::All => {
            format!("MIRIFLAGS=\"{MIRIFLAGS}\" cargo +{toolchain} miri test -p {package}")
        }
        Selection::ThreadsOverSeeds => format!(
            "MIRIFLAGS=\"{MIRIFLAGS} -Zmiri-many-seeds=0..{THREAD_SEEDS}\" \
             cargo +{toolchain} miri test -p {package} --tests -- {THREADS_FILTER}"
        ),
    }
}

/// Whether a run's libtest output names a test that starts threads.
pub fn ran_thread_tests(output: &str) -> bool {
    output.lines().any(|line| {
        line.strip_prefix("test ")
            .and_then(|rest| rest.split(" ... ").next())
            .is_some_and(|name| name.contains(THREADS_FILTER))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn the_pin_and_the_packages_come_from_the_manifests() {
        let root = workspace();
        let pinned = toolchain(&root).expect("pinned");
        assert!(pinned.starts_with("nightly-"), "{pinned}");
        let packages = packages(&root).expect("listed");
        let solutions = exercises::load(&root).expect("exercises").len();
        assert!(packages.len() > solutions, "{packages:?}");
        assert!(packages.contains(&"solution-1".to_owned()), "{packages:?}");
        for package in &packages {
            assert!(!package.is_empty());
        }
        // Exercise 1 installs mimalloc, C code Miri cannot run.
        let reason = package_skip_reason(&root, "solution-1").expect("readable");
        assert!(reason.is_some_and(|r| r.contains("mimalloc")));
        assert_eq!(package_skip_reason(&root, "layout"), Ok(None));
    }

    #[test]
    fn the_missing_message_names_the_one_install_command() {
        let text = missing_message("nightly-2026-10-30", &Missing::Toolchain);
        assert!(
            text.contains("nightly-2026-10-30 is not installed"),
            "{text}"
        );
        assert!(text.contains("cargo workbook miri --install"), "{text}");
        assert!(
            text.contains(
                "rustup toolchain install nightly-2026-10-30 --profile minimal --component miri,rust-src"
            ),
            "{text}"
        );
        let text = missing_message("nightly-2026-10-30", &Missing::Components(vec!["miri"]));
        assert!(text.contains("lacks its miri component."), "{text}");
    }

    #[test]
    fn thread_tests_are_found_by_name() {
        assert!(ran_thread_tests(
            "test two_threads_never_share_a_byte ... ok\n"
        ));
        assert!(!ran_thread_tests("test aligned ... ok\nthreads\n"));
    }
}
