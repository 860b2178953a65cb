//! Chapter: the same workload with mimalloc as the global allocator.
//!
//! [`workload`] knows nothing about allocators. Two binaries run it: the
//! chapter's program with `mimalloc::MiMalloc` as `#[global_allocator]`, and
//! `with-system` with the standard `System` allocator. Their output is
//! identical; only the allocator underneath differs.

use std::fmt;

/// How many formatted strings the workload builds.
pub const STRING_COUNT: usize = 100_000;

// ANCHOR: workload
/// What the workload produced, small enough to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Strings built.
    pub count: usize,
    /// Their total length in bytes.
    pub total_len: usize,
    /// The first and last strings.
    pub first: String,
    pub last: String,
    /// FNV-1a hash over every string, so any difference in content shows.
    pub checksum: u64,
    /// A small `Vec<String>` built alongside.
    pub colours: Vec<String>,
}

/// The allocation-heavy job: 100 000 formatted strings collected into a
/// `Vec`, plus a short list of names. Every string is its own allocation.
pub fn workload() -> Summary {
    let strings: Vec<String> = (0..STRING_COUNT)
        .map(|i| format!("order-{i:06}: {} units", i % 97))
        .collect();
    let colours: Vec<String> = ["red", "green", "blue"]
        .iter()
        .map(|name| name.to_uppercase())
        .collect();
    Summary {
        count: strings.len(),
        total_len: strings.iter().map(String::len).sum(),
        first: strings.first().cloned().unwrap_or_default(),
        last: strings.last().cloned().unwrap_or_default(),
        checksum: strings
            .iter()
            .fold(FNV_OFFSET, |hash, s| fnv1a(hash, s.as_bytes())),
        colours,
    }
}
// ANCHOR_END: workload

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
    })
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "strings built:     {}", self.count)?;
        writeln!(f, "total text:        {} bytes", self.total_len)?;
        writeln!(f, "first:             {}", self.first)?;
        writeln!(f, "last:              {}", self.last)?;
        writeln!(f, "checksum (FNV-1a): {:016x}", self.checksum)?;
        write!(f, "small list:        {:?}", self.colours)
    }
}
