//! Results kept under a hash of everything that can change them, so a
//! rebuild with nothing changed runs nothing: [`Key`] hashes labelled inputs
//! and whole source trees, [`Store`] keeps one result per key.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Builds a cache key from labelled inputs.
pub struct Key(Sha256);

impl Key {
    /// A key for one kind of result; `format` names it and its recipe
    /// (change it when the recipe or the stored format changes).
    pub fn new(format: &str) -> Key {
        let mut key = Key(Sha256::new());
        key.add("format", format.as_bytes());
        key
    }

    /// Adds one input; the label and the lengths keep inputs from running
    /// into each other.
    pub fn add(&mut self, label: &str, bytes: &[u8]) {
        for part in [label.as_bytes(), bytes] {
            self.0.update((part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
    }

    /// Adds a file's contents, or records that it is missing.
    pub fn add_file(&mut self, label: &str, path: &Path) {
        match std::fs::read(path) {
            Ok(bytes) => self.add(label, &bytes),
            Err(_) => self.add(label, b"<missing>"),
        }
    }

    /// Adds every file under `dir` (sorted, skipping `target` and hidden
    /// directories), each labelled by its path relative to `relative_to`.
    pub fn add_tree(&mut self, dir: &Path, relative_to: &Path) -> Result<(), String> {
        let mut files = Vec::new();
        collect_files(dir, &mut files)?;
        files.sort();
        for file in files {
            let label = file.strip_prefix(relative_to).unwrap_or(&file);
            self.add_file(&label.to_string_lossy(), &file);
        }
        Ok(())
    }

    pub fn hex(self) -> String {
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        let name = entry.file_name();
        let file_type = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if file_type.is_dir() {
            if name != "target" && !name.to_string_lossy().starts_with('.') {
                collect_files(&path, files)?;
            }
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// A directory of stored results, one file per key.
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    pub fn get(&self, key: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(key)).ok()
    }

    /// Stores a result; written to a temporary name first so a crash never
    /// leaves a half-written entry.
    pub fn put(&self, key: &str, value: &str) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let tmp = self.dir.join(format!("{key}.tmp{}", std::process::id()));
        std::fs::write(&tmp, value).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, self.dir.join(key))
            .map_err(|e| format!("cannot store a result in {}: {e}", self.dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(parts: &[(&str, &[u8])]) -> String {
        let mut key = Key::new("test");
        for (label, bytes) in parts {
            key.add(label, bytes);
        }
        key.hex()
    }

    #[test]
    fn inputs_do_not_run_into_each_other() {
        assert_ne!(key_of(&[("a", b"bc")]), key_of(&[("ab", b"c")]));
        assert_ne!(key_of(&[("a", b"b"), ("c", b"")]), key_of(&[("a", b"bc")]));
        assert_eq!(key_of(&[("a", b"b")]), key_of(&[("a", b"b")]));
    }

    #[test]
    fn a_tree_key_changes_with_any_file_but_not_with_target() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join("src/main.rs"), "fn main() {}").unwrap();
        let tree_key = || {
            let mut key = Key::new("test");
            key.add_tree(root, root).unwrap();
            key.hex()
        };
        let first = tree_key();
        std::fs::write(root.join("target/junk"), "x").unwrap();
        assert_eq!(tree_key(), first);
        std::fs::write(root.join("src/main.rs"), "fn main() { }").unwrap();
        assert_ne!(tree_key(), first);
    }

    #[test]
    fn the_store_returns_what_was_put() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("cache"));
        assert_eq!(store.get("k"), None);
        store.put("k", "output\n").unwrap();
        assert_eq!(store.get("k").as_deref(), Some("output\n"));
    }
}
