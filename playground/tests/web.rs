//! The exported API, run in headless Chrome by `wasm-bindgen-test`, with the
//! playground's own global allocator installed.
#![cfg(target_arch = "wasm32")]

use playground::arena::ArenaMap;
use playground::free_list_map::{self, FreeListMap};
use playground::{explorer, gauges, guardrail, timeline};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn a_bad_alignment_is_an_error_not_a_trap() {
    let err = explorer::explore_layout("16", "3").expect_err("alignment 3 is not a power of two");
    assert!(err.to_string().contains("not a power of two"), "{err}");
    let mut map = ArenaMap::new();
    let err = map
        .alloc("16", "48")
        .expect_err("alignment 48 is not a power of two");
    assert!(err.to_string().contains("not a power of two"), "{err}");
    assert_eq!(
        map.used(),
        0,
        "a rejected request takes nothing from the arena"
    );
}

#[wasm_bindgen_test]
fn wasm32_layouts_are_limited_to_isize_max() {
    // On wasm32 a usize is 32 bits: 2^31 bytes is one too many.
    let err = explorer::explore_layout("2147483648", "1").expect_err("over isize::MAX");
    assert!(err.to_string().contains("exceeds isize::MAX"), "{err}");
    assert!(explorer::explore_layout("2147483647", "1").is_ok());
}

#[wasm_bindgen_test]
fn arena_blocks_start_at_aligned_addresses() {
    let mut map = ArenaMap::new();
    map.alloc("3", "1").expect("3 bytes fit");
    for align in [2, 8, 16, 64, 256] {
        let block = map
            .alloc("5", &align.to_string())
            .expect("small blocks fit");
        let offset = block.offset.expect("the block is in the arena");
        assert_eq!((map.base_mod_4096() + offset) % align, 0, "align {align}");
    }
    assert_eq!(map.fallback_count(), 0);
}

#[wasm_bindgen_test]
fn gauges_move_with_a_vec_push() {
    let before = gauges::drop_all();
    let after = gauges::push_u64s("1000").expect("1000 is a valid count");
    assert_eq!(after.held_u64s, 1000);
    assert!(after.live_bytes >= before.live_bytes + 8 * after.held_u64_capacity);
    assert!(after.peak_bytes >= after.live_bytes);
    assert!(after.alloc_calls > before.alloc_calls);
    assert!(
        after.realloc_calls > before.realloc_calls,
        "pushing one at a time grows the buffer"
    );
    let dropped = gauges::drop_all();
    assert!(dropped.live_bytes + 8 * after.held_u64_capacity <= after.live_bytes);
}

#[wasm_bindgen_test]
fn the_guardrail_refuses_and_the_run_recovers() {
    let run = guardrail::run_budget("2048", "1024", "4", true).expect("valid run");
    assert_eq!(
        (run.blocks_granted, run.refused_at, run.refusals),
        (2, Some(3), 1)
    );
    let flagged = guardrail::run_budget("2048", "1024", "4", false).expect("valid run");
    assert_eq!(
        (
            flagged.blocks_granted,
            flagged.flagged_at,
            flagged.refused_at
        ),
        (4, Some(3), None)
    );
    // The limit is back out of reach: ordinary allocation works again.
    assert_eq!(playground::budget().limit(), usize::MAX);
    assert!(gauges::push_u64s("10").is_ok());
    gauges::drop_all();
}

#[wasm_bindgen_test]
fn a_timeline_records_only_the_scenario_and_draws_it() {
    let run = timeline::run_timeline("vec-push", "1000").expect("vec-push with n = 1000 is valid");
    let summary = run.summary();
    assert!(summary.reallocs >= 1, "{summary:?}: the buffer grows");
    assert_eq!(
        summary.allocations, summary.frees,
        "{summary:?}: the Vec is dropped inside the scenario"
    );
    assert_eq!(summary.final_live_bytes, 0, "{summary:?}");
    assert!(summary.peak_live_bytes >= 8 * 1000, "{summary:?}");
    assert_eq!(summary.dropped, 0, "{summary:?}");
    assert!(
        !playground::GLOBAL.recorder().is_recording(),
        "recording stops when the scenario returns"
    );
    // The page's own allocations after the run are not in the trace.
    let events = run.trace().events.len();
    let _svg = run.block_map_svg();
    assert_eq!(run.trace().events.len(), events);
    assert!(run.live_bytes_svg().starts_with("<svg"));
    assert!(run.block_map_svg().contains("data-addr="));
    let parsed = heap_trace::Trace::parse(&run.json_lines()).expect("the trace round-trips");
    assert_eq!(&parsed, run.trace());
}

#[wasm_bindgen_test]
fn a_timeline_refuses_bad_input_with_the_rule() {
    let err = timeline::run_timeline("vec-push", "0").expect_err("n = 0 is out of range");
    assert!(err.to_string().contains("n must be from 1 to"), "{err}");
    let err = timeline::run_timeline("vec-pop", "10").expect_err("no such scenario");
    assert!(err.to_string().contains("vec-with-capacity"), "{err}");
}

#[wasm_bindgen_test]
fn the_free_list_map_splits_merges_and_refuses_in_the_browser() {
    let mut map = FreeListMap::new();
    let a = map.alloc("100", "16").expect("100 bytes fit");
    let b = map.alloc("24", "256").expect("24 bytes aligned to 256 fit");
    assert_eq!(
        (map.base_mod_4096() + b.offset + map.header_bytes()) % 256,
        0,
        "the payload's address is aligned, not just its offset"
    );
    map.free_block(a.offset)
        .expect("a block in use can be freed");
    map.free_block(b.offset)
        .expect("a block in use can be freed");
    let blocks = map.blocks();
    assert_eq!(blocks.len(), 1, "everything coalesced: {blocks:?}");
    let err = map.alloc("8", "3").expect_err("alignment 3");
    assert!(err.to_string().contains("not a power of two"), "{err}");
    let err = map.alloc("5000", "16").expect_err("larger than the region");
    assert!(
        err.to_string().starts_with(&format!(
            "no free block large enough: largest is {} bytes",
            free_list_map::REGION_BYTES
        )),
        "{err}"
    );
    assert_eq!(map.stats().failed_requests, 1);
}
