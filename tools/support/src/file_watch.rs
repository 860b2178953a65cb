//! Noticing saved files, for `cargo workbook watch` and for serving the
//! book.
//!
//! It polls modification times instead of using OS file events: that needs
//! no extra dependency, behaves the same on every platform and editor (some
//! save by renaming), and costs nothing noticeable for the few hundred files
//! it looks at.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The modification time of every file under some paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<PathBuf, SystemTime>);

impl Snapshot {
    /// Every file at or under `paths`, skipping `target` directories and
    /// hidden ones (editors' swap files, `.git`).
    pub fn of(paths: &[PathBuf]) -> Snapshot {
        let mut times = BTreeMap::new();
        let mut pending = paths.to_vec();
        while let Some(path) = pending.pop() {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                if let Ok(entries) = std::fs::read_dir(&path) {
                    pending.extend(
                        entries
                            .filter_map(|e| e.ok().map(|e| e.path()))
                            .filter(|p| {
                                p.file_name()
                                    .and_then(|n| n.to_str())
                                    .is_some_and(|n| n != "target" && !n.starts_with('.'))
                            }),
                    );
                }
            } else if let Ok(modified) = meta.modified() {
                times.insert(path, modified);
            }
        }
        Snapshot(times)
    }

    /// A file that was saved, created or deleted between `self` and `later`
    /// (the first in path order), or `None` if nothing changed.
    pub fn changed_in(&self, later: &Snapshot) -> Option<PathBuf> {
        let saved = later
            .0
            .iter()
            .find(|(path, time)| self.0.get(*path) != Some(*time))
            .map(|(path, _)| path.clone());
        saved.or_else(|| {
            self.0
                .keys()
                .find(|path| !later.0.contains_key(*path))
                .cloned()
        })
    }
}

/// `path` relative to `root` when it is inside it, for messages.
pub fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The local time of day, `HH:MM:SS` (UTC when the offset is unknown, as
/// here: the standard library has no time zones).
pub fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        day / 3600,
        day % 3600 / 60,
        day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn touch(path: &Path, later: SystemTime) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(later))
            .expect("touch");
    }

    #[test]
    fn names_the_saved_created_or_deleted_file_and_skips_target() {
        let root = tempfile::tempdir().expect("temp dir");
        let src = root.path().join("src");
        std::fs::create_dir_all(src.join("nested")).expect("create");
        std::fs::create_dir_all(root.path().join("target")).expect("create");
        let lib = src.join("lib.rs");
        std::fs::write(&lib, "// one").expect("write");
        std::fs::write(src.join("nested/a.rs"), "").expect("write");
        let paths = [root.path().to_path_buf()];
        let before = Snapshot::of(&paths);
        assert_eq!(before.0.len(), 2);

        std::fs::write(root.path().join("target/junk"), "x").expect("write");
        std::fs::write(src.join(".lib.rs.swp"), "x").expect("write");
        assert_eq!(before.changed_in(&Snapshot::of(&paths)), None);

        touch(&lib, SystemTime::now() + Duration::from_secs(5));
        let after = Snapshot::of(&paths);
        assert_eq!(before.changed_in(&after), Some(lib.clone()));

        std::fs::write(src.join("new.rs"), "").expect("write");
        let with_new = Snapshot::of(&paths);
        assert_eq!(after.changed_in(&with_new), Some(src.join("new.rs")));

        std::fs::remove_file(src.join("nested/a.rs")).expect("remove");
        assert_eq!(
            with_new.changed_in(&Snapshot::of(&paths)),
            Some(src.join("nested/a.rs"))
        );
    }

    #[test]
    fn the_clock_reads_like_a_clock() {
        let clock = clock();
        assert_eq!(clock.len(), "12:34:56 UTC".len(), "{clock}");
        assert_eq!(&clock[2..3], ":");
    }
}
