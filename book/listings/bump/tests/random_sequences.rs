//! Random allocation sequences against local (non-global) instances.

use std::alloc::{GlobalAlloc, Layout};

use bump::{BumpAlloc, UnderAligned};
use proptest::prelude::*;

const ARENA: usize = 8192;
/// Steps in one sequence (fewer under Miri, which is far slower).
const MAX_STEPS: usize = if cfg!(miri) { 16 } else { 48 };

/// One step: allocate `size` bytes at `1 << align_exp`, then maybe free the
/// live block at `free_pick` (modulo the number of live blocks).
#[derive(Clone, Debug)]
struct Step {
    size: usize,
    align_exp: u32,
    free_pick: Option<usize>,
}

fn step() -> impl Strategy<Value = Step> {
    // Mostly small blocks so the arena lasts a while, some up to the whole
    // arena so fallbacks happen too.
    let size = prop_oneof![3 => 0usize..=64, 1 => 0usize..=ARENA];
    (size, 0u32..=12, proptest::option::of(any::<usize>())).prop_map(
        |(size, align_exp, free_pick)| Step {
            size,
            align_exp,
            free_pick,
        },
    )
}

struct Block {
    ptr: *mut u8,
    layout: Layout,
    fill: u8,
}

/// Runs `steps` against `bump` and checks every promise along the way.
fn check_sequence(bump: &BumpAlloc<ARENA>, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut live: Vec<Block> = Vec::new();
    // Arena blocks are never reused, so ALL of them must be disjoint.
    let mut arena_ranges: Vec<(usize, usize)> = Vec::new();
    let mut arena_bytes = 0;
    let mut fallbacks = 0;

    for (index, step) in steps.iter().enumerate() {
        let layout = Layout::from_size_align(step.size, 1 << step.align_exp).unwrap();
        // SAFETY: zero sizes are part of what is tested; `BumpAlloc`
        // documents that it accepts them.
        let ptr = unsafe { bump.alloc(layout) };
        prop_assert!(!ptr.is_null());
        prop_assert_eq!(
            ptr.addr() % layout.align(),
            0,
            "misaligned for {:?}",
            layout
        );
        let fill = index as u8;
        if layout.size() > 0 {
            match bump.arena_offset(ptr) {
                Some(offset) => {
                    prop_assert!(offset + layout.size() <= ARENA);
                    arena_ranges.push((offset, offset + layout.size()));
                    arena_bytes += layout.size();
                }
                None => fallbacks += 1,
            }
            // SAFETY: the block has `layout.size()` writable bytes.
            unsafe { ptr.write_bytes(fill, layout.size()) };
        } else {
            prop_assert_eq!(bump.arena_offset(ptr), None);
        }
        live.push(Block { ptr, layout, fill });

        if let Some(pick) = step.free_pick {
            let block = live.swap_remove(pick % live.len());
            // SAFETY: the block came from `bump` with this layout and is
            // removed from `live`, so it is not used again.
            unsafe { bump.dealloc(block.ptr, block.layout) };
        }
        let live_fallbacks = live
            .iter()
            .filter(|b| b.layout.size() > 0 && bump.arena_offset(b.ptr).is_none())
            .count();
        prop_assert_eq!(bump.fallback_live(), live_fallbacks);
    }

    // Overlap would have overwritten somebody's fill byte.
    for block in &live {
        // SAFETY: the block is live and was filled with `block.fill`.
        let bytes = unsafe { std::slice::from_raw_parts(block.ptr, block.layout.size()) };
        prop_assert!(
            bytes.iter().all(|&b| b == block.fill),
            "a block was overwritten"
        );
    }
    arena_ranges.sort_unstable();
    for pair in arena_ranges.windows(2) {
        prop_assert!(pair[0].1 <= pair[1].0, "arena blocks {:?} overlap", pair);
    }
    prop_assert_eq!(bump.fallback_count(), fallbacks);
    prop_assert_eq!(bump.used(), arena_bytes + bump.padding_wasted());

    for block in live.drain(..) {
        // SAFETY: each block came from `bump` with its layout, freed once.
        unsafe { bump.dealloc(block.ptr, block.layout) };
    }
    prop_assert_eq!(bump.fallback_live(), 0);
    Ok(())
}

/// Few cases under Miri, which runs each one thousands of times slower, and
/// no failure file: Miri isolates the test from the file system.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if cfg!(miri) {
        config.cases = 4;
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ordinary_instance(steps in proptest::collection::vec(step(), 1..MAX_STEPS)) {
        let bump = Box::new(BumpAlloc::<ARENA>::new());
        check_sequence(&bump, &steps)?;
    }

    #[test]
    fn instance_whose_base_is_16_mod_32(steps in proptest::collection::vec(step(), 1..MAX_STEPS)) {
        let demo = Box::new(UnderAligned::<ARENA>::new());
        prop_assert_eq!(demo.bump.base_addr() % 32, 16);
        check_sequence(&demo.bump, &steps)?;
    }
}
