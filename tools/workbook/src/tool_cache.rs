//! Pinned external tools (the wasm-bindgen CLI), installed once into a
//! cache outside the repository and reused while their version matches.
//!
//! The cache is `$WORKBOOK_TOOL_CACHE`, else `$XDG_CACHE_HOME/allocator-workbook`,
//! else `~/.cache/allocator-workbook`. Each tool lives in its own
//! `<cache>/<crate>-<version>/bin`, so two versions never overwrite each other.

use std::path::PathBuf;
use std::process::Command;

use crate::project;

/// A crate whose binary we install with `cargo install`.
pub struct Tool {
    pub krate: &'static str,
    pub version: &'static str,
    pub binary: &'static str,
}

pub fn cache_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("WORKBOOK_TOOL_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(dir).join("allocator-workbook"));
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".cache/allocator-workbook")),
        None => Err("cannot choose a tool cache: set WORKBOOK_TOOL_CACHE or HOME".into()),
    }
}

impl Tool {
    fn root(&self) -> Result<PathBuf, String> {
        Ok(cache_dir()?.join(format!("{}-{}", self.krate, self.version)))
    }

    /// The installed binary's path, installing it first if it is missing or
    /// reports a different version.
    pub fn ensure(&self) -> Result<PathBuf, String> {
        let bin = self.root()?.join("bin").join(self.binary);
        if self.installed_version(&bin).as_deref() == Some(self.version) {
            return Ok(bin);
        }
        println!(
            "installing {} {} into {} (once; this takes a few minutes — cargo's progress follows)",
            self.krate,
            self.version,
            self.root()?.display()
        );
        // `--debug`: an unoptimised build compiles in about half the time,
        // and what the tool does for the workbook (bind one small wasm
        // module) takes seconds either way. No `--locked`: wasm-bindgen-cli's
        // lock file pins a dependency our registry mirror no longer has.
        project::run_status(
            workbook_support::cargo::cargo()
                .arg("install")
                .arg(self.krate)
                .args(["--debug", "--version", self.version, "--root"])
                .arg(self.root()?),
        )?;
        match self.installed_version(&bin) {
            Some(v) if v == self.version => Ok(bin),
            other => Err(format!(
                "installed {} but `{} --version` reports {:?}, expected {}",
                self.krate,
                bin.display(),
                other,
                self.version
            )),
        }
    }

    /// The version the binary reports, e.g. `wasm-bindgen 0.2.130` -> `0.2.130`.
    fn installed_version(&self, bin: &std::path::Path) -> Option<String> {
        let out = Command::new(bin).arg("--version").output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .map(|w| w.trim_start_matches('v'))
            .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .map(str::to_owned)
    }
}
