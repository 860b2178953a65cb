//! Finding the gallery's crates and checking what each declares.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The gallery's directory, relative to the workspace root.
pub const GALLERY_DIR: &str = "wrong-answers";

/// The glob in the root manifest's `[workspace] members` that makes every
/// gallery crate a workspace member.
pub const MEMBER_GLOB: &str = "wrong-answers/*/*";

/// The fields of `[package.metadata.wrong-answer]`.
const FIELDS: [&str; 4] = ["mistake", "rejected-by", "caught-by", "seeds"];

/// How a wrong answer is proven wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejectedBy {
    /// `cargo test`: some of its tests fail.
    Native,
    /// `cargo miri test` over the seeds `start..end`
    /// (`-Zmiri-many-seeds=start..end`): Miri reports undefined behaviour,
    /// or a test fails, for at least one seed.
    Miri { seeds: String },
}

/// One crate of the gallery, with its metadata checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongAnswer {
    /// `wrong-N-<slug>`.
    pub package: String,
    pub exercise: u32,
    pub slug: String,
    /// `wrong-answers/exercise-N/<slug>`, relative to the workspace root.
    pub dir: PathBuf,
    /// One sentence: what is wrong and why it breaks.
    pub mistake: String,
    pub rejected_by: RejectedBy,
    /// The tests (function names, or `module::name` paths) that must fail.
    pub caught_by: Vec<String>,
}

impl WrongAnswer {
    /// The manifest, relative to the root, for messages.
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }

    /// The exercise's directory, relative to the root.
    pub fn exercise_dir(&self) -> PathBuf {
        PathBuf::from(format!("exercises/exercise-{}", self.exercise))
    }
}

/// Every crate of the gallery, sorted by exercise and name, each checked;
/// or every problem found (all of them, so one run shows everything).
/// A workspace without a gallery directory has none.
pub fn discover(root: &Path) -> Result<Vec<WrongAnswer>, Vec<String>> {
    let gallery = root.join(GALLERY_DIR);
    if !gallery.is_dir() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for exercise_dir in sorted_dirs(&gallery).map_err(|e| vec![e])? {
        let name = file_name(&exercise_dir);
        let Some(number) = exercise_number(&name) else {
            errors.push(format!(
                "{GALLERY_DIR}/{name}: unexpected directory; the gallery holds only \
                 exercise-N directories (N an exercise number)"
            ));
            continue;
        };
        let crates = match sorted_dirs(&exercise_dir) {
            Ok(crates) => crates,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for crate_dir in crates {
            let relative = PathBuf::from(GALLERY_DIR)
                .join(&name)
                .join(file_name(&crate_dir));
            match load(root, &relative, number) {
                Ok(answer) => found.push(answer),
                Err(e) => errors.push(e),
            }
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
}

/// The wrong answer named `package` (`wrong-N-<slug>`), read from
/// `wrong-answers/exercise-N/<slug>/` and checked.
pub fn by_package(root: &Path, package: &str) -> Result<WrongAnswer, String> {
    let parsed = package.strip_prefix("wrong-").and_then(|rest| {
        let (number, slug) = rest.split_once('-')?;
        Some((number.parse::<u32>().ok()?, slug))
    });
    let Some((number, slug)) = parsed.filter(|(_, slug)| !slug.is_empty()) else {
        return Err(format!(
            "`{package}` is not a wrong answer's package name: they are named \
             wrong-N-<mistake>, for {GALLERY_DIR}/exercise-N/<mistake>/"
        ));
    };
    let dir = PathBuf::from(GALLERY_DIR)
        .join(format!("exercise-{number}"))
        .join(slug);
    if !root.join(&dir).join("Cargo.toml").is_file() {
        return Err(format!(
            "no wrong answer `{package}`: {} does not exist",
            dir.join("Cargo.toml").display()
        ));
    }
    load(root, &dir, number)
}

/// Problems with how the gallery covers the exercises `1..=exercises`:
/// every exercise needs at least `minimum` wrong answers, and none may
/// belong to an exercise that does not exist.
pub fn coverage(answers: &[WrongAnswer], exercises: u32, minimum: usize) -> Vec<String> {
    let mut counts: BTreeMap<u32, usize> = (1..=exercises).map(|n| (n, 0)).collect();
    let mut errors = Vec::new();
    for answer in answers {
        match counts.get_mut(&answer.exercise) {
            Some(count) => *count += 1,
            None => errors.push(format!(
                "{}: there is no exercise {} (exercises run 1 to {exercises})",
                answer.dir.display(),
                answer.exercise
            )),
        }
    }
    for (number, count) in counts {
        if count < minimum {
            errors.push(format!(
                "exercise {number} has {count} wrong answer(s) in {GALLERY_DIR}/exercise-{number}/; \
                 every exercise needs at least {minimum}"
            ));
        }
    }
    errors
}

/// The pinned nightly for Miri: `[workspace.metadata.workbook]
/// miri-toolchain` in the root manifest, unless `WORKBOOK_MIRI_TOOLCHAIN`
/// names another (as for `cargo workbook miri`).
pub fn miri_toolchain(root: &Path) -> Result<String, String> {
    if let Some(name) = std::env::var_os("WORKBOOK_MIRI_TOOLCHAIN") {
        return Ok(name.to_string_lossy().into_owned());
    }
    let manifest = read_manifest(&root.join("Cargo.toml"), "Cargo.toml")?;
    manifest
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("workbook"))
        .and_then(|w| w.get("miri-toolchain"))
        .and_then(|t| t.as_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            "Cargo.toml: no `miri-toolchain` in [workspace.metadata.workbook]; it pins the \
             nightly that runs Miri"
                .to_owned()
        })
}

/// Reads and checks one crate of the gallery; `dir` is relative to `root`.
fn load(root: &Path, dir: &Path, exercise: u32) -> Result<WrongAnswer, String> {
    let shown = dir.join("Cargo.toml").display().to_string();
    let manifest = read_manifest(&root.join(dir).join("Cargo.toml"), &shown)?;
    let slug = file_name(dir);
    let expected_name = format!("wrong-{exercise}-{slug}");
    let name = manifest
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or_default();
    if name != expected_name {
        return Err(format!(
            "{shown}: the package is named `{name}`, but its directory makes it `{expected_name}` \
             (wrong-N-<mistake>, from {GALLERY_DIR}/exercise-N/<mistake>/)"
        ));
    }
    let table = manifest
        .get("package")
        .and_then(|p| p.get("metadata"))
        .and_then(|m| m.get("wrong-answer"))
        .and_then(|w| w.as_table())
        .ok_or_else(|| {
            format!(
                "{shown}: no [package.metadata.wrong-answer] table; it declares `mistake`, \
                 `rejected-by` (\"native\" or \"miri\"), `caught-by` (the tests that must fail) \
                 and, for Miri, `seeds`"
            )
        })?;
    let here = format!("{shown}: [package.metadata.wrong-answer]");
    if let Some(unknown) = table.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "{here}: unknown field `{unknown}` (the fields are {})",
            FIELDS.join(", ")
        ));
    }
    let text = |field: &str| -> Result<String, String> {
        match table.get(field) {
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            Some(toml::Value::String(_)) => Err(format!("{here}: `{field}` is empty")),
            Some(other) => Err(format!(
                "{here}: `{field}` must be a string, found {}",
                other.type_str()
            )),
            None => Err(format!("{here}: missing field `{field}`")),
        }
    };
    let mistake = text("mistake")?;
    let rejected_by = match text("rejected-by")?.as_str() {
        "native" => {
            if table.contains_key("seeds") {
                return Err(format!(
                    "{here}: `seeds` is only for rejected-by = \"miri\"; a native run has no seeds"
                ));
            }
            RejectedBy::Native
        }
        "miri" => {
            let seeds = text("seeds").map_err(|e| {
                format!("{e} (rejected-by = \"miri\" needs the seed range that catches it, e.g. seeds = \"0..16\")")
            })?;
            check_seeds(&seeds).map_err(|e| format!("{here}: {e}"))?;
            RejectedBy::Miri { seeds }
        }
        other => {
            return Err(format!(
                "{here}: `rejected-by` must be \"native\" or \"miri\", found \"{other}\""
            ));
        }
    };
    let caught_by = match table.get("caught-by") {
        Some(toml::Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| match item.as_str() {
                Some(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                _ => Err(format!(
                    "{here}: `caught-by` lists test names as strings, found {item}"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(toml::Value::Array(_)) => {
            return Err(format!(
                "{here}: `caught-by` is empty; name the test(s) that must fail"
            ));
        }
        Some(other) => {
            return Err(format!(
                "{here}: `caught-by` must be a list of test names, found {}",
                other.type_str()
            ));
        }
        None => return Err(format!("{here}: missing field `caught-by`")),
    };
    let answer = WrongAnswer {
        package: expected_name,
        exercise,
        slug,
        dir: dir.to_path_buf(),
        mistake,
        rejected_by,
        caught_by,
    };
    check_tests(root, &answer, &manifest)?;
    Ok(answer)
}

/// `A..B` with A < B.
fn check_seeds(seeds: &str) -> Result<(), String> {
    let range = seeds.split_once("..").and_then(|(start, end)| {
        Some((
            start.trim().parse::<u64>().ok()?,
            end.trim().parse::<u64>().ok()?,
        ))
    });
    match range {
        Some((start, end)) if start < end => Ok(()),
        _ => Err(format!(
            "`seeds` must be a range START..END with START < END, e.g. \"0..16\"; found \"{seeds}\""
        )),
    }
}

/// The crate runs exactly its exercise's test files (as `[[test]]` paths,
/// none of its own), and every `caught-by` test is defined in them.
/// The `path` of every `[[test]]` target a manifest declares (a solution or
/// a wrong answer runs its exercise's test files this way).
pub fn test_paths(manifest: &toml::Table) -> Vec<&str> {
    manifest
        .get("test")
        .and_then(|t| t.as_array())
        .map(|tests| {
            tests
                .iter()
                .filter_map(|t| t.get("path")?.as_str())
                .collect()
        })
        .unwrap_or_default()
}

fn check_tests(root: &Path, answer: &WrongAnswer, manifest: &toml::Table) -> Result<(), String> {
    let shown = answer.manifest().display().to_string();
    let tests_dir = answer.exercise_dir().join("tests");
    if root.join(&answer.dir).join("tests").exists() {
        return Err(format!(
            "{}: a wrong answer has no tests of its own; it runs {}'s",
            answer.dir.join("tests").display(),
            tests_dir.display()
        ));
    }
    let listed = test_paths(manifest);
    let prefix = format!("../../../exercises/exercise-{}/tests/", answer.exercise);
    let entries = std::fs::read_dir(root.join(&tests_dir))
        .map_err(|e| format!("cannot read {}: {e}", tests_dir.display()))?;
    let mut files: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs"))
        .collect();
    files.sort();
    for name in &files {
        let expected = format!("{prefix}{name}");
        if !listed.contains(&expected.as_str()) {
            return Err(format!(
                "{shown} does not run {}/{name}: add a [[test]] with path = \"{expected}\" \
                 (a wrong answer runs every test file of its exercise)",
                tests_dir.display()
            ));
        }
    }
    if let Some(other) = listed.iter().find(|p| !p.starts_with(&prefix)) {
        return Err(format!(
            "{shown}: [[test]] path \"{other}\" is not one of {}'s test files",
            tests_dir.display()
        ));
    }
    let mut sources = String::new();
    collect_rs(&root.join(&tests_dir), &mut sources)?;
    for test in &answer.caught_by {
        let function = test.rsplit("::").next().unwrap_or(test);
        if !defines_fn(&sources, function) {
            return Err(format!(
                "{shown}: [package.metadata.wrong-answer] caught-by names `{test}`, but no test \
                 `fn {function}` exists in {}",
                tests_dir.display()
            ));
        }
    }
    Ok(())
}

/// Whether `source` defines a function named `name`.
fn defines_fn(source: &str, name: &str) -> bool {
    let pattern = format!("fn {name}");
    source.match_indices(&pattern).any(|(at, _)| {
        let after = source[at + pattern.len()..].trim_start();
        let before = source[..at].chars().next_back();
        (after.starts_with('(') || after.starts_with('<'))
            && before.is_none_or(|c| !c.is_alphanumeric() && c != '_')
    })
}

/// Appends every `.rs` file under `dir` (sorted) to `out`.
fn collect_rs(dir: &Path, out: &mut String) -> Result<(), String> {
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            out.push_str(&text);
            out.push('\n');
        }
    }
    Ok(())
}

fn read_manifest(path: &Path, shown: &str) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    toml::from_str(&text).map_err(|e| format!("{shown} is not valid TOML: {e}"))
}

/// `exercise-N` → N.
fn exercise_number(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("exercise-")?;
    if digits.starts_with('0') {
        return None;
    }
    digits.parse().ok()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

/// The subdirectories of `dir`, sorted, skipping hidden ones and `target`.
fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter(|p| {
            let name = file_name(p);
            !name.starts_with('.') && name != "target"
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace root with exercise 3's tests and one wrong answer whose
    /// metadata table is `metadata`.
    fn fixture(metadata: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("exercises/exercise-3/tests/common")).unwrap();
        std::fs::write(
            root.join("exercises/exercise-3/tests/bump.rs"),
            "mod common;\n#[test]\nfn two_threads_never_share_a_block() {}\n#[test]\nfn aligned() {}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("exercises/exercise-3/tests/common/mod.rs"),
            "pub fn helper_fn_only() {}\n",
        )
        .unwrap();
        write_answer(root, "load-then-store", "wrong-3-load-then-store", metadata);
        dir
    }

    fn write_answer(root: &Path, slug: &str, name: &str, metadata: &str) {
        let dir = root.join("wrong-answers/exercise-3").join(slug);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "").unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n\
                 [[test]]\nname = \"bump\"\npath = \"../../../exercises/exercise-3/tests/bump.rs\"\n\n\
                 [package.metadata.wrong-answer]\n{metadata}"
            ),
        )
        .unwrap();
    }

    const GOOD: &str = "mistake = \"Loads, then stores.\"\nrejected-by = \"native\"\n\
                        caught-by = [\"two_threads_never_share_a_block\"]\n";

    #[test]
    fn a_well_formed_wrong_answer_is_read() {
        let dir = fixture(GOOD);
        let found = discover(dir.path()).unwrap();
        assert_eq!(
            found,
            [WrongAnswer {
                package: "wrong-3-load-then-store".into(),
                exercise: 3,
                slug: "load-then-store".into(),
                dir: "wrong-answers/exercise-3/load-then-store".into(),
                mistake: "Loads, then stores.".into(),
                rejected_by: RejectedBy::Native,
                caught_by: vec!["two_threads_never_share_a_block".into()],
            }]
        );
        assert_eq!(
            by_package(dir.path(), "wrong-3-load-then-store").unwrap(),
            found[0]
        );
        let miri = fixture(
            "mistake = \"m\"\nrejected-by = \"miri\"\nseeds = \"0..16\"\ncaught-by = [\"aligned\"]\n",
        );
        assert_eq!(
            discover(miri.path()).unwrap()[0].rejected_by,
            RejectedBy::Miri {
                seeds: "0..16".into()
            }
        );
    }

    #[test]
    fn a_workspace_without_a_gallery_has_no_wrong_answers() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(discover(dir.path()), Ok(Vec::new()));
    }

    #[test]
    fn bad_metadata_is_refused_naming_the_file_and_the_field() {
        let file = "wrong-answers/exercise-3/load-then-store/Cargo.toml";
        let cases = [
            (
                "rejected-by = \"native\"\ncaught-by = [\"aligned\"]\n",
                "missing field `mistake`",
            ),
            (
                "mistake = \"m\"\ncaught-by = [\"aligned\"]\n",
                "missing field `rejected-by`",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"native\"\n",
                "missing field `caught-by`",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"native\"\ncaught-by = [\"aligned\"]\ncaugth-by = 1\n",
                "unknown field `caugth-by` (the fields are mistake, rejected-by, caught-by, seeds)",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"loom\"\ncaught-by = [\"aligned\"]\n",
                "`rejected-by` must be \"native\" or \"miri\", found \"loom\"",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"miri\"\ncaught-by = [\"aligned\"]\n",
                "missing field `seeds`",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"miri\"\nseeds = \"16..0\"\ncaught-by = [\"aligned\"]\n",
                "`seeds` must be a range START..END",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"native\"\nseeds = \"0..4\"\ncaught-by = [\"aligned\"]\n",
                "`seeds` is only for rejected-by = \"miri\"",
            ),
            (
                "mistake = \"\"\nrejected-by = \"native\"\ncaught-by = [\"aligned\"]\n",
                "`mistake` is empty",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"native\"\ncaught-by = []\n",
                "`caught-by` is empty",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"native\"\ncaught-by = \"aligned\"\n",
                "`caught-by` must be a list of test names, found string",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"native\"\ncaught-by = [\"never_written\"]\n",
                "caught-by names `never_written`, but no test `fn never_written` exists in exercises/exercise-3/tests",
            ),
            (
                "mistake = \"m\"\nrejected-by = \"native\"\ncaught-by = [\"helper\"]\n",
                "no test `fn helper` exists",
            ),
        ];
        for (metadata, expected) in cases {
            let dir = fixture(metadata);
            let errors = discover(dir.path()).expect_err(metadata);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0].starts_with(file) && errors[0].contains(expected),
                "{metadata}: got {:?}, wanted {expected:?}",
                errors[0]
            );
        }
    }

    #[test]
    fn the_crate_must_run_its_exercises_tests_under_its_own_name() {
        let dir = fixture(GOOD);
        write_answer(dir.path(), "renamed", "wrong-3-other-name", GOOD);
        std::fs::write(dir.path().join("exercises/exercise-3/tests/more.rs"), "").unwrap();
        std::fs::create_dir_all(dir.path().join("wrong-answers/exercise-x")).unwrap();
        let errors = discover(dir.path()).expect_err("refused");
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("wrong-answers/exercise-3/load-then-store/Cargo.toml does not run exercises/exercise-3/tests/more.rs"), "{errors:?}");
        assert!(errors[1].contains("the package is named `wrong-3-other-name`, but its directory makes it `wrong-3-renamed`"), "{errors:?}");
        assert!(
            errors[2].contains("wrong-answers/exercise-x: unexpected directory"),
            "{errors:?}"
        );
        assert!(by_package(dir.path(), "wrong-3-nothing").unwrap_err().contains("no wrong answer `wrong-3-nothing`: wrong-answers/exercise-3/nothing/Cargo.toml does not exist"));
        assert!(
            by_package(dir.path(), "solution-3")
                .unwrap_err()
                .contains("is not a wrong answer's package name")
        );
    }

    #[test]
    fn every_exercise_needs_enough_wrong_answers() {
        let answer = |exercise: u32, slug: &str| WrongAnswer {
            package: format!("wrong-{exercise}-{slug}"),
            exercise,
            slug: slug.into(),
            dir: format!("wrong-answers/exercise-{exercise}/{slug}").into(),
            mistake: String::new(),
            rejected_by: RejectedBy::Native,
            caught_by: Vec::new(),
        };
        let answers = [
            answer(1, "a"),
            answer(1, "b"),
            answer(2, "a"),
            answer(7, "a"),
        ];
        assert!(coverage(&answers, 2, 2).len() == 2);
        let errors = coverage(&answers, 2, 2);
        assert!(errors[0].contains("there is no exercise 7"), "{errors:?}");
        assert!(errors[1].contains("exercise 2 has 1 wrong answer(s) in wrong-answers/exercise-2/; every exercise needs at least 2"), "{errors:?}");
    }

    #[test]
    fn test_functions_are_found_by_name() {
        assert!(defines_fn("fn a() {}\n fn ab<T>() {}", "ab"));
        assert!(!defines_fn("fn abc() {}", "ab"));
        assert!(!defines_fn("fn xab() {}", "ab"));
    }
}
