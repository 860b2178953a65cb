//! Widget 6, the free-list heap map: the free-list chapter's [`FreeList`]
//! over a small region owned by the page, drawn block by block, so splitting
//! on allocation and coalescing on free can be watched as they happen.
//!
//! Every request the page makes is kept, so switching between first fit and
//! best fit replays the same requests with the other rule and shows where
//! they would have gone.

use std::alloc::Layout;
use std::ptr::NonNull;

use free_list::{Fit, FreeList, HEADER};
use wasm_bindgen::prelude::*;

use crate::input::{InputError, whole_number};
use crate::layout_rules;

/// The region's size: a strip of this many bytes fits across the page with
/// the smallest block (32 bytes) still wide enough to click.
pub const REGION_BYTES: usize = 4096;
/// Requests the map remembers before it asks for a reset (it replays them
/// all when the fit changes).
pub const MAX_REQUESTS: usize = 1000;
/// Entries of the action log the page keeps.
const LOG_LEN: usize = 8;

#[repr(C, align(16))]
struct Region([u8; REGION_BYTES]);

/// One request of the page's history, replayed when the fit changes.
#[derive(Clone, Copy, Debug)]
enum Request {
    Alloc {
        size: usize,
        align: usize,
    },
    /// Frees the block made by request `number`.
    Free {
        number: usize,
    },
}

/// A block handed out and not yet freed.
#[derive(Clone, Copy, Debug)]
struct Held {
    /// Which allocation request made it (counting from 1).
    number: usize,
    ptr: NonNull<u8>,
    layout: Layout,
    /// Where its header starts, from the region start.
    offset: usize,
}

/// One block of the region, as the strip draws it.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapBlock {
    /// Where the header starts, in bytes from the region start.
    pub offset: usize,
    /// The whole block, header included.
    pub size: usize,
    /// Free or in use. (Not `free`: every wasm-bindgen class already has a
    /// `free()` method, which frees the object's Rust memory.)
    pub is_free: bool,
    /// For a block in use: the request that made it, the bytes and the
    /// alignment it asked for.
    pub number: Option<usize>,
    pub requested: Option<usize>,
    pub align: Option<usize>,
}

/// The fragmentation gauge.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapStats {
    pub region_bytes: usize,
    /// Bytes in free blocks, headers included.
    pub free_bytes: usize,
    /// The largest free block, header included.
    pub largest_free: usize,
    /// Bytes in blocks in use, headers and rounding included.
    pub used_bytes: usize,
    /// Bytes the blocks in use asked for.
    pub requested_bytes: usize,
    pub free_blocks: usize,
    pub used_blocks: usize,
    /// `1 - largest_free / free_bytes` (0 with no free bytes).
    pub external_fragmentation: f64,
    pub requests: usize,
    pub failed_requests: usize,
}

/// What happened to one request, for the page's log.
#[wasm_bindgen(getter_with_clone)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// `"allocated"`, `"freed"`, `"failed"` (no block large enough) or
    /// `"refused"` (input that breaks a rule; nothing changed).
    pub outcome: String,
    pub text: String,
}

/// A free list over a region owned by the page.
#[wasm_bindgen]
pub struct FreeListMap {
    /// From `Box::into_raw`, given back in `Drop`: the list writes its
    /// headers through pointers derived from this one.
    region: NonNull<Region>,
    list: FreeList,
    held: Vec<Held>,
    history: Vec<Request>,
    failed: usize,
    log: Vec<LogEntry>,
}

impl std::fmt::Debug for FreeListMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FreeListMap")
            .field("fit", &self.list.fit())
            .field("held", &self.held)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

#[wasm_bindgen]
impl FreeListMap {
    /// An empty region (one free block) using first fit.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)] // JavaScript calls `new FreeListMap()`.
    pub fn new() -> FreeListMap {
        let region = NonNull::from(Box::leak(Box::new(Region([0; REGION_BYTES]))));
        FreeListMap {
            region,
            // SAFETY: see `fresh_list`; the region was just made.
            list: unsafe { fresh_list(region, Fit::First) },
            held: Vec::new(),
            history: Vec::new(),
            failed: 0,
            log: Vec::new(),
        }
    }

    /// Allocates `size` bytes aligned to `align` (text from the page).
    /// Input that breaks a rule is refused and changes nothing; a valid
    /// request no free block can serve fails, is counted, and says why.
    pub fn alloc(&mut self, size: &str, align: &str) -> Result<MapBlock, InputError> {
        let result = parse_layout(size, align).and_then(|layout| {
            if self.history.len() >= MAX_REQUESTS {
                return Err(InputError::new(format!(
                    "the map has served {MAX_REQUESTS} requests: press reset to start over"
                )));
            }
            Ok(layout)
        });
        let layout = match result {
            Ok(layout) => layout,
            Err(err) => return Err(self.refuse(err)),
        };
        self.history.push(Request::Alloc {
            size: layout.size(),
            align: layout.align(),
        });
        let number = self.requests();
        let (entry, block) = self.apply_alloc(number, layout);
        self.push_log(entry.clone());
        block.ok_or_else(|| InputError::new(entry.text))
    }

    /// Frees the block in use whose header starts at `offset` (what the
    /// page's strip shows as the block's `data-offset`).
    pub fn free_block(&mut self, offset: usize) -> Result<(), InputError> {
        let Some(number) = self
            .held
            .iter()
            .find(|held| held.offset == offset)
            .map(|held| held.number)
        else {
            let err = InputError::new(format!(
                "no block in use starts at offset {offset}: only a used block can be freed, and only once"
            ));
            return Err(self.refuse(err));
        };
        if self.history.len() >= MAX_REQUESTS {
            let err = InputError::new(format!(
                "the map has served {MAX_REQUESTS} requests: press reset to start over"
            ));
            return Err(self.refuse(err));
        }
        self.history.push(Request::Free { number });
        let entry = self.apply_free(number);
        self.push_log(entry);
        Ok(())
    }

    /// `"first"` or `"best"`.
    pub fn fit(&self) -> String {
        fit_name(self.list.fit()).to_owned()
    }

    /// Switches the fit and replays every request so far with it.
    pub fn set_fit(&mut self, fit: &str) -> Result<(), InputError> {
        let fit = match fit.trim() {
            "first" => Fit::First,
            "best" => Fit::Best,
            other => {
                let err = InputError::new(format!("the fit is `first` or `best`, got `{other}`"));
                return Err(self.refuse(err));
            }
        };
        if fit == self.list.fit() {
            return Ok(());
        }
        let history = std::mem::take(&mut self.history);
        self.start_over(fit);
        let mut number = 0;
        for request in &history {
            match *request {
                Request::Alloc { size, align } => {
                    number += 1;
                    if let Ok(layout) = Layout::from_size_align(size, align) {
                        // The log shows the switch, not every replayed step.
                        let _ = self.apply_alloc(number, layout);
                    }
                }
                Request::Free { number: freed } => {
                    if self.held.iter().any(|held| held.number == freed) {
                        let _ = self.apply_free(freed);
                    }
                }
            }
        }
        self.history = history;
        self.push_log(LogEntry {
            outcome: "replayed".into(),
            text: format!(
                "Switched to {} fit and replayed all {} requests (allocations and frees): {} blocks in use, {} failed requests.",
                fit_name(fit),
                self.history.len(),
                self.held.len(),
                self.failed
            ),
        });
        Ok(())
    }

    /// Frees everything and forgets the history (the fit stays).
    pub fn reset(&mut self) {
        self.start_over(self.list.fit());
        self.history.clear();
        self.log.clear();
    }

    /// Every block in address order.
    pub fn blocks(&self) -> Vec<MapBlock> {
        self.list
            .blocks()
            .map(|block| {
                let held = (!block.free)
                    .then(|| self.held.iter().find(|held| held.offset == block.offset))
                    .flatten();
                MapBlock {
                    offset: block.offset,
                    size: block.size,
                    is_free: block.free,
                    number: held.map(|h| h.number),
                    requested: held.map(|h| h.layout.size()),
                    align: held.map(|h| h.layout.align()),
                }
            })
            .collect()
    }

    pub fn stats(&self) -> MapStats {
        let stats = self.list.stats();
        MapStats {
            region_bytes: self.list.len(),
            free_bytes: stats.free_bytes,
            largest_free: stats.largest_free,
            used_bytes: stats.used_bytes,
            requested_bytes: self.held.iter().map(|held| held.layout.size()).sum(),
            free_blocks: stats.free_blocks,
            used_blocks: stats.used_blocks,
            external_fragmentation: stats.external_fragmentation(),
            requests: self.requests(),
            failed_requests: self.failed,
        }
    }

    /// The latest entries of the action log, oldest first.
    pub fn log(&self) -> Vec<LogEntry> {
        self.log.clone()
    }

    /// The header size every block starts with.
    pub fn header_bytes(&self) -> usize {
        HEADER
    }

    /// The region's address modulo 4096: alignments above 16 are of the
    /// address, so where the region sits decides the gaps they leave.
    pub fn base_mod_4096(&self) -> usize {
        self.list.base_addr() % 4096
    }
}

impl FreeListMap {
    /// Checks the list's invariants (tiling, merged neighbours, the list in
    /// address order); for tests.
    pub fn check(&self) -> Result<(), String> {
        self.list.check()?;
        for held in &self.held {
            if held.ptr.addr().get() % held.layout.align() != 0 {
                return Err(format!("block #{} is not aligned", held.number));
            }
        }
        Ok(())
    }

    /// Allocation requests so far; the n-th one makes block #n.
    fn requests(&self) -> usize {
        self.history
            .iter()
            .filter(|r| matches!(r, Request::Alloc { .. }))
            .count()
    }

    /// A fresh list with `fit`; every block handed out is forgotten.
    fn start_over(&mut self, fit: Fit) {
        self.held.clear();
        self.failed = 0;
        // SAFETY: see `fresh_list`; `held` was just cleared, so no block of
        // the old list is used again (the page never touched their bytes).
        self.list = unsafe { fresh_list(self.region, fit) };
    }

    fn apply_alloc(&mut self, number: usize, layout: Layout) -> (LogEntry, Option<MapBlock>) {
        let before: Vec<free_list::Block> = self.list.blocks().collect();
        let (size, align) = (layout.size(), layout.align());
        let Some(ptr) = self.list.alloc(layout) else {
            self.failed += 1;
            let largest = self.list.stats().largest_free;
            let need = block_size_for(size);
            let text = format!(
                "no free block large enough: largest is {largest} bytes, and request #{number} \
                 ({size} bytes aligned to {align}) needs a block of at least {need} bytes \
                 ({HEADER} of them the header{})",
                if align > free_list::GRANULE {
                    ", plus any gap to reach an aligned address"
                } else {
                    ""
                }
            );
            return (
                LogEntry {
                    outcome: "failed".into(),
                    text,
                },
                None,
            );
        };
        let offset = self
            .list
            .offset_of(ptr.as_ptr())
            .map_or(0, |payload| payload.saturating_sub(HEADER));
        self.held.push(Held {
            number,
            ptr,
            layout,
            offset,
        });
        let block_size = self
            .list
            .blocks()
            .find(|b| b.offset == offset)
            .map_or(0, |b| b.size);
        let source = before
            .iter()
            .find(|b| b.free && b.offset <= offset && offset < b.offset + b.size);
        let mut how = Vec::new();
        if let Some(source) = source {
            how.push(format!(
                "from the free block at {} ({} bytes)",
                source.offset, source.size
            ));
            let gap = offset - source.offset;
            if gap > 0 {
                how.push(format!(
                    "leaving {gap} bytes before it free to reach an aligned address"
                ));
            }
            let rest = (source.offset + source.size).saturating_sub(offset + block_size);
            if rest > 0 {
                how.push(format!(
                    "splitting off the other {rest} bytes as a free block"
                ));
            } else if block_size > block_size_for(size) {
                how.push(format!(
                    "keeping the {} bytes left over: too few to split off",
                    block_size - block_size_for(size)
                ));
            }
        }
        let text = format!(
            "Allocated #{number}: {size} bytes aligned to {align} in a {block_size}-byte block at offset {offset}, {}.",
            how.join(", ")
        );
        let block = MapBlock {
            offset,
            size: block_size,
            is_free: false,
            number: Some(number),
            requested: Some(size),
            align: Some(align),
        };
        (
            LogEntry {
                outcome: "allocated".into(),
                text,
            },
            Some(block),
        )
    }

    fn apply_free(&mut self, number: usize) -> LogEntry {
        let Some(index) = self.held.iter().position(|held| held.number == number) else {
            return LogEntry {
                outcome: "refused".into(),
                text: format!("block #{number} is not in use"),
            };
        };
        let held = self.held.swap_remove(index);
        let blocks: Vec<free_list::Block> = self.list.blocks().collect();
        let at = blocks.iter().position(|b| b.offset == held.offset);
        let free_before = at
            .and_then(|i| i.checked_sub(1))
            .is_some_and(|i| blocks[i].free);
        let free_after = at.and_then(|i| blocks.get(i + 1)).is_some_and(|b| b.free);
        let size = at.map_or(0, |i| blocks[i].size);
        // SAFETY: `held.ptr` came from `self.list.alloc(held.layout)` and
        // was just removed from `held`, so it is freed once; the page never
        // reads or writes the block's bytes.
        unsafe { self.list.free(held.ptr, held.layout) };
        let merged = match (free_before, free_after) {
            (true, true) => "merged with the free blocks on both sides",
            (true, false) => "merged with the free block before it",
            (false, true) => "merged with the free block after it",
            (false, false) => "no free neighbour to merge with",
        };
        let now = self
            .list
            .blocks()
            .find(|b| b.free && b.offset <= held.offset && held.offset < b.offset + b.size)
            .map_or(0, |b| b.size);
        LogEntry {
            outcome: "freed".into(),
            text: format!(
                "Freed #{number} ({size}-byte block at offset {}): {merged}; that free block now has {now} bytes.",
                held.offset
            ),
        }
    }

    fn refuse(&mut self, err: InputError) -> InputError {
        self.push_log(LogEntry {
            outcome: "refused".into(),
            text: err.to_string(),
        });
        err
    }

    fn push_log(&mut self, entry: LogEntry) {
        if self.log.len() == LOG_LEN {
            self.log.remove(0);
        }
        self.log.push(entry);
    }
}

impl Drop for FreeListMap {
    fn drop(&mut self) {
        // SAFETY: `region` came from `Box::leak` in `new` and is given back
        // once, here; the list that pointed into it is dropped with `self`
        // and never used again.
        drop(unsafe { Box::from_raw(self.region.as_ptr()) });
    }
}

/// A new list over the whole region.
///
/// # Safety
/// `region` is the live allocation from [`FreeListMap::new`], and no block
/// of an earlier list over it is used afterwards.
unsafe fn fresh_list(region: NonNull<Region>, fit: Fit) -> FreeList {
    // SAFETY: the region is `REGION_BYTES` bytes, aligned to 16 (its
    // `repr`), valid for reads and writes until `Drop` frees it (after the
    // list is gone), and used by nothing but this list; the pointer comes
    // from the `Box`, so its provenance covers every byte.
    unsafe { FreeList::new(region.as_ptr().cast::<u8>(), REGION_BYTES, fit) }
}

/// The smallest block a request of `size` bytes takes (header included).
fn block_size_for(size: usize) -> usize {
    size.max(1)
        .div_ceil(free_list::GRANULE)
        .saturating_mul(free_list::GRANULE)
        .saturating_add(HEADER)
}

fn fit_name(fit: Fit) -> &'static str {
    match fit {
        Fit::First => "first",
        Fit::Best => "best",
    }
}

/// A size and an alignment from the page, checked against `Layout`'s rules
/// (the layout explorer's wording) and `GlobalAlloc`'s (no empty requests).
fn parse_layout(size: &str, align: &str) -> Result<Layout, InputError> {
    let size = whole_number("size", size)?;
    let align = whole_number("alignment", align)?;
    let facts = layout_rules::explore(size, align)
        .map_err(|problem| InputError::new(problem.to_string()))?;
    if size == 0 {
        return Err(InputError::new(
            "size 0 is a valid Layout, but a GlobalAlloc request must not be empty: ask for 1 byte or more",
        ));
    }
    facts.to_layout().ok_or_else(|| {
        InputError::new(format!(
            "size {size} with alignment {align} is not a valid Layout"
        ))
    })
}
