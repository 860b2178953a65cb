//! The compiler that builds the workspace, as `rustc -vV` describes it.

use std::path::Path;
use std::process::Command;

pub struct Toolchain {
    /// The first line, `rustc 1.95.0 (… 2026-…)`: what a reader is shown.
    pub version: String,
    /// Everything `rustc -vV` says (commit hash, host, LLVM version): what a
    /// cache key needs, since two builds that differ there may differ in
    /// output.
    pub verbose: String,
}

impl Toolchain {
    /// Asks `$RUSTC` (or `rustc`), run in `dir` so a `rust-toolchain.toml`
    /// there counts.
    pub fn detect(dir: &Path) -> Result<Toolchain, String> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let output = Command::new(rustc)
            .arg("-vV")
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot run `rustc -vV`: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`rustc -vV` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        let verbose = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let version = verbose.lines().next().unwrap_or_default().to_owned();
        Ok(Toolchain { version, verbose })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_line_names_rustc_and_the_details_follow() {
        let toolchain = Toolchain::detect(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(
            toolchain.version.starts_with("rustc "),
            "{}",
            toolchain.version
        );
        assert!(toolchain.verbose.starts_with(&toolchain.version));
        assert!(
            toolchain.verbose.contains("\nhost: "),
            "{}",
            toolchain.verbose
        );
    }
}
