//! The fragmentation experiment: one seeded workload of mixed sizes and
//! lifetimes, run on first fit, best fit and a size-class pool over regions
//! of the same size. Prints a Markdown table and an SVG chart. Exits with 1
//! if any run breaks an invariant (overlapping blocks, a broken list).

use std::alloc::Layout;
use std::collections::VecDeque;
use std::process::ExitCode;
use std::ptr::NonNull;

use free_list::{Fit, FreeList};
use heap_picture::{BarGroup, bar_chart};
use size_classes::{MAX_CLASS, MIN_CLASS, class_by_size_and_align};

/// The region every allocator gets.
const REGION: usize = 128 * 1024;
/// Requests in the workload.
const REQUESTS: usize = 20_000;
/// Statistics are sampled this often (in requests).
const SAMPLE_EVERY: usize = 100;
const SEED: u64 = 0x5EED_F4A6_0001;
/// Lifetimes, in requests: most blocks die young, some live long.
const SHORT: (usize, usize) = (1, 50);
const LONG: (usize, usize) = (150, 1_200);

// ANCHOR: workload
/// A small deterministic generator (xorshift64*): the same seed gives the
/// same workload on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `low..=high`.
    fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }
}

/// One request of the workload: its layout and how many requests later it
/// is freed.
struct Request {
    layout: Layout,
    lifetime: usize,
}

/// Mostly small blocks, some medium, a few large; most die young, some live
/// long. Long-lived blocks scattered among short-lived ones are what
/// fragments a heap.
fn workload() -> Vec<Request> {
    let mut rng = Rng(SEED);
    (0..REQUESTS)
        .map(|_| {
            let size = match rng.range(0, 9) {
                0..=5 => rng.range(8, 64),
                6..=8 => rng.range(65, 512),
                _ => rng.range(513, 4096),
            };
            let align = 1 << rng.range(0, 4);
            let lifetime = if rng.range(0, 9) < 7 {
                rng.range(SHORT.0, SHORT.1)
            } else {
                rng.range(LONG.0, LONG.1)
            };
            Request {
                layout: Layout::from_size_align(size, align).expect("a valid layout"),
                lifetime,
            }
        })
        .collect()
}
// ANCHOR_END: workload

/// What the experiment needs from an allocator.
trait Heap {
    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>>;
    /// # Safety
    /// `ptr` came from `alloc(layout)` and is freed once.
    unsafe fn free(&mut self, ptr: NonNull<u8>, layout: Layout);
    /// (free bytes, largest free block, bytes held by live blocks).
    fn sample(&self) -> (usize, usize, usize);
    fn check(&self) -> Result<(), String>;
}

impl Heap for FreeList {
    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        FreeList::alloc(self, layout)
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: the caller's promise.
        unsafe { FreeList::free(self, ptr, layout) }
    }
    fn sample(&self) -> (usize, usize, usize) {
        let stats = self.stats();
        (stats.free_bytes, stats.largest_free, stats.used_bytes)
    }
    fn check(&self) -> Result<(), String> {
        FreeList::check(self)
    }
}

// ANCHOR: pool
/// The size-class pool of the previous chapter, over one region: a free
/// list per power-of-two class, blocks carved from the region on first use.
/// A carved block stays in its class for good.
struct Pool {
    base: NonNull<u8>,
    carved: usize,
    /// Free lists and their lengths, for classes 16, 32, ..., 4096.
    lists: Vec<(size_classes::FreeList, usize)>,
    held: usize,
}

fn class_index(class: usize) -> usize {
    (class.trailing_zeros() - MIN_CLASS.trailing_zeros()) as usize
}

impl Pool {
    fn new(base: NonNull<u8>) -> Self {
        let classes = class_index(MAX_CLASS) + 1;
        Self {
            base,
            carved: 0,
            lists: (0..classes)
                .map(|_| (size_classes::FreeList::new(), 0))
                .collect(),
            held: 0,
        }
    }
}

impl Heap for Pool {
    fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let class = class_by_size_and_align(layout)?;
        let (list, free) = self.lists.get_mut(class_index(class))?;
        let block = match list.pop() {
            Some(block) => {
                *free -= 1;
                block
            }
            None => {
                // Carve at the next multiple of the class size.
                let start = self.carved.next_multiple_of(class);
                let end = start.checked_add(class).filter(|&end| end <= REGION)?;
                // Any bytes skipped for alignment are lost to the pool.
                self.carved = end;
                // SAFETY: `start + class <= REGION`: inside the region.
                unsafe { self.base.add(start) }
            }
        };
        self.held += class;
        Some(block)
    }
    unsafe fn free(&mut self, ptr: NonNull<u8>, layout: Layout) {
        let Some(class) = class_by_size_and_align(layout) else {
            return;
        };
        if let Some((list, free)) = self.lists.get_mut(class_index(class)) {
            // SAFETY: the block came from this class, is at least 16 bytes,
            // aligned to its size, and no longer used.
            unsafe { list.push(ptr) };
            *free += 1;
            self.held -= class;
        }
    }
    fn sample(&self) -> (usize, usize, usize) {
        let tail = REGION - self.carved;
        let mut free = tail;
        let mut largest = tail;
        for (index, (_, count)) in self.lists.iter().enumerate() {
            let class = MIN_CLASS << index;
            free += class * count;
            if *count > 0 {
                largest = largest.max(class);
            }
        }
        (free, largest, self.held)
    }
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}
// ANCHOR_END: pool

/// A region for one run: 4096-aligned, freed at the end.
struct Region {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Region {
    fn new() -> Self {
        let layout = Layout::from_size_align(REGION, 4096).expect("a valid layout");
        // SAFETY: the size is not zero.
        let ptr = NonNull::new(unsafe { std::alloc::alloc(layout) })
            .unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        Self { ptr, layout }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// What one run measured.
struct Outcome {
    name: &'static str,
    mean_fragmentation: f64,
    end_fragmentation: f64,
    mean_wasted: f64,
    mean_requested: f64,
    failed: usize,
}

fn fragmentation(free: usize, largest: usize) -> f64 {
    if free == 0 {
        0.0
    } else {
        1.0 - largest as f64 / free as f64
    }
}

/// A block the workload holds; its first and last bytes carry its number.
struct Live {
    ptr: NonNull<u8>,
    layout: Layout,
    tag: u8,
    dies_at: usize,
}

// ANCHOR: run
fn run(name: &'static str, heap: &mut impl Heap, requests: &[Request]) -> Result<Outcome, String> {
    let mut live: VecDeque<Live> = VecDeque::new();
    let (mut requested, mut failed) = (0usize, 0usize);
    let (mut fragmentation_sum, mut wasted_sum, mut requested_sum) = (0.0, 0.0, 0.0);
    let mut samples = 0usize;
    for (step, request) in requests.iter().enumerate() {
        // Free what dies now (and check that nobody wrote over it).
        let mut index = 0;
        while index < live.len() {
            if live[index].dies_at > step {
                index += 1;
                continue;
            }
            let block = live.swap_remove_back(index).expect("in bounds");
            let size = block.layout.size();
            // SAFETY: a live block of `size` bytes, tagged at both ends.
            let ends = unsafe { (block.ptr.read(), block.ptr.add(size - 1).read()) };
            if ends != (block.tag, block.tag) {
                return Err(format!("{name}: step {step}: a block was overwritten"));
            }
            requested -= size;
            // SAFETY: from `heap.alloc(layout)`, freed once.
            unsafe { heap.free(block.ptr, block.layout) };
        }
        let layout = request.layout;
        match heap.alloc(layout) {
            Some(ptr) => {
                if ptr.addr().get() % layout.align() != 0 {
                    return Err(format!("{name}: step {step}: a misaligned block"));
                }
                let tag = step as u8;
                // SAFETY: a fresh block of `layout.size()` (at least 8) bytes.
                unsafe {
                    ptr.write(tag);
                    ptr.add(layout.size() - 1).write(tag);
                }
                requested += layout.size();
                let dies_at = step + request.lifetime;
                live.push_back(Live {
                    ptr,
                    layout,
                    tag,
                    dies_at,
                });
            }
            None => failed += 1,
        }
        if step % SAMPLE_EVERY == 0 {
            heap.check()
                .map_err(|broken| format!("{name}: step {step}: {broken}"))?;
            let (free, largest, held) = heap.sample();
            fragmentation_sum += fragmentation(free, largest);
            wasted_sum += held.saturating_sub(requested) as f64;
            requested_sum += requested as f64;
            samples += 1;
        }
    }
    let (free, largest, _) = heap.sample();
    let outcome = Outcome {
        name,
        mean_fragmentation: fragmentation_sum / samples as f64,
        end_fragmentation: fragmentation(free, largest),
        mean_wasted: wasted_sum / samples as f64,
        mean_requested: requested_sum / samples as f64,
        failed,
    };
    for block in live {
        // SAFETY: from `heap.alloc(layout)`, freed once.
        unsafe { heap.free(block.ptr, block.layout) };
    }
    heap.check()
        .map_err(|broken| format!("{name}: at the end: {broken}"))?;
    Ok(outcome)
}
// ANCHOR_END: run

fn runs() -> Result<Vec<Outcome>, String> {
    let requests = workload();
    let mut outcomes = Vec::new();
    for (name, fit) in [("first fit", Fit::First), ("best fit", Fit::Best)] {
        let region = Region::new();
        // SAFETY: the region is 4096-aligned, REGION bytes, lives until the
        // end of this iteration, and only the list uses it.
        let mut heap = unsafe { FreeList::new(region.ptr.as_ptr(), REGION, fit) };
        outcomes.push(run(name, &mut heap, &requests)?);
        if heap.stats().free_blocks != 1 {
            return Err(format!(
                "{name}: the region did not merge back into one block"
            ));
        }
    }
    let region = Region::new();
    let mut pool = Pool::new(region.ptr);
    outcomes.push(run("size classes", &mut pool, &requests)?);
    Ok(outcomes)
}

fn main() -> ExitCode {
    let outcomes = match runs() {
        Ok(outcomes) => outcomes,
        Err(broken) => {
            eprintln!("invariant broken: {broken}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{REQUESTS} requests over a {} KiB region: 60 % of 8–64 bytes, 30 % of 65–512, 10 % of \
         513–4096, aligned to 1–16; 70 % freed after {}–{} requests, 30 % after {}–{}. \
         Statistics sampled every {SAMPLE_EVERY} requests.\n",
        REGION / 1024,
        SHORT.0,
        SHORT.1,
        LONG.0,
        LONG.1
    );
    println!(
        "| allocator | external fragmentation (mean) | external fragmentation (end) | wasted \
         bytes (mean) | live bytes asked for (mean) | failed requests |"
    );
    println!("|---|---|---|---|---|---|");
    for o in &outcomes {
        println!(
            "| {} | {:.1} % | {:.1} % | {:.0} | {:.0} | {} of {REQUESTS} |",
            o.name,
            100.0 * o.mean_fragmentation,
            100.0 * o.end_fragmentation,
            o.mean_wasted,
            o.mean_requested,
            o.failed
        );
    }
    println!();
    let groups: Vec<BarGroup> = outcomes
        .iter()
        .map(|o| BarGroup {
            label: o.name.to_owned(),
            values: vec![
                100.0 * o.mean_fragmentation,
                100.0 * o.failed as f64 / REQUESTS as f64,
            ],
        })
        .collect();
    let svg = bar_chart(
        "Fragmentation and failures by allocator",
        &["external fragmentation (mean)", "failed requests"],
        &groups,
        "%",
    );
    // A blank line would end the HTML block in Markdown.
    for line in svg.lines().filter(|line| !line.trim().is_empty()) {
        println!("{line}");
    }
    ExitCode::SUCCESS
}
