//! Exercise 1, solved: swap in mimalloc.
//!
//! The workload is untouched; one dependency line in Cargo.toml and the two
//! lines below move every allocation of any program that links this crate
//! onto mimalloc.

use std::collections::BTreeMap;

// ANCHOR: swap
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
// ANCHOR_END: swap

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
