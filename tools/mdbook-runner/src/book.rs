//! Building the book with mdBook's own library (pinned in the workspace's
//! Cargo.lock, so no separately installed `mdbook` is needed), with this
//! runner as its `runner` preprocessor, in the same process.

use std::path::Path;
use std::sync::Arc;

use mdbook_driver::MDBook;
use mdbook_preprocessor::book::Book;
use mdbook_preprocessor::errors::{Error, Result};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

use crate::background::Background;
use crate::preprocess;

/// Who a build is for.
#[derive(Clone)]
pub enum Audience {
    /// The test command: every result produced now, every wrong answer
    /// proven (Miri included).
    Check,
    /// A reader: where Miri is missing, a wrong answer only Miri rejects
    /// gets a note on how to see it (`without-miri = "note"`).
    Reader,
    /// A reader of the served book: as `Reader`, and results not in the
    /// cache yet are produced by `Background` while pages show a
    /// placeholder.
    Served(Arc<Background>),
}

/// The `[preprocessor.runner]` of book.toml, run in this process.
struct Runner {
    background: Option<Arc<Background>>,
}

impl Preprocessor for Runner {
    fn name(&self) -> &str {
        "runner"
    }

    fn run(&self, ctx: &PreprocessorContext, book: Book) -> Result<Book> {
        preprocess::run(ctx, book, self.background.as_ref()).map_err(|errors| {
            Error::msg(format!(
                "{}\nthe runner found {} problem(s)",
                errors.join("\n"),
                errors.len()
            ))
        })
    }
}

/// The book at `book_dir`, configured for `audience`. `live_reload` is the
/// path of the server's reload socket, which mdBook's pages then connect to.
pub fn load(book_dir: &Path, audience: &Audience, live_reload: Option<&str>) -> Result<MDBook> {
    let mut book = MDBook::load(book_dir)?;
    let background = match audience {
        Audience::Check => None,
        Audience::Reader => {
            book.config
                .set("preprocessor.runner.without-miri", "note")?;
            None
        }
        Audience::Served(background) => {
            book.config
                .set("preprocessor.runner.without-miri", "note")?;
            Some(Arc::clone(background))
        }
    };
    if let Some(endpoint) = live_reload {
        book.config
            .set("output.html.live-reload-endpoint", endpoint)?;
        // Pages are served from the site's root, so its 404 page's links
        // start there.
        book.config.set("output.html.site-url", "/")?;
    }
    // Replaces the external `command` of book.toml, keeping its place
    // (before `links`).
    book.with_preprocessor(Runner { background });
    Ok(book)
}

/// Builds the book at `book_dir` into its build directory.
pub fn build(book_dir: &Path, audience: &Audience) -> std::result::Result<(), String> {
    load(book_dir, audience, None)
        .and_then(|book| book.build())
        .map_err(|e| format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// mdBook's two crates move together, pinned exactly, and README names
    /// the version a reader gets.
    #[test]
    fn mdbooks_crates_share_one_pin_and_readme_names_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
            .unwrap()
            .parse()
            .expect("the root Cargo.toml parses");
        let pin = |krate: &str| {
            manifest["workspace"]["dependencies"][krate]
                .as_str()
                .and_then(|v| v.strip_prefix('='))
                .unwrap_or_else(|| panic!("root Cargo.toml pins {krate} = \"=X.Y.Z\""))
                .to_owned()
        };
        let version = pin("mdbook-driver");
        assert_eq!(pin("mdbook-preprocessor"), version);
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let named = format!("library (version {version}, pinned in `Cargo.lock`");
        assert!(
            readme.contains(&named),
            "README.md should say {named:?} where it explains serving the book"
        );
    }
}
