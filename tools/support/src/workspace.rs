//! The Cargo workspace, read once with `cargo metadata`: its root, its
//! target directory, and its packages.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::cargo::cargo;

#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    /// Where cargo puts what it builds: `target_directory` of `cargo
    /// metadata`, so `CARGO_TARGET_DIR` and `build.target-dir` both count.
    pub target_dir: PathBuf,
    pub packages: Vec<Package>,
}

#[derive(Debug)]
pub struct Package {
    pub name: String,
    pub dir: PathBuf,
    pub bins: Vec<String>,
    /// Its integration tests (`tests/*.rs` and `[[test]]` targets).
    pub tests: Vec<String>,
    pub examples: Vec<String>,
    pub has_lib: bool,
    pub default_run: Option<String>,
    /// The source file of every target (some live outside `dir`: a
    /// solution runs its exercise's test files).
    pub target_sources: Vec<PathBuf>,
    /// Directories of its path dependencies.
    pub path_deps: Vec<PathBuf>,
}

impl Workspace {
    /// The workspace that contains `dir`.
    pub fn load(dir: &Path) -> Result<Workspace, String> {
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
        Ok(Workspace::from_metadata(&meta))
    }

    /// The workspace `cargo metadata --format-version 1` describes.
    pub fn from_metadata(meta: &Value) -> Workspace {
        let root = PathBuf::from(meta["workspace_root"].as_str().unwrap_or_default());
        let target_dir = meta["target_directory"]
            .as_str()
            .map_or_else(|| root.join("target"), PathBuf::from);
        let packages = meta["packages"]
            .as_array()
            .map(|list| list.iter().map(package_from_json).collect())
            .unwrap_or_default();
        Workspace {
            root,
            target_dir,
            packages,
        }
    }

    /// The package called `name`, or an error offering the close names (a
    /// typo) or else listing the packages there are.
    pub fn package(&self, name: &str) -> Result<&Package, String> {
        self.packages
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                let mut names: Vec<&str> = self.packages.iter().map(|p| p.name.as_str()).collect();
                names.sort_unstable();
                let close = close_names(name, &names);
                if close.is_empty() {
                    format!(
                        "package `{name}` does not exist in the workspace (packages: {})",
                        names.join(", ")
                    )
                } else {
                    format!(
                        "package `{name}` does not exist in the workspace; did you mean {}?",
                        close
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )
                }
            })
    }

    /// The package whose manifest is `manifest` (as cargo's JSON messages
    /// name it).
    pub fn package_by_manifest(&self, manifest: &Path) -> Option<&Package> {
        let dir = manifest.parent()?;
        self.packages.iter().find(|p| p.dir == dir)
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

    /// Target source files outside the package's own directory.
    pub fn sources_outside(&self) -> Vec<PathBuf> {
        self.target_sources
            .iter()
            .filter(|src| {
                !src.starts_with(&self.dir) || src.components().any(|c| c.as_os_str() == "..")
            })
            .cloned()
            .collect()
    }
}

/// Up to five names like `wanted`: containing it, contained in it, or a few
/// edits away; closest first.
pub fn close_names<'a>(wanted: &str, names: &[&'a str]) -> Vec<&'a str> {
    let wanted = wanted.to_lowercase();
    let mut scored: Vec<(usize, &str)> = names
        .iter()
        .filter_map(|&name| {
            let lower = name.to_lowercase();
            let distance = edit_distance(&wanted, &lower);
            let related = lower.contains(&wanted) || (wanted.len() > 2 && wanted.contains(&lower));
            (related || distance <= 2.max(wanted.len() / 3)).then_some((distance, name))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, name)| name).collect()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
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
    let targets = p["targets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let named = |kind: &str| -> Vec<String> {
        targets
            .iter()
            .filter(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == kind))
            })
            .filter_map(|t| t["name"].as_str().map(str::to_owned))
            .collect()
    };
    let has_lib = targets.iter().any(|t| {
        t["kind"].as_array().is_some_and(|k| {
            k.iter().any(|k| {
                matches!(
                    k.as_str(),
                    Some("lib" | "rlib" | "dylib" | "cdylib" | "staticlib")
                )
            })
        })
    });
    let target_sources = targets
        .iter()
        .filter_map(|t| t["src_path"].as_str().map(PathBuf::from))
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
        bins: named("bin"),
        tests: named("test"),
        examples: named("example"),
        has_lib,
        default_run: p["default_run"].as_str().map(str::to_owned),
        target_sources,
        path_deps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> Value {
        serde_json::json!({
            "workspace_root": "/ws",
            "target_directory": "/elsewhere/target",
            "packages": [
                {
                    "name": "solution-3",
                    "manifest_path": "/ws/solutions/exercise-3/Cargo.toml",
                    "default_run": null,
                    "targets": [
                        {"kind": ["lib"], "name": "exercise_3", "src_path": "/ws/solutions/exercise-3/src/lib.rs"},
                        {"kind": ["test"], "name": "bump", "src_path": "/ws/solutions/exercise-3/../../exercises/exercise-3/tests/bump.rs"}
                    ],
                    "dependencies": [{"name": "race-rounds", "path": "/ws/crates/race-rounds"}, {"name": "libc"}]
                },
                {
                    "name": "race-rounds",
                    "manifest_path": "/ws/crates/race-rounds/Cargo.toml",
                    "targets": [{"kind": ["bin"], "name": "rr", "src_path": "/ws/crates/race-rounds/src/main.rs"}],
                    "dependencies": []
                }
            ]
        })
    }

    #[test]
    fn reads_root_target_dir_packages_and_their_sources() {
        let ws = Workspace::from_metadata(&metadata());
        assert_eq!(ws.root, Path::new("/ws"));
        assert_eq!(ws.target_dir, Path::new("/elsewhere/target"));
        let solution = ws.package("solution-3").unwrap();
        assert_eq!(
            solution.sources_outside(),
            [PathBuf::from(
                "/ws/solutions/exercise-3/../../exercises/exercise-3/tests/bump.rs"
            )]
        );
        assert_eq!(
            ws.source_dirs(solution).into_iter().collect::<Vec<_>>(),
            [
                PathBuf::from("/ws/crates/race-rounds"),
                PathBuf::from("/ws/solutions/exercise-3")
            ]
        );
        assert_eq!(
            ws.package("race-rounds").unwrap().binary(None).unwrap(),
            "rr"
        );
        assert!(
            ws.package("race-round")
                .unwrap_err()
                .contains("did you mean `race-rounds`?")
        );
        assert!(
            ws.package("zzzzzz")
                .unwrap_err()
                .contains("(packages: race-rounds, solution-3)")
        );
        assert_eq!(
            ws.package_by_manifest(Path::new("/ws/crates/race-rounds/Cargo.toml"))
                .map(|p| p.name.as_str()),
            Some("race-rounds")
        );
    }

    #[test]
    fn close_names_are_offered() {
        let names = [
            "counting",
            "c-malloc",
            "exercise-3",
            "exercise-4",
            "heap-timelines",
        ];
        assert_eq!(close_names("countng", &names), ["counting"]);
        assert_eq!(
            close_names("exercise3", &names),
            ["exercise-3", "exercise-4"]
        );
        assert_eq!(close_names("timelines", &names), ["heap-timelines"]);
        assert!(close_names("zzzzzzzzzz", &names).is_empty());
    }

    #[test]
    fn the_real_workspace_reports_its_target_directory() {
        let ws = Workspace::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(ws.package("workbook-support").is_ok());
        assert!(ws.target_dir.is_absolute(), "{}", ws.target_dir.display());
    }
}
