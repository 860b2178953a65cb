//! The Cargo workspace the book's directives run in: its packages, their
//! binaries, and the files a package's output can depend on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub struct Package {
    pub name: String,
    pub dir: PathBuf,
    pub bins: Vec<String>,
    pub default_run: Option<String>,
    /// Directories of its path dependencies.
    path_deps: Vec<PathBuf>,
}

pub struct Workspace {
    pub root: PathBuf,
    /// Where cargo puts what it builds: `target_directory` of `cargo
    /// metadata`, so `CARGO_TARGET_DIR` and `build.target-dir` both count.
    pub target_dir: PathBuf,
    pub packages: Vec<Package>,
}

/// The `cargo` to use: the one that runs us if any, so the toolchain stays
/// the same.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

impl Workspace {
    /// The workspace that contains `dir`, read with `cargo metadata`.
    pub fn find(dir: &Path) -> Result<Workspace, String> {
        let output = cargo()
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot start cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "`cargo metadata` failed in {}:\n{}",
                dir.display(),
                String::from_utf8_lossy(&output.stderr).trim_end()
            ));
        }
        let meta: Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("cannot read `cargo metadata` output: {e}"))?;
        let root = PathBuf::from(meta["workspace_root"].as_str().unwrap_or_default());
        let target_dir = meta["target_directory"]
            .as_str()
            .map_or_else(|| root.join("target"), PathBuf::from);
        let packages = meta["packages"]
            .as_array()
            .map(|list| list.iter().map(package_from_json).collect())
            .unwrap_or_default();
        Ok(Workspace {
            root,
            target_dir,
            packages,
        })
    }

    pub fn package(&self, name: &str) -> Result<&Package, String> {
        self.packages
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                let mut names: Vec<&str> = self.packages.iter().map(|p| p.name.as_str()).collect();
                names.sort_unstable();
                format!(
                    "package `{name}` does not exist in the workspace (packages: {})",
                    names.join(", ")
                )
            })
    }

    /// Every directory whose files can change `package`'s output: its own
    /// and those of its path dependencies, transitively.
    pub fn source_dirs(&self, package: &Package) -> BTreeSet<PathBuf> {
        let mut dirs = BTreeSet::new();
        let mut todo = vec![package.dir.clone()];
        while let Some(dir) = todo.pop() {
            if !dirs.insert(dir.clone()) {
                continue;
            }
            if let Some(member) = self.packages.iter().find(|p| p.dir == dir) {
                todo.extend(member.path_deps.iter().cloned());
            }
        }
        dirs
    }
}

impl Package {
    #[cfg(test)]
    pub fn for_tests(name: &str, dir: &str) -> Package {
        Package {
            name: name.to_owned(),
            dir: PathBuf::from(dir),
            bins: vec![name.to_owned()],
            default_run: None,
            path_deps: Vec::new(),
        }
    }

    /// The binary `cargo run` would run, checked against what exists.
    pub fn binary(&self, requested: Option<&str>) -> Result<String, String> {
        match requested {
            Some(bin) if self.bins.iter().any(|b| b == bin) => Ok(bin.to_owned()),
            Some(bin) => Err(format!(
                "package `{}` has no binary `{bin}` (binaries: {})",
                self.name,
                list_or_none(&self.bins)
            )),
            None => match (self.bins.as_slice(), &self.default_run) {
                (_, Some(default)) => Ok(default.clone()),
                ([only], None) => Ok(only.clone()),
                ([], None) => Err(format!(
                    "package `{}` has no binary to run (add src/main.rs)",
                    self.name
                )),
                (many, None) => Err(format!(
                    "package `{}` has several binaries ({}): add `--bin NAME`",
                    self.name,
                    many.join(", ")
                )),
            },
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn package_from_json(p: &Value) -> Package {
    let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
    let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    let bins = p["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    let path_deps = p["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["path"].as_str().map(PathBuf::from))
        .collect();
    Package {
        name: p["name"].as_str().unwrap_or_default().to_owned(),
        dir,
        bins,
        default_run: p["default_run"].as_str().map(str::to_owned),
        path_deps,
    }
}
