//! What the CLI test suites share: the real workspace, copies of it, and
//! target directories for the cargo runs the CLI starts.

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A target directory for one test's nested cargo runs: outside the copy
/// of the workspace the test works on (as a learner's `build.target-dir`
/// or `CARGO_TARGET_DIR` may be), beside the outer one (so they do not wait
/// for the outer build's lock), and kept between runs (so dependencies
/// compile once). Each test has its own: cargo fingerprints workspace
/// crates by their path, so two copies sharing one could run each other's
/// builds.
pub fn nested_target_dir(suite: &str, test: &str) -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_workbook"))
        .parent()
        .and_then(Path::parent)
        .expect("the workbook binary lives in <target>/<profile>")
        .join(suite)
        .join(test)
}

/// The project's files (tracked and untracked, not ignored), as they are in
/// the working tree, copied into a new temporary directory.
pub fn copy_of_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let listed = Command::new("git")
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "-z",
        ])
        .current_dir(workspace())
        .output()
        .expect("git runs");
    assert!(listed.status.success(), "git ls-files failed");
    for file in listed.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let relative = Path::new(std::str::from_utf8(file).expect("utf-8 path"));
        let from = workspace().join(relative);
        // Listed but deleted in the working tree: skip.
        if !from.is_file() {
            continue;
        }
        let to = dir.path().join(relative);
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("create dirs");
        std::fs::copy(&from, &to).expect("copy a file");
    }
    dir
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
