//! What every part of the preprocessor reports in: where a directive
//! stands in the book, the results and errors it comes to, and progress.

use std::collections::BTreeMap;

use crate::directive::Directive;

/// Where a directive appears, as the chapter's author sees it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Site {
    pub file: String,
    pub line: usize,
}

impl Site {
    pub fn error(&self, message: &str) -> String {
        format!("{}:{}: {message}", self.file, self.line)
    }
}

/// The text each directive becomes, and the errors of those that failed.
pub type Results = (BTreeMap<Directive, String>, Vec<String>);

/// A progress line on stderr (mdBook shows it; stdout carries the book).
pub fn progress(message: &str) {
    eprintln!("[runner] {message}");
}
