//! Exercise 7's tests. Every test builds its own list over a region that
//! starts 16 bytes past a 4096-byte boundary: aligned to 16 and to nothing
//! larger, so only an allocator that aligns ADDRESSES gets alignment right.

use std::alloc::Layout;
use std::ptr::NonNull;

use exercise_7::{Block, FreeList, HEADER, MIN_BLOCK};

const REGION: usize = 1024;

/// A region at 16 (mod 4096), freed when dropped.
struct Region {
    allocation: NonNull<u8>,
    layout: Layout,
}

impl Region {
    fn new() -> Self {
        let layout = Layout::from_size_align(REGION + 16, 4096).expect("a valid layout");
        // SAFETY: the size is not zero.
        let ptr = unsafe { std::alloc::alloc(layout) };
        let allocation = NonNull::new(ptr).expect("memory for the test region");
        Self { allocation, layout }
    }

    /// A list over the region.
    fn list(&self) -> FreeList {
        // SAFETY: 16 bytes into an allocation of REGION + 16 bytes: REGION
        // bytes, 16-aligned, used by nothing else, outliving the list (the
        // tests drop the list first).
        unsafe { FreeList::new(self.allocation.as_ptr().add(16), REGION) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.allocation.as_ptr(), self.layout) }
    }
}

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("a valid layout")
}

fn alloc(heap: &mut FreeList, size: usize, align: usize) -> NonNull<u8> {
    heap.alloc(layout(size, align)).unwrap_or_else(|| {
        panic!("alloc({size} bytes, align {align}) failed in a region with room")
    })
}

/// The list's invariants: blocks tile the region, none below the minimum,
/// the free list is exactly the free blocks in address order, and no two
/// free blocks are neighbours.
fn check_invariants(heap: &FreeList, when: &str) {
    let blocks = heap.blocks();
    let mut end = 0;
    for pair in blocks.windows(2) {
        assert!(
            !(pair[0].free && pair[1].free),
            "{when}: free blocks at {} and {} are neighbours: `free` did not merge them",
            pair[0].offset,
            pair[1].offset
        );
    }
    for block in &blocks {
        assert_eq!(
            block.offset, end,
            "{when}: the blocks do not follow each other: {blocks:?}"
        );
        assert!(
            block.size >= MIN_BLOCK,
            "{when}: the block at {} has {} bytes, less than MIN_BLOCK ({MIN_BLOCK}): a remainder \
             too small to serve any request was split off: {blocks:?}",
            block.offset,
            block.size
        );
        end = block.offset + block.size;
    }
    assert_eq!(
        end,
        heap.len(),
        "{when}: the blocks do not cover the region: {blocks:?}"
    );
    let free: Vec<usize> = blocks.iter().filter(|b| b.free).map(|b| b.offset).collect();
    assert_eq!(
        heap.free_list(),
        free,
        "{when}: the free list is not the free blocks in address order"
    );
}

#[test]
fn a_fresh_region_is_one_free_block() {
    let region = Region::new();
    let heap = region.list();
    assert_eq!(
        heap.blocks(),
        vec![Block {
            offset: 0,
            size: REGION,
            free: true
        }]
    );
    assert_eq!(heap.free_list(), vec![0]);
}

#[test]
fn an_allocation_splits_the_free_block() {
    let region = Region::new();
    let mut heap = region.list();
    let a = alloc(&mut heap, 20, 8);
    assert_eq!(
        heap.offset_of(a.as_ptr()),
        Some(HEADER),
        "the first block's payload"
    );
    assert_eq!(
        heap.blocks(),
        vec![
            Block {
                offset: 0,
                size: 48,
                free: false
            },
            Block {
                offset: 48,
                size: REGION - 48,
                free: true
            },
        ],
        "20 bytes take a 48-byte block (16 of header, 20 rounded up to 32); the rest stays free"
    );
    check_invariants(&heap, "after one allocation");
}

#[test]
fn blocks_are_aligned_by_address() {
    for align in [1, 2, 8, 16, 32, 64, 128, 256] {
        let region = Region::new();
        let mut heap = region.list();
        for size in [1, 24, 100] {
            let ptr = alloc(&mut heap, size, align);
            assert_eq!(
                ptr.addr().get() % align,
                0,
                "alloc({size} bytes, align {align}) returned an address that is not a multiple of \
                 {align}: the region starts at 16 (mod 4096), so aligning the OFFSET is not enough"
            );
            check_invariants(&heap, &format!("after alloc({size}, {align})"));
        }
    }
}

#[test]
fn a_remainder_below_the_minimum_stays_with_the_block() {
    let region = Region::new();
    let mut heap = region.list();
    let a = alloc(&mut heap, 48, 16); // a 64-byte block
    let _b = alloc(&mut heap, 16, 16); // keeps `a`'s block from merging on
    // SAFETY: `a` came from `alloc(48, 16)` and is not used again.
    unsafe { heap.free(a, layout(48, 16)) };
    // 32 bytes need a 48-byte block: 16 of the 64 would be left, less than
    // MIN_BLOCK, so the whole 64-byte block must be handed out.
    let c = alloc(&mut heap, 32, 16);
    assert_eq!(
        heap.offset_of(c.as_ptr()),
        Some(HEADER),
        "the freed block is reused"
    );
    check_invariants(&heap, "after reusing a block with a 16-byte remainder");
}

#[test]
fn a_freed_block_is_reused() {
    let region = Region::new();
    let mut heap = region.list();
    let a = alloc(&mut heap, 64, 8);
    let _b = alloc(&mut heap, 64, 8);
    // SAFETY: `a` came from `alloc(64, 8)` and is not used again.
    unsafe { heap.free(a, layout(64, 8)) };
    let c = alloc(&mut heap, 64, 8);
    assert_eq!(
        c, a,
        "first fit takes the freed block at the start of the region"
    );
}

#[test]
fn freeing_merges_with_both_neighbours() {
    let region = Region::new();
    let mut heap = region.list();
    let [a, b, c] = [40, 40, 40].map(|size| alloc(&mut heap, size, 8));
    let _d = alloc(&mut heap, 40, 8); // keeps the end of the region apart
    // SAFETY: each block came from `alloc(40, 8)` and is freed once.
    unsafe {
        heap.free(a, layout(40, 8));
        heap.free(c, layout(40, 8));
    }
    check_invariants(&heap, "after freeing the first and third blocks");
    // SAFETY: as above.
    unsafe { heap.free(b, layout(40, 8)) };
    check_invariants(&heap, "after freeing the block between two free ones");
    assert_eq!(
        heap.blocks().first(),
        Some(&Block {
            offset: 0,
            size: 3 * 64,
            free: true
        }),
        "the middle block must merge with the free block before it AND the one after it"
    );
}

/// Fills the region with 48-byte blocks and frees them in `order`, then asks
/// for the whole region at once.
fn free_all_in_order(order: impl Fn(usize) -> Vec<usize>, name: &str) {
    let region = Region::new();
    let mut heap = region.list();
    let block = layout(48, 16);
    let mut blocks = Vec::new();
    while let Some(ptr) = heap.alloc(block) {
        blocks.push(ptr);
        assert!(
            blocks.len() <= REGION / 64,
            "more blocks than the region holds"
        );
    }
    assert_eq!(blocks.len(), REGION / 64, "a full region of 64-byte blocks");
    for i in order(blocks.len()) {
        // SAFETY: each block came from `alloc(block)` and is freed once.
        unsafe { heap.free(blocks[i], block) };
        check_invariants(&heap, &format!("freeing {name}, after block {i}"));
    }
    let whole = heap.alloc(layout(heap.max_request(), 16));
    assert!(
        whole.is_some(),
        "after freeing every block ({name}) a request for the whole region ({} bytes) failed: \
         the free blocks were not all merged back into one: {:?}",
        heap.max_request(),
        heap.blocks()
    );
}

#[test]
fn freeing_everything_in_any_order_gives_back_the_whole_region() {
    free_all_in_order(|n| (0..n).collect(), "front to back");
    free_all_in_order(|n| (0..n).rev().collect(), "back to front");
    free_all_in_order(
        |n| (1..n).step_by(2).chain((0..n).step_by(2).rev()).collect(),
        "odd blocks first, then even ones back to front",
    );
}

#[test]
fn live_blocks_keep_their_bytes() {
    let region = Region::new();
    let mut heap = region.list();
    let mut live: Vec<(NonNull<u8>, Layout, u8)> = Vec::new();
    let mut seed = 0x2545_F491u32;
    for step in 0u8..120 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        if seed.is_multiple_of(3) && !live.is_empty() {
            let (ptr, layout, tag) = live.swap_remove(seed as usize % live.len());
            // SAFETY: the block holds `layout.size()` bytes written with `tag`.
            let bytes = unsafe { std::slice::from_raw_parts(ptr.as_ptr(), layout.size()) };
            assert!(
                bytes.iter().all(|&b| b == tag),
                "step {step}: a block's bytes changed while it was live: another block overlaps \
                 it, or a header was written into it"
            );
            // SAFETY: from `heap.alloc(layout)`, freed once.
            unsafe { heap.free(ptr, layout) };
        } else {
            let layout = layout(1 + (seed as usize >> 4) % 120, 1 << ((seed >> 12) % 7));
            if let Some(ptr) = heap.alloc(layout) {
                // SAFETY: a fresh block of `layout.size()` bytes.
                unsafe { ptr.write_bytes(step, layout.size()) };
                live.push((ptr, layout, step));
            }
        }
        check_invariants(&heap, &format!("step {step}"));
    }
    for (ptr, layout, tag) in live.drain(..) {
        // SAFETY: as above.
        let bytes = unsafe { std::slice::from_raw_parts(ptr.as_ptr(), layout.size()) };
        assert!(
            bytes.iter().all(|&b| b == tag),
            "a live block's bytes changed"
        );
        // SAFETY: from `heap.alloc(layout)`, freed once.
        unsafe { heap.free(ptr, layout) };
    }
    assert_eq!(heap.blocks().len(), 1, "everything freed: one block again");
}

#[test]
fn a_full_region_refuses_and_recovers() {
    let region = Region::new();
    let mut heap = region.list();
    assert!(
        heap.alloc(layout(REGION, 8)).is_none(),
        "more than the region: refused"
    );
    assert!(
        heap.alloc(layout(8, 1 << 40)).is_none(),
        "an alignment no region meets: refused"
    );
    let max = heap.max_request();
    let all = alloc(&mut heap, max, 16);
    assert!(heap.alloc(layout(1, 1)).is_none(), "a full region: refused");
    // SAFETY: from `alloc(max_request, 16)`, freed once.
    unsafe { heap.free(all, layout(max, 16)) };
    check_invariants(&heap, "after freeing the whole region");
    alloc(&mut heap, 100, 8);
}
