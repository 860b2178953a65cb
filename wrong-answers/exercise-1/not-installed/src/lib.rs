//! Exercise 1, a wrong answer: the mimalloc static is declared but never
//! installed.
// The mistake itself leaves the static unused.
#![allow(dead_code, reason = "the wrong answer never installs its static")]

use std::collections::BTreeMap;

// ANCHOR: mistake
// Without `#[global_allocator]` this is an ordinary static nobody uses.
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
// ANCHOR_END: mistake

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
