//! Exercise 1: swap in mimalloc.
//!
//! This crate's workload runs on the system allocator. Make mimalloc serve
//! every allocation instead, without changing a line of the workload.
//!
//! not solved yet: add the `mimalloc` dependency to this crate's Cargo.toml
//! and declare it as the `#[global_allocator]` below — see the chapter
//! "Swapping in mimalloc", or run `cargo workbook hint 1`.

use std::collections::BTreeMap;

// TODO: the global allocator declaration goes here.

/// Counts the words of `text` (split on whitespace), one `word count` line
/// per distinct word, most frequent first, ties in alphabetical order.
pub fn word_report(text: &str) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for word in text.split_whitespace() {
        *counts.entry(word).or_default() += 1;
    }
    let mut rows: Vec<(&str, usize)> = counts.into_iter().collect();
    // Stable sort: equal counts keep the map's alphabetical order.
    rows.sort_by_key(|&(_, count)| std::cmp::Reverse(count));
    rows.iter()
        .map(|(word, count)| format!("{word} {count}\n"))
        .collect()
}
