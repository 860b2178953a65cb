//! Random allocation, free and realloc sequences, checked against a model
//! after every step, on a region whose base is 16 past a 4096 boundary (so
//! only address alignment gives aligned blocks). The same check runs on
//! fixed sequences against each mistake [`Mistake`] keeps, and must reject
//! every one.

use std::alloc::{GlobalAlloc, Layout};
use std::ptr::NonNull;

use free_list::{Fit, FreeList, FreeListAlloc, HEADER, MIN_BLOCK, Mistake};
use proptest::prelude::*;

/// The region size for the algorithm tests.
const REGION: usize = if cfg!(miri) { 1024 } else { 4096 };
/// Steps in one sequence (fewer under Miri, which is far slower).
const MAX_STEPS: usize = if cfg!(miri) { 24 } else { 80 };

/// A region that starts 16 bytes past a 4096-byte boundary: aligned to 16,
/// not to 32 or more.
struct UnderAligned {
    allocation: NonNull<u8>,
    layout: Layout,
}

impl UnderAligned {
    fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len + 16, 4096).expect("a valid layout");
        // SAFETY: the size is not zero.
        let ptr = unsafe { std::alloc::alloc(layout) };
        let allocation = NonNull::new(ptr).expect("the test region");
        Self { allocation, layout }
    }

    /// The region's first byte (provenance over the whole allocation).
    fn base(&self) -> *mut u8 {
        // SAFETY: 16 < len + 16: inside the allocation.
        unsafe { self.allocation.as_ptr().add(16) }
    }
}

impl Drop for UnderAligned {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.allocation.as_ptr(), self.layout) }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Alloc { size: usize, align_exp: u32 },
    Free { pick: usize },
    Realloc { pick: usize, size: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let size = prop_oneof![4 => 0usize..=96, 1 => 0usize..=REGION / 2];
    prop_oneof![
        3 => (size.clone(), 0u32..=7).prop_map(|(size, align_exp)| Op::Alloc { size, align_exp }),
        2 => any::<usize>().prop_map(|pick| Op::Free { pick }),
        2 => (any::<usize>(), size).prop_map(|(pick, size)| Op::Realloc { pick, size }),
    ]
}

/// A live block in the model: where, what layout, which tag it holds.
struct Live {
    ptr: NonNull<u8>,
    layout: Layout,
    tag: u8,
}

fn tag_intact(block: &Live) -> bool {
    // SAFETY: a live block holds `layout.size()` bytes, all written with
    // its tag.
    let bytes = unsafe { std::slice::from_raw_parts(block.ptr.as_ptr(), block.layout.size()) };
    bytes.iter().all(|&b| b == block.tag)
}

/// Everything the model knows must hold: the list's own invariants, every
/// block aligned, inside the region, disjoint from the others, its tag
/// intact, and the statistics agreeing with the model.
fn check_model(heap: &FreeList, live: &[Live], step: usize) -> Result<(), TestCaseError> {
    if let Err(broken) = heap.check() {
        return Err(TestCaseError::fail(format!("step {step}: {broken}")));
    }
    let mut ranges = Vec::new();
    for block in live {
        let addr = block.ptr.addr().get();
        prop_assert_eq!(
            addr % block.layout.align(),
            0,
            "step {}: a block for {:?} is misaligned",
            step,
            block.layout
        );
        let offset = heap.offset_of(block.ptr.as_ptr());
        prop_assert!(
            offset.is_some(),
            "step {}: a block outside the region",
            step
        );
        let start = addr - HEADER;
        ranges.push((start, addr + block.layout.size().max(1)));
        prop_assert!(
            tag_intact(block),
            "step {}: the block with tag {} lost its contents",
            step,
            block.tag
        );
    }
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        prop_assert!(
            pair[0].1 <= pair[1].0,
            "step {}: blocks {:?} and {:?} overlap",
            step,
            pair[0],
            pair[1]
        );
    }
    let stats = heap.stats();
    prop_assert_eq!(stats.used_blocks, live.len(), "step {}: used blocks", step);
    prop_assert_eq!(
        stats.free_bytes + stats.used_bytes,
        heap.len(),
        "step {}: free and used bytes do not add up to the region",
        step
    );
    let requested: usize = live.iter().map(|b| b.layout.size() + HEADER).sum();
    prop_assert!(
        stats.used_bytes >= requested,
        "step {}: used bytes are less than what was asked",
        step
    );
    Ok(())
}

/// Moves a block the way `GlobalAlloc::realloc` does: shrink or grow in
/// place if possible, else allocate, copy and free. `None` leaves the old
/// block untouched.
fn realloc(heap: &mut FreeList, block: &Live, new_size: usize) -> Option<NonNull<u8>> {
    let (ptr, layout) = (block.ptr, block.layout);
    if new_size <= layout.size() {
        // SAFETY: `ptr` is in use; bytes past `new_size` are not used again.
        unsafe { heap.shrink_in_place(ptr, layout, new_size) };
        return Some(ptr);
    }
    // SAFETY: `ptr` is a block in use from `heap`.
    if unsafe { heap.grow_in_place(ptr, layout, new_size) } {
        return Some(ptr);
    }
    let new_layout = Layout::from_size_align(new_size, layout.align()).ok()?;
    let new = heap.alloc(new_layout)?;
    // SAFETY: two distinct blocks in use; the old holds `layout.size()`
    // bytes, the new more. The old one is then freed once.
    unsafe {
        new.copy_from_nonoverlapping(ptr, layout.size());
        heap.free(ptr, layout);
    }
    Some(new)
}

/// Runs `ops` on a fresh list (with `mistake` built in) and checks the model
/// after every step; at the end frees everything and asks for the whole
/// region in one block, which only succeeds if every free merged.
fn check_sequence(fit: Fit, mistake: Mistake, ops: &[Op]) -> Result<(), TestCaseError> {
    let region = UnderAligned::new(REGION);
    prop_assert_eq!(region.base().addr() % 32, 16);
    // SAFETY: the region is 16-aligned, REGION bytes, outlives the list and
    // is used by nothing else.
    let mut heap = unsafe { FreeList::with_mistake(region.base(), REGION, fit, mistake) };
    let mut live: Vec<Live> = Vec::new();
    let mut next_tag = 1u8;
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Alloc { size, align_exp } => {
                let layout = Layout::from_size_align(size, 1 << align_exp).expect("valid layout");
                if let Some(ptr) = heap.alloc(layout) {
                    let tag = next_tag;
                    next_tag = next_tag.wrapping_add(1).max(1);
                    // SAFETY: a fresh block of `size` writable bytes.
                    unsafe { ptr.write_bytes(tag, size) };
                    live.push(Live { ptr, layout, tag });
                }
            }
            Op::Free { pick } if !live.is_empty() => {
                let block = live.swap_remove(pick % live.len());
                // SAFETY: from `heap.alloc` with this layout, freed once.
                unsafe { heap.free(block.ptr, block.layout) };
            }
            Op::Realloc { pick, size } if !live.is_empty() => {
                let index = pick % live.len();
                if let Some(new) = realloc(&mut heap, &live[index], size) {
                    let block = &mut live[index];
                    let old_size = block.layout.size();
                    block.ptr = new;
                    block.layout = Layout::from_size_align(size, block.layout.align()).unwrap();
                    // The kept part must still hold the tag; tag the rest.
                    let kept = old_size.min(size);
                    let check = Live {
                        ptr: new,
                        layout: Layout::from_size_align(kept, 1).unwrap(),
                        tag: block.tag,
                    };
                    prop_assert!(
                        tag_intact(&check),
                        "step {}: realloc lost the block's contents",
                        step
                    );
                    // SAFETY: the block now holds `size` writable bytes.
                    unsafe { new.write_bytes(block.tag, size) };
                }
            }
            _ => {}
        }
        check_model(&heap, &live, step)?;
    }
    for block in live.drain(..) {
        // SAFETY: each block from `heap` with its layout, freed once.
        unsafe { heap.free(block.ptr, block.layout) };
    }
    check_model(&heap, &live, ops.len())?;
    let whole = Layout::from_size_align(heap.max_request(), 16).unwrap();
    let block = heap.alloc(whole);
    prop_assert!(
        block.is_some(),
        "after freeing everything, one block of the whole region ({} bytes) was refused: \
         the free blocks were not all merged ({:?})",
        heap.max_request(),
        heap.stats()
    );
    Ok(())
}

/// Few cases under Miri, and no failure file (Miri isolates the test from
/// the file system).
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if cfg!(miri) {
        config.cases = 3;
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn first_fit_sequences(ops in proptest::collection::vec(op(), 1..MAX_STEPS)) {
        check_sequence(Fit::First, Mistake::None, &ops)?;
    }

    #[test]
    fn best_fit_sequences(ops in proptest::collection::vec(op(), 1..MAX_STEPS)) {
        check_sequence(Fit::Best, Mistake::None, &ops)?;
    }

    #[test]
    fn global_allocator_sequences(ops in proptest::collection::vec(op(), 1..MAX_STEPS)) {
        check_global(&ops)?;
    }
}

/// The same kind of sequence through [`FreeListAlloc`]'s `GlobalAlloc`
/// methods, on a region small enough that some requests go to `System`.
fn check_global(ops: &[Op]) -> Result<(), TestCaseError> {
    const SMALL: usize = 512;
    let heap = Box::new(FreeListAlloc::<SMALL>::new(Fit::First));
    let mut live: Vec<Live> = Vec::new();
    let mut fallbacks = 0;
    let mut next_tag = 1u8;
    let count = |ptr: NonNull<u8>, fallbacks: &mut usize| {
        if !heap.in_region(ptr.as_ptr()) {
            *fallbacks += 1;
        }
    };
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Alloc { size, align_exp } => {
                let layout = Layout::from_size_align(size.max(1), 1 << align_exp).unwrap();
                // SAFETY: the size is not zero.
                let ptr = NonNull::new(unsafe { heap.alloc(layout) });
                prop_assert!(ptr.is_some(), "step {}: System refused too", step);
                let ptr = ptr.unwrap();
                count(ptr, &mut fallbacks);
                let tag = next_tag;
                next_tag = next_tag.wrapping_add(1).max(1);
                // SAFETY: a fresh block of `layout.size()` bytes.
                unsafe { ptr.write_bytes(tag, layout.size()) };
                live.push(Live { ptr, layout, tag });
            }
            Op::Free { pick } if !live.is_empty() => {
                let block = live.swap_remove(pick % live.len());
                // SAFETY: from `heap.alloc` (or realloc) with this layout.
                unsafe { heap.dealloc(block.ptr.as_ptr(), block.layout) };
            }
            Op::Realloc { pick, size } if !live.is_empty() => {
                let size = size.max(1);
                let index = pick % live.len();
                let block = &mut live[index];
                let old_size = block.layout.size();
                // SAFETY: the block came from `heap` with this layout, the
                // new size is not zero and fits `isize` once aligned.
                let new = unsafe { heap.realloc(block.ptr.as_ptr(), block.layout, size) };
                let new = NonNull::new(new);
                prop_assert!(new.is_some(), "step {}: realloc failed", step);
                let new = new.unwrap();
                if new != block.ptr && heap.in_region(block.ptr.as_ptr()) {
                    count(new, &mut fallbacks);
                }
                block.ptr = new;
                block.layout = Layout::from_size_align(size, block.layout.align()).unwrap();
                let kept = Live {
                    ptr: new,
                    layout: Layout::from_size_align(old_size.min(size), 1).unwrap(),
                    tag: block.tag,
                };
                prop_assert!(
                    tag_intact(&kept),
                    "step {}: realloc lost the contents",
                    step
                );
                // SAFETY: the block holds `size` bytes.
                unsafe { new.write_bytes(block.tag, size) };
            }
            _ => {}
        }
        for block in &live {
            prop_assert_eq!(block.ptr.addr().get() % block.layout.align(), 0);
            prop_assert!(
                tag_intact(block),
                "step {}: a block lost its contents",
                step
            );
        }
        let mut ranges: Vec<(usize, usize)> = live
            .iter()
            .map(|b| (b.ptr.addr().get(), b.ptr.addr().get() + b.layout.size()))
            .collect();
        ranges.sort_unstable();
        for pair in ranges.windows(2) {
            prop_assert!(pair[0].1 <= pair[1].0, "step {}: blocks overlap", step);
        }
        let in_region = live
            .iter()
            .filter(|b| heap.in_region(b.ptr.as_ptr()))
            .count();
        prop_assert_eq!(heap.stats().used_blocks, in_region, "step {}", step);
    }
    prop_assert_eq!(heap.fallback_count(), fallbacks, "requests sent to System");
    for block in live.drain(..) {
        // SAFETY: each block from `heap` with its current layout, freed once.
        unsafe { heap.dealloc(block.ptr.as_ptr(), block.layout) };
    }
    let stats = heap.stats();
    prop_assert_eq!(stats.used_blocks, 0);
    prop_assert!(stats.free_blocks <= 1, "not merged: {:?}", stats);
    Ok(())
}

// Fixed sequences that each mistake fails, run through the same check.

fn alloc(size: usize, align: usize) -> Op {
    Op::Alloc {
        size,
        align_exp: align.trailing_zeros(),
    }
}

/// Runs `ops` with `mistake` and returns the check's complaint.
fn rejection(mistake: Mistake, ops: &[Op]) -> String {
    match check_sequence(Fit::First, mistake, ops) {
        Ok(()) => panic!("the sequence check passed a list with {mistake:?}"),
        Err(failure) => {
            let message = failure.to_string();
            eprintln!("{mistake:?} rejected: {message}");
            message
        }
    }
}

#[test]
fn the_correct_list_passes_the_fixed_sequences() {
    for ops in [coalescing_ops(), alignment_ops(), splitting_ops()] {
        check_sequence(Fit::First, Mistake::None, &ops).expect("the correct list passes");
    }
}

/// Three blocks; free the first, then the second: the second must merge
/// with the first, which is before it.
fn coalescing_ops() -> Vec<Op> {
    vec![
        alloc(40, 8),
        alloc(40, 8),
        alloc(40, 8),
        Op::Free { pick: 0 },
        // `swap_remove` moved the third block to index 0; the second is 1.
        Op::Free { pick: 1 },
    ]
}

#[test]
fn merging_with_the_next_block_only_is_rejected() {
    let message = rejection(Mistake::CoalesceNextOnly, &coalescing_ops());
    assert!(message.contains("not merged"), "{message}");
}

fn alignment_ops() -> Vec<Op> {
    vec![alloc(8, 64)]
}

#[test]
fn aligning_the_offset_is_rejected() {
    let message = rejection(Mistake::AlignOffset, &alignment_ops());
    assert!(message.contains("misaligned"), "{message}");
}

/// A block of 64 bytes freed, then a request of 32 payload bytes (48 with
/// the header) into it: the 16 bytes left over are no block.
fn splitting_ops() -> Vec<Op> {
    vec![
        alloc(48, 16),
        alloc(16, 16),
        Op::Free { pick: 0 },
        alloc(32, 16),
    ]
}

#[test]
fn splitting_off_a_remainder_below_the_minimum_is_rejected() {
    let message = rejection(Mistake::SplitAnyRemainder, &splitting_ops());
    assert!(
        message.contains(&format!("minimum {MIN_BLOCK}")),
        "{message}"
    );
}

/// Fills the region with blocks, frees them in an order that leaves every
/// second free block waiting for its left neighbour, then asks for the
/// whole region. True when it was granted.
fn whole_region_after_freeing_everything(mistake: Mistake) -> bool {
    let region = UnderAligned::new(REGION);
    // SAFETY: the region is 16-aligned, REGION bytes, outlives the list.
    let mut heap = unsafe { FreeList::with_mistake(region.base(), REGION, Fit::First, mistake) };
    let layout = Layout::from_size_align(48, 16).unwrap();
    let mut blocks = Vec::new();
    while let Some(block) = heap.alloc(layout) {
        blocks.push(block);
    }
    assert!(blocks.len() > 4, "the region holds a few blocks");
    // Odd blocks first (each waits between two used ones), then even ones
    // from the end backwards: each of those must merge with the block
    // before it as well as the one after.
    let order = (0..blocks.len())
        .filter(|i| i % 2 == 1)
        .chain((0..blocks.len()).filter(|i| i % 2 == 0).rev());
    for i in order {
        // SAFETY: each block from `heap.alloc(layout)`, freed once.
        unsafe { heap.free(blocks[i], layout) };
    }
    let whole = Layout::from_size_align(heap.max_request(), 16).unwrap();
    heap.alloc(whole).is_some()
}

#[test]
fn freeing_everything_gives_back_the_whole_region() {
    assert!(whole_region_after_freeing_everything(Mistake::None));
}

#[test]
fn the_whole_region_test_rejects_merging_with_the_next_block_only() {
    assert!(
        !whole_region_after_freeing_everything(Mistake::CoalesceNextOnly),
        "a list that merges only with the next block gave back the whole region"
    );
}
