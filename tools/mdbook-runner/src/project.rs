//! What every result is keyed by: the workspace and the compiler that
//! builds it.

use std::path::Path;

use workbook_support::toolchain::Toolchain;
use workbook_support::workspace::Workspace;

/// The workspace and its compiler, asked once per build of the book
/// (`cargo metadata`, `rustc -vV`) and shared with the background.
pub struct Project {
    pub workspace: Workspace,
    pub toolchain: Toolchain,
}

impl Project {
    /// The workspace that contains `book_root`.
    pub fn load(book_root: &Path) -> Result<Project, String> {
        Ok(Project {
            workspace: Workspace::load(book_root)?,
            toolchain: Toolchain::detect(book_root)?,
        })
    }
}
