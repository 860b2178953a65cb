//! Making diagnostics readable anywhere: machine paths become `cases/...`,
//! `target`, `$CARGO_HOME`, and a path that slips through is reported.

use std::path::{Path, PathBuf};

use workbook_support::workspace::Workspace;

use crate::PACKAGE_DIR;
use crate::compiler::path_arg;

/// The subdirectory of the cargo target directory the cases are built in.
const CASES_TARGET_SUBDIR: &str = "pitfalls-cases";

/// The absolute paths a diagnostic may mention, and how to show each.
pub(crate) struct Places {
    pub cases_target: PathBuf,
    /// `(absolute prefix, replacement)`, longest prefix first.
    replacements: Vec<(String, String)>,
}

impl Places {
    pub fn discover() -> Result<Self, String> {
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
    pub fn normalise(&self, text: &str) -> String {
        let mut text = strip_rustc_remap(text);
        for (prefix, replacement) in &self.replacements {
            text = text.replace(prefix.as_str(), replacement);
        }
        text
    }

    /// A machine path left in `text`, if any.
    pub fn leaked_path(&self, text: &str) -> Option<String> {
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
/// Cargo's `CACHEDIR.TAG` (true for any target directory, however it was
/// chosen), else the one `cargo metadata` names for this workspace.
fn target_dir() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this executable's path: {e}"))?;
    if let Some(found) = exe
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
    {
        return Ok(found.to_path_buf());
    }
    Workspace::load(Path::new(PACKAGE_DIR)).map(|ws| ws.target_dir)
}

fn cargo_home() -> Option<PathBuf> {
    match std::env::var_os("CARGO_HOME") {
        Some(home) => Some(PathBuf::from(home)),
        None => std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")),
    }
}
