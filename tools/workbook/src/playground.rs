//! The WebAssembly playground: building it into `playground/pkg`
//! ([`build`]), placing it into the book ([`build_into`]), and checking it
//! in a browser ([`check`], a step of `cargo workbook test`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::playground_web;
use crate::project;
use crate::tool_cache::Tool;

/// The wasm-bindgen CLI must be exactly the version of the `wasm-bindgen`
/// crate the playground links (the root Cargo.toml pins it; a unit test
/// keeps the two equal).
pub const WASM_BINDGEN: Tool = Tool {
    krate: "wasm-bindgen-cli",
    version: "0.2.130",
    binary: "wasm-bindgen",
};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The cargo profile (root Cargo.toml) tuned for a small download.
const PROFILE: &str = "wasm-release";
/// Where the finished site goes, relative to the workspace root.
const PKG_DIR: &str = "playground/pkg";

/// Builds the playground and copies the finished site (HTML, loader, CSS,
/// JS glue, `.wasm`) into `dir`; the book commands call it with
/// `book/src/playground` before mdBook runs (see playground/README.md).
/// Returns the files it copied.
pub fn build_into(root: &Path, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let pkg = build(root)?;
    copy_files(&pkg, dir)
}

/// Builds `playground/pkg`: the wasm module, its JS glue and `www/`.
pub fn build(root: &Path) -> Result<PathBuf, String> {
    ensure_wasm_target()?;
    let bindgen = WASM_BINDGEN.ensure()?;
    let target_dir = nested_target_dir(root);
    println!("building the playground ({PROFILE}, {WASM_TARGET})");
    project::run_status(
        project::cargo(root)
            .env("CARGO_TARGET_DIR", &target_dir)
            .args(["build", "--quiet", "--lib", "--package", "playground"])
            .args(["--profile", PROFILE, "--target", WASM_TARGET]),
    )?;
    let wasm = target_dir
        .join(WASM_TARGET)
        .join(PROFILE)
        .join("playground.wasm");
    let pkg = root.join(PKG_DIR);
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg)
            .map_err(|e| format!("cannot clear {}: {e}", pkg.display()))?;
    }
    project::run_status(
        Command::new(&bindgen)
            .args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(&pkg)
            .arg(&wasm),
    )?;
    copy_files(&root.join("playground/www"), &pkg)?;
    let module = pkg.join("playground_bg.wasm");
    let bytes = std::fs::metadata(&module)
        .map_err(|e| format!("wasm-bindgen wrote no {}: {e}", module.display()))?
        .len();
    println!(
        "playground built: {} ({:.1} KiB of wasm)",
        pkg.display(),
        bytes as f64 / 1024.0
    );
    check_module_size(bytes)?;
    Ok(pkg)
}

/// The most the `.wasm` may weigh. The module is under 200 KiB; the limit
/// catches the mistake that multiplies it: a large zero-initialised static
/// (the heap recorder's event slots) sharing its static with a non-zero
/// byte is stored whole in the file instead of costing nothing.
const MAX_WASM_BYTES: u64 = 512 * 1024;

fn check_module_size(bytes: u64) -> Result<(), String> {
    if bytes <= MAX_WASM_BYTES {
        return Ok(());
    }
    Err(format!(
        "the playground's .wasm is {:.1} KiB, over the {} KiB limit: is a large static (such as the \
         recorder's event buffer) in the same static as a non-zero value? A static with any non-zero \
         byte is stored in the file byte for byte",
        bytes as f64 / 1024.0,
        MAX_WASM_BYTES / 1024
    ))
}

/// The `cargo workbook test` step: the exported API under
/// `wasm-bindgen-test` in headless Chrome, then the built page driven end to
/// end in headless Chromium.
pub fn check(root: &Path) -> Result<(), String> {
    let pkg = build(root)?;
    let runner = WASM_BINDGEN
        .ensure()?
        .with_file_name("wasm-bindgen-test-runner");
    let mut tests = project::cargo(root);
    tests
        .env("CARGO_TARGET_DIR", nested_target_dir(root))
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
        // No `--quiet`: cargo would pass it on to the runner, which rejects it.
        .args(["test", "--package", "playground", "--target", WASM_TARGET]);
    if std::env::var_os("CHROMEDRIVER").is_none() {
        let driver = playground_web::find_program(&["chromedriver"])
            .ok_or("chromedriver is not on PATH (Debian: apt-get install chromium-driver)")?;
        tests.env("CHROMEDRIVER", driver);
    }
    project::run_status(&mut tests)?;
    playground_web::end_to_end(&pkg)
}

/// A target directory beside the one the calling cargo uses, so the nested
/// build never waits on the outer build's lock.
fn nested_target_dir(root: &Path) -> PathBuf {
    project::target_dir(root).join("playground")
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup to check for {WASM_TARGET}: {e}"))?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    println!("adding the {WASM_TARGET} target (once)");
    project::run_status(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// Copies the files (not subdirectories) of `from` into `to`.
fn copy_files(from: &Path, to: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries =
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    let mut copied = Vec::new();
    for entry in entries {
        let source = entry
            .map_err(|e| format!("cannot read {}: {e}", from.display()))?
            .path();
        if let Some(name) = source.file_name().filter(|_| source.is_file()) {
            let dest = to.join(name);
            std::fs::copy(&source, &dest).map_err(|e| {
                format!(
                    "cannot copy {} to {}: {e}",
                    source.display(),
                    dest.display()
                )
            })?;
            copied.push(dest);
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_version_equals_the_pinned_crate_version() {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
        let text = std::fs::read_to_string(&manifest).expect("root Cargo.toml is readable");
        let pin = text
            .lines()
            .find_map(|line| line.strip_prefix("wasm-bindgen = \"="))
            .and_then(|rest| rest.strip_suffix('"'))
            .expect("root Cargo.toml pins wasm-bindgen = \"=X.Y.Z\"");
        assert_eq!(WASM_BINDGEN.version, pin);
    }

    #[test]
    fn a_module_over_the_size_limit_is_refused() {
        assert!(check_module_size(190 * 1024).is_ok());
        let err = check_module_size(2700 * 1024).unwrap_err();
        assert!(err.contains("over the 512 KiB limit"), "{err}");
    }

    #[test]
    fn copies_files_but_not_directories() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        std::fs::write(from.path().join("a.js"), "x").unwrap();
        std::fs::create_dir(from.path().join("sub")).unwrap();
        let dest = to.path().join("new");
        let copied = copy_files(from.path(), &dest).unwrap();
        assert_eq!(copied, vec![dest.join("a.js")]);
        assert_eq!(std::fs::read_to_string(dest.join("a.js")).unwrap(), "x");
    }
}
