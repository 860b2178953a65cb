//! The workloads. Each returns a checksum that depends on every block it
//! allocated, so the optimiser cannot drop the work and a test can check the
//! result against [`Workload::expected`], which computes it without
//! allocating.

use std::hint::black_box;
use std::sync::mpsc::sync_channel;

use serde::{Deserialize, Serialize};

use crate::Sizes;

/// A 32-byte block: the small allocation most programs make most often.
pub type Block = [u64; 4];

fn block(i: u64) -> Block {
    [i, 0, 0, 0]
}

/// Blocks alive at once in [`churn`]: freed in reverse order (LIFO).
pub const CHURN_DEPTH: usize = 16;

/// The block [`cross_thread`] sends: 128 bytes, past glibc's fast bins,
/// so System frees it into bins that take the arena's lock.
pub type CrossBlock = [u64; 16];

fn cross_block(i: u64) -> CrossBlock {
    let mut b = [0; 16];
    b[0] = i;
    b
}

/// Blocks per batch in [`cross_thread`].
pub const CROSS_BATCH: usize = 1000;

/// Batches in flight between the two threads of [`cross_thread`].
pub const BATCHES_IN_FLIGHT: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    Churn,
    Batch,
    CrossThread,
    VecGrowth,
    FormatStrings,
}

impl Workload {
    pub const ALL: [Workload; 5] = [
        Workload::Churn,
        Workload::Batch,
        Workload::CrossThread,
        Workload::VecGrowth,
        Workload::FormatStrings,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Churn => "churn",
            Workload::Batch => "batch",
            Workload::CrossThread => "cross-thread",
            Workload::VecGrowth => "vec-growth",
            Workload::FormatStrings => "format-strings",
        }
    }

    pub fn parse(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// What one operation is, for the report's "ns per op", in Markdown
    /// (a bare `Vec<u64>` would read as an HTML tag).
    pub fn op(self) -> &'static str {
        match self {
            Workload::Churn => "alloc + free of 32 B",
            Workload::Batch => "32 B block, freed with its batch",
            Workload::CrossThread => {
                "128 B block, sent in a batch of 1000 and freed by another thread"
            }
            Workload::VecGrowth => "`Vec<u64>` push (growth by `realloc`)",
            Workload::FormatStrings => "`format!(\"row-{i}\")` into a `Vec`",
        }
    }

    /// Operations in one timed run.
    pub fn ops(self, sizes: &Sizes) -> u64 {
        match self {
            Workload::Churn => sizes.churn_ops,
            Workload::Batch => sizes.batch_blocks,
            Workload::CrossThread => sizes.cross_thread_blocks,
            Workload::VecGrowth => sizes.vec_count * sizes.vec_len,
            Workload::FormatStrings => sizes.strings,
        }
    }

    /// The checksum a correct run returns, computed without allocating.
    pub fn expected(self, sizes: &Sizes) -> u64 {
        match self {
            Workload::Churn => triangle(sizes.churn_ops),
            Workload::Batch => triangle(sizes.batch_blocks),
            Workload::CrossThread => triangle(sizes.cross_thread_blocks),
            Workload::VecGrowth => {
                let last = sizes.vec_len.saturating_sub(1);
                (0..sizes.vec_count)
                    .map(|v| sizes.vec_len + (v ^ last))
                    .sum()
            }
            Workload::FormatStrings => {
                let text: u64 = (0..sizes.strings).map(|i| 4 + decimal_digits(i)).sum();
                text + sizes.strings
            }
        }
    }
}

/// 0 + 1 + ... + (n - 1).
fn triangle(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

fn decimal_digits(mut n: u64) -> u64 {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// A runnable workload that keeps its state between runs (a reused buffer,
/// an arena); each call is one timed run and returns its checksum.
pub type Runner = Box<dyn FnMut() -> u64>;

/// The runner of `workload` that allocates through the global allocator.
pub fn runner(workload: Workload, sizes: Sizes) -> Runner {
    match workload {
        Workload::Churn => Box::new(move || churn(sizes.churn_ops)),
        Workload::Batch => {
            // Allocated once, so only the blocks are measured.
            let mut holder = Vec::with_capacity(usize::try_from(sizes.batch_blocks).unwrap_or(0));
            Box::new(move || batch(sizes.batch_blocks, &mut holder))
        }
        Workload::CrossThread => Box::new(move || cross_thread(sizes.cross_thread_blocks)),
        Workload::VecGrowth => Box::new(move || vec_growth(sizes.vec_count, sizes.vec_len)),
        Workload::FormatStrings => Box::new(move || format_strings(sizes.strings)),
    }
}

// ANCHOR: churn
/// Allocates `ops` blocks on one thread, [`CHURN_DEPTH`] at a time, and frees
/// each group newest first: the short-lived-temporary pattern.
pub fn churn(ops: u64) -> u64 {
    let mut stack: [Option<Box<Block>>; CHURN_DEPTH] = [const { None }; CHURN_DEPTH];
    let mut sum = 0;
    let mut next = 0;
    while next < ops {
        let group = (ops - next).min(CHURN_DEPTH as u64) as usize;
        for slot in stack.iter_mut().take(group) {
            *slot = Some(black_box(Box::new(block(next))));
            next += 1;
        }
        for slot in stack.iter_mut().take(group).rev() {
            if let Some(b) = slot.take() {
                sum += b[0];
            }
        }
    }
    sum
}
// ANCHOR_END: churn

// ANCHOR: batch
/// Allocates `blocks` blocks, keeps them all alive, then frees them all.
pub fn batch(blocks: u64, holder: &mut Vec<Box<Block>>) -> u64 {
    let mut sum = 0;
    for i in 0..blocks {
        let b = black_box(Box::new(block(i)));
        sum += b[0];
        holder.push(b);
    }
    holder.clear();
    sum
}

/// The same batch in a `bumpalo::Bump`: the blocks live until `reset`,
/// which frees them all at once and keeps the arena's memory for next time.
pub fn bumpalo_batch(blocks: u64, arena: &mut bumpalo::Bump) -> u64 {
    let mut sum = 0;
    for i in 0..blocks {
        let b = black_box(arena.alloc(block(i)));
        sum += b[0];
    }
    arena.reset();
    sum
}
// ANCHOR_END: batch

/// The runner of the batch workload on a `bumpalo::Bump`.
pub fn bumpalo_runner(sizes: Sizes) -> Runner {
    let mut arena = bumpalo::Bump::new();
    Box::new(move || bumpalo_batch(sizes.batch_blocks, &mut arena))
}

// ANCHOR: cross_thread
/// One thread allocates `blocks` blocks in batches of [`CROSS_BATCH`] and
/// sends each whole batch to this thread, which frees every block: each
/// free happens on another thread than its allocation, while the producer
/// goes on allocating.
pub fn cross_thread(blocks: u64) -> u64 {
    let (to_consumer, batches) = sync_channel::<Vec<Box<CrossBlock>>>(BATCHES_IN_FLIGHT);
    // The emptied vectors go back, so only the blocks are allocated per batch.
    let (to_producer, empties) = sync_channel::<Vec<Box<CrossBlock>>>(BATCHES_IN_FLIGHT);
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut next = 0;
            while next < blocks {
                let mut batch = empties
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(CROSS_BATCH));
                while batch.len() < CROSS_BATCH && next < blocks {
                    batch.push(black_box(Box::new(cross_block(next))));
                    next += 1;
                }
                if to_consumer.send(batch).is_err() {
                    break;
                }
            }
        });
        let mut sum = 0;
        for mut batch in batches {
            for b in batch.drain(..) {
                sum += b[0];
            }
            // Full (the producer has spares) or gone (it is done): drop it.
            let _ = to_producer.try_send(batch);
        }
        sum
    })
}
// ANCHOR_END: cross_thread

// ANCHOR: vec_growth
/// Grows `count` vectors one push at a time to `len` elements: each
/// doubling of the capacity is a `realloc`.
pub fn vec_growth(count: u64, len: u64) -> u64 {
    let mut sum = 0;
    for v in 0..count {
        let mut values = Vec::new();
        for i in 0..len {
            values.push(v ^ i);
        }
        let values = black_box(values);
        sum += values.len() as u64 + values.last().copied().unwrap_or(0);
    }
    sum
}
// ANCHOR_END: vec_growth

// ANCHOR: format_strings
/// A typical program: `count` formatted strings collected into a Vec.
pub fn format_strings(count: u64) -> u64 {
    let rows: Vec<String> = (0..count).map(|i| format!("row-{i}")).collect();
    let rows = black_box(rows);
    rows.iter().map(|r| r.len() as u64).sum::<u64>() + rows.len() as u64
}
// ANCHOR_END: format_strings

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mode;

    #[test]
    fn every_workload_returns_its_expected_checksum() {
        let sizes = Mode::Smoke.sizes();
        for workload in Workload::ALL {
            let mut run = runner(workload, sizes);
            // Twice: a runner that keeps state must give the same result again.
            for _ in 0..2 {
                assert_eq!(run(), workload.expected(&sizes), "{}", workload.name());
            }
        }
        let mut run = bumpalo_runner(sizes);
        assert_eq!(run(), Workload::Batch.expected(&sizes));
        assert_eq!(run(), Workload::Batch.expected(&sizes));
    }

    #[test]
    fn churn_handles_a_partial_last_group() {
        let ops = CHURN_DEPTH as u64 * 3 + 5;
        assert_eq!(churn(ops), triangle(ops));
    }

    #[test]
    fn expected_values_match_a_direct_count() {
        assert_eq!(decimal_digits(0), 1);
        assert_eq!(decimal_digits(9), 1);
        assert_eq!(decimal_digits(10), 2);
        assert_eq!(decimal_digits(100_000), 6);
        // "row-0" .. "row-11": 10 strings of 5 bytes, 2 of 6, plus the count.
        let sizes = Sizes {
            strings: 12,
            ..Mode::Smoke.sizes()
        };
        assert_eq!(
            Workload::FormatStrings.expected(&sizes),
            10 * 5 + 2 * 6 + 12
        );
    }

    #[test]
    fn names_round_trip() {
        for workload in Workload::ALL {
            assert_eq!(Workload::parse(workload.name()), Some(workload));
        }
        assert_eq!(Workload::parse("nope"), None);
    }
}
