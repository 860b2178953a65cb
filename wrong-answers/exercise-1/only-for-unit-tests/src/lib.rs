//! Exercise 1, a wrong answer: mimalloc is installed for unit tests only.

use std::collections::BTreeMap;

// ANCHOR: mistake
// `cfg(test)` is set only for this crate's own `#[cfg(test)]` unit tests,
// not for the programs in tests/, which link the library built without it.
#[cfg(test)]
#[global_allocator]
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
