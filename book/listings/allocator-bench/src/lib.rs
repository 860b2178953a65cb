//! Measure, don't guess: the same workloads under every allocator of the book.
//!
//! A program has exactly one global allocator, chosen when it is compiled,
//! so each allocator gets its own small program (`src/bin/bench-*.rs`). All
//! of them call [`child::main`], which times one workload and prints the
//! result as one JSON line. The `allocator-bench` program runs every one of
//! them as a child process, compares each with `System` from the same run,
//! and writes the report ([`report`]).

pub mod child;
pub mod counting_global;
pub mod faults;
pub mod harness;
pub mod prefault;
pub mod report;
pub mod workloads;

use serde::{Deserialize, Serialize};

pub use workloads::Workload;

/// How much work each workload does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Tiny sizes, for tests: checks results, not speed.
    Smoke,
    /// A few seconds in all (used while the book builds).
    Quick,
    /// The real measurement: more work per repetition, more repetitions.
    Full,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Smoke, Mode::Quick, Mode::Full];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Smoke => "smoke",
            Mode::Quick => "quick",
            Mode::Full => "full",
        }
    }

    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn sizes(self) -> Sizes {
        match self {
            Mode::Smoke => Sizes {
                churn_ops: 1_000,
                batch_blocks: 500,
                cross_thread_blocks: 500,
                vec_count: 10,
                vec_len: 100,
                strings: 1_000,
                warmup: 0,
                reps: 2,
                // Two, so the merging of rounds is exercised too.
                rounds: 2,
            },
            Mode::Quick => Sizes {
                churn_ops: 300_000,
                batch_blocks: 100_000,
                cross_thread_blocks: 50_000,
                vec_count: 200,
                vec_len: 1_024,
                strings: 100_000,
                warmup: 1,
                reps: 5,
                rounds: 3,
            },
            // Sized so the bump arena (512 MiB) holds all runs of any one
            // workload: the largest, churn, takes 13 × 400 000 × 32 B.
            Mode::Full => Sizes {
                churn_ops: 400_000,
                batch_blocks: 200_000,
                cross_thread_blocks: 200_000,
                vec_count: 600,
                vec_len: 1_024,
                strings: 100_000,
                warmup: 2,
                reps: 11,
                rounds: 3,
            },
        }
    }
}

/// The size of every workload in one mode, and how often each is timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Blocks allocated and freed by [`workloads::churn`].
    pub churn_ops: u64,
    /// Blocks alive at once in [`workloads::batch`].
    pub batch_blocks: u64,
    /// Blocks sent, in batches, from one thread to the other.
    pub cross_thread_blocks: u64,
    /// Vectors grown by [`workloads::vec_growth`], and their final length.
    pub vec_count: u64,
    pub vec_len: u64,
    /// Strings built by [`workloads::format_strings`].
    pub strings: u64,
    /// Untimed runs before the timed ones.
    pub warmup: usize,
    /// Timed runs in each process.
    pub reps: usize,
    /// How often every program is started on every workload. Rounds are
    /// interleaved, so a burst of load on a shared machine hits all
    /// allocators alike; the report takes the median over all rounds' runs.
    pub rounds: usize,
}

/// One allocator of the comparison and the program that runs it.
#[derive(Clone, Copy, Debug)]
pub struct AllocatorSpec {
    /// Its name in the report; its program is `bench-NAME`.
    pub name: &'static str,
    /// One line for the report.
    pub about: &'static str,
    /// The workloads it takes part in.
    pub workloads: &'static [Workload],
}

impl AllocatorSpec {
    /// An allocator that takes part in every workload.
    const fn everywhere(name: &'static str, about: &'static str) -> Self {
        AllocatorSpec {
            name,
            about,
            workloads: &Workload::ALL,
        }
    }

    /// The program (a sibling of `allocator-bench`, `src/bin/bench-NAME.rs`)
    /// that has this allocator as its global allocator.
    pub fn program(&self) -> String {
        format!("bench-{}", self.name)
    }
}

/// The baseline every other allocator is compared with.
pub const BASELINE: &str = "system";

/// Every allocator, in report order; the first is [`BASELINE`].
pub const ALLOCATORS: &[AllocatorSpec] = &[
    AllocatorSpec::everywhere(BASELINE, "`std::alloc::System`, the platform's malloc"),
    AllocatorSpec::everywhere("mimalloc", "`mimalloc::MiMalloc`"),
    AllocatorSpec::everywhere("jemalloc", "`tikv_jemallocator::Jemalloc`"),
    AllocatorSpec::everywhere(
        "counting-global",
        "`counting_global::CountingGlobal`: System plus process-wide atomic counters, \
         `realloc` and `alloc_zeroed` forwarded",
    ),
    AllocatorSpec::everywhere(
        "counting-per-thread",
        "`alloc_measure::PerThread<System>`: System plus thread-local counters, \
         `realloc` and `alloc_zeroed` forwarded",
    ),
    AllocatorSpec::everywhere(
        "bump",
        "`bump::BumpAlloc` as the global allocator: one atomic offset, frees nothing, System fallback; \
         its pages are written before each run (see below)",
    ),
    AllocatorSpec {
        name: "bumpalo",
        about: "`bumpalo::Bump`, a scoped single-thread arena (System stays global): batch only",
        workloads: &[Workload::Batch],
    },
    AllocatorSpec {
        name: "bump-grow",
        about: "`bump::GrowInPlace`: the bump arena whose `realloc` grows the newest block \
                where it is and whose `dealloc` takes the newest block back (one \
                compare-and-swap each): vec-growth only",
        workloads: &[Workload::VecGrowth],
    },
    AllocatorSpec::everywhere(
        "thread-cache-bump",
        "`thread_cache::ThreadCache::bump_only()`: a 64 KiB chunk per thread taken with one \
         `fetch_add`, bumping inside it with no atomic, frees nothing; System beyond 4 KiB",
    ),
    AllocatorSpec::everywhere(
        "thread-cache",
        "`thread_cache::ThreadCache::new()`: the same chunks plus per-thread free lists per size \
         class and remote lists for frees from other threads; System beyond 4 KiB",
    ),
];

/// The allocator called `name`.
pub fn allocator(name: &str) -> Option<&'static AllocatorSpec> {
    ALLOCATORS.iter().find(|a| a.name == name)
}

/// What one child measured: one allocator on one workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub allocator: String,
    pub workload: String,
    /// Operations per timed run (the unit is the workload's `op`).
    pub ops_per_rep: u64,
    /// Warm-up runs in each process.
    pub warmup: usize,
    /// Timed runs, all rounds together.
    pub reps: usize,
    /// Nanoseconds per operation of every timed run.
    pub samples_ns: Vec<f64>,
    /// Their summary.
    pub timing: harness::Timing,
    /// Minor page faults the process took during each timed run (empty
    /// where they cannot be counted).
    #[serde(default)]
    pub minor_faults: Vec<u64>,
    /// The workload's result, equal to [`Workload::expected`].
    pub checksum: u64,
    /// For an arena: how full it got and how many requests it passed on.
    pub arena: Option<ArenaUse>,
}

impl Cell {
    /// Adds the runs of another round of the same allocator and workload.
    pub fn merge(&mut self, other: Cell) -> Result<(), String> {
        if (&other.allocator, &other.workload, other.checksum)
            != (&self.allocator, &self.workload, self.checksum)
        {
            return Err(format!(
                "cannot merge {} · {} into {} · {}",
                other.allocator, other.workload, self.allocator, self.workload
            ));
        }
        self.samples_ns.extend(other.samples_ns);
        self.minor_faults.extend(other.minor_faults);
        self.reps = self.samples_ns.len();
        if let Some(timing) = harness::Timing::from_samples(&self.samples_ns) {
            self.timing = timing;
        }
        self.arena = match (self.arena, other.arena) {
            (Some(a), Some(b)) => Some(ArenaUse {
                capacity_bytes: a.capacity_bytes,
                used_bytes: a.used_bytes.max(b.used_bytes),
                fallbacks: a.fallbacks + b.fallbacks,
            }),
            (a, b) => a.or(b),
        };
        Ok(())
    }
}

/// How a fixed-size arena coped with one workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArenaUse {
    pub capacity_bytes: u64,
    pub used_bytes: u64,
    /// Requests that did not fit and went to `System` during the workload
    /// (all rounds together; `used_bytes` is the largest of one process).
    pub fallbacks: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(allocator: &str, samples_ns: &[f64], fallbacks: u64) -> Cell {
        Cell {
            allocator: allocator.into(),
            workload: "batch".into(),
            ops_per_rep: 1,
            warmup: 0,
            reps: samples_ns.len(),
            samples_ns: samples_ns.to_vec(),
            timing: harness::Timing::from_samples(samples_ns).unwrap(),
            minor_faults: vec![fallbacks; samples_ns.len()],
            checksum: 3,
            arena: Some(ArenaUse {
                capacity_bytes: 100,
                used_bytes: 10 * fallbacks,
                fallbacks,
            }),
        }
    }

    #[test]
    fn merging_rounds_pools_their_runs() {
        let mut first = cell("bump", &[1.0, 9.0], 1);
        first.merge(cell("bump", &[2.0, 3.0, 4.0], 2)).unwrap();
        assert_eq!(first.reps, 5);
        assert_eq!(first.minor_faults, [1, 1, 2, 2, 2]);
        assert_eq!(first.timing.median_ns, 3.0);
        assert_eq!((first.timing.min_ns, first.timing.max_ns), (1.0, 9.0));
        let arena = first.arena.unwrap();
        assert_eq!((arena.fallbacks, arena.used_bytes), (3, 20));
    }

    #[test]
    fn cells_of_different_allocators_do_not_merge() {
        let mut first = cell("bump", &[1.0], 0);
        let err = first.merge(cell("system", &[2.0], 0)).unwrap_err();
        assert!(
            err.contains("cannot merge system · batch into bump · batch"),
            "{err}"
        );
        assert_eq!(first.reps, 1);
    }

    #[test]
    fn every_allocator_has_a_unique_name_a_program_and_the_baseline_runs_everything() {
        let bin_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
        for (i, a) in ALLOCATORS.iter().enumerate() {
            assert!(ALLOCATORS[..i].iter().all(|b| b.name != a.name));
            assert_eq!(allocator(a.name).map(|s| s.name), Some(a.name));
            let source = bin_dir.join(format!("{}.rs", a.program()));
            assert!(source.is_file(), "{} is missing", source.display());
        }
        assert_eq!(ALLOCATORS[0].name, BASELINE);
        assert_eq!(ALLOCATORS[0].workloads, Workload::ALL);
    }
}
