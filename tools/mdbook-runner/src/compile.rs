//! Building the programs the book runs: one `cargo build` per profile, read
//! through cargo's JSON messages, which give each binary's path (so the
//! runner starts it directly, with no second `cargo run` per directive) and
//! each compiler error with the package it belongs to (so a failed build
//! shows its first error, not the "aborting due to …" lines at the end).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use workbook_support::cargo::cargo;
use workbook_support::workspace::Workspace;

/// What one profile's build produced.
#[derive(Default)]
pub struct Built {
    /// (package, binary) → the executable.
    pub executables: BTreeMap<(String, String), PathBuf>,
    /// package → why it does not build (its first compiler error).
    pub broken: BTreeMap<String, String>,
}

/// `cargo build` in `root`, into `target_dir`, for every binary of
/// `packages`. `--keep-going` builds everything that can be built, so one
/// broken package does not hide the others.
pub fn build(
    ws: &Workspace,
    target_dir: &Path,
    packages: &[&str],
    release: bool,
) -> Result<Built, String> {
    let mut cmd = cargo();
    cmd.current_dir(&ws.root)
        .args(["build", "--bins", "--keep-going", "--message-format=json"])
        .args(["--color", "never", "--target-dir"])
        .arg(target_dir)
        .env_remove("CARGO_TARGET_DIR")
        .stdin(Stdio::null());
    if release {
        cmd.arg("--release");
    }
    for p in packages {
        cmd.args(["--package", p]);
    }
    let output = run(&mut cmd)?;
    let mut built = read_messages(ws, &output.stdout);
    if !output.success {
        // A failure with no compiler error of a package of ours (a
        // dependency that cannot be fetched, a broken manifest): every
        // package without an executable is reported with cargo's own words.
        for name in packages {
            let has_any = built.executables.keys().any(|(p, _)| p == name);
            if !has_any && !built.broken.contains_key(*name) {
                built
                    .broken
                    .insert((*name).to_owned(), first_error_line(&output.stderr));
            }
        }
    }
    Ok(built)
}

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    Ok(Output {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Reads cargo's JSON lines: executables of binaries, and the first error of
/// each package (rendered as the compiler prints it, paths relative to the
/// workspace root so a terminal opened there can follow them).
fn read_messages(ws: &Workspace, stdout: &str) -> Built {
    let mut built = Built::default();
    for line in stdout.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(package) = package_of(ws, &message) else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                let is_bin = message["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bin"));
                if let (true, Some(exe), Some(bin)) = (
                    is_bin,
                    message["executable"].as_str(),
                    message["target"]["name"].as_str(),
                ) {
                    built
                        .executables
                        .insert((package, bin.to_owned()), PathBuf::from(exe));
                }
            }
            Some("compiler-message") if message["message"]["level"] == "error" => {
                if let Some(rendered) = message["message"]["rendered"].as_str() {
                    built
                        .broken
                        .entry(package)
                        .or_insert_with(|| indent(rendered));
                }
            }
            _ => {}
        }
    }
    built
}

/// The workspace package a message is about, by its manifest path.
fn package_of(ws: &Workspace, message: &Value) -> Option<String> {
    let manifest = Path::new(message["manifest_path"].as_str()?);
    ws.package_by_manifest(manifest).map(|p| p.name.clone())
}

fn indent(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect()
}

/// Cargo's first `error` line and what follows it, when no compiler message
/// names the problem.
fn first_error_line(stderr: &str) -> String {
    let from = stderr
        .lines()
        .position(|l| l.starts_with("error"))
        .unwrap_or(0);
    let lines: Vec<&str> = stderr.lines().skip(from).take(20).collect();
    indent(&lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> Workspace {
        Workspace::from_metadata(&serde_json::json!({
            "workspace_root": "/ws",
            "packages": [
                {"name": "hello", "manifest_path": "/ws/hello/Cargo.toml"},
                {"name": "broken", "manifest_path": "/ws/broken/Cargo.toml"},
            ]
        }))
    }

    #[test]
    fn reads_executables_and_the_first_error_of_each_package() {
        let messages = [
            r#"{"reason":"compiler-message","manifest_path":"/ws/broken/Cargo.toml","message":{"level":"warning","rendered":"warning: unused\n"}}"#,
            r#"{"reason":"compiler-message","manifest_path":"/ws/broken/Cargo.toml","message":{"level":"error","rendered":"error[E0308]: mismatched types\n --> broken/src/main.rs:2:5\n"}}"#,
            r#"{"reason":"compiler-message","manifest_path":"/ws/broken/Cargo.toml","message":{"level":"error","rendered":"error: aborting due to 1 previous error\n"}}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/ws/hello/Cargo.toml","target":{"kind":["bin"],"name":"hello"},"executable":"/t/debug/hello"}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/ws/hello/Cargo.toml","target":{"kind":["lib"],"name":"hello"},"executable":null}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/elsewhere/dep/Cargo.toml","target":{"kind":["bin"],"name":"dep"},"executable":"/t/debug/dep"}"#,
            "not json",
        ]
        .join("\n");
        let built = read_messages(&workspace(), &messages);
        assert_eq!(
            built.executables.into_iter().collect::<Vec<_>>(),
            [(
                ("hello".to_owned(), "hello".to_owned()),
                PathBuf::from("/t/debug/hello")
            )]
        );
        assert_eq!(
            built.broken["broken"],
            "    error[E0308]: mismatched types\n     --> broken/src/main.rs:2:5\n"
        );
    }

    #[test]
    fn a_failure_without_compiler_messages_shows_cargos_error() {
        let stderr =
            "    Updating index\nerror: failed to select a version for `x`\n  required by y\n";
        assert_eq!(
            first_error_line(stderr),
            "    error: failed to select a version for `x`\n      required by y\n"
        );
    }
}
