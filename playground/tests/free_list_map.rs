//! The free-list heap map, natively: the same `FreeListMap` the page drives,
//! with the page's text as input. (It owns its region, so nothing here
//! depends on the global allocator.)
#![cfg(not(target_arch = "wasm32"))]

use playground::free_list_map::{FreeListMap, MapBlock, REGION_BYTES};

fn used(map: &FreeListMap, number: usize) -> MapBlock {
    map.blocks()
        .into_iter()
        .find(|block| block.number == Some(number))
        .unwrap_or_else(|| panic!("block #{number} is not in use: {:?}", map.blocks()))
}

fn free(map: &mut FreeListMap, number: usize) {
    let offset = used(map, number).offset;
    map.free_block(offset)
        .unwrap_or_else(|err| panic!("freeing #{number}: {err}"));
    map.check().expect("the list's invariants hold");
}

fn alloc(map: &mut FreeListMap, size: usize, align: usize) -> MapBlock {
    let block = map
        .alloc(&size.to_string(), &align.to_string())
        .unwrap_or_else(|err| panic!("{size} bytes aligned to {align}: {err}"));
    map.check().expect("the list's invariants hold");
    block
}

fn last_log(map: &FreeListMap) -> String {
    map.log()
        .last()
        .map(|entry| entry.text.clone())
        .unwrap_or_default()
}

/// The blocks tile the region with no gap and no overlap.
fn assert_tiles(map: &FreeListMap) {
    let mut end = 0;
    for block in map.blocks() {
        assert_eq!(block.offset, end, "{:?}", map.blocks());
        end += block.size;
    }
    assert_eq!(end, REGION_BYTES);
}

#[test]
fn allocation_splits_and_freeing_merges_with_either_neighbour() {
    let mut map = FreeListMap::new();
    let first = alloc(&mut map, 100, 16);
    assert_eq!(first.offset, 0, "first fit starts at the bottom");
    assert!(
        last_log(&map).contains("splitting off"),
        "{}",
        last_log(&map)
    );
    for (size, align) in [(200, 16), (100, 16), (300, 16)] {
        alloc(&mut map, size, align);
    }
    assert_tiles(&map);

    free(&mut map, 2);
    assert!(
        last_log(&map).contains("no free neighbour"),
        "{}",
        last_log(&map)
    );
    free(&mut map, 4);
    assert!(
        last_log(&map).contains("merged with the free block after it"),
        "{}",
        last_log(&map)
    );
    // First fit: the hole #2 left, right after #1, serves the next request.
    let fifth = alloc(&mut map, 50, 16);
    assert_eq!(fifth.offset, first.offset + first.size);
    assert!(
        last_log(&map).contains("splitting off"),
        "{}",
        last_log(&map)
    );
    // #3 has the rest of #2's hole before it and the free tail after it.
    free(&mut map, 3);
    assert!(
        last_log(&map).contains("merged with the free blocks on both sides"),
        "{}",
        last_log(&map)
    );
    assert_tiles(&map);

    // #1 sits between the bottom of the region and #5, still in use.
    free(&mut map, 1);
    assert!(
        last_log(&map).contains("no free neighbour"),
        "{}",
        last_log(&map)
    );
    free(&mut map, 5);
    assert!(
        last_log(&map).contains("merged with the free blocks on both sides"),
        "{}",
        last_log(&map)
    );
    let whole = map.blocks();
    assert_eq!(
        whole.len(),
        1,
        "everything freed coalesces into one block: {whole:?}"
    );
    assert!(whole[0].is_free && whole[0].size == REGION_BYTES);
    let stats = map.stats();
    assert_eq!(
        (
            stats.free_bytes,
            stats.largest_free,
            stats.external_fragmentation
        ),
        (REGION_BYTES, REGION_BYTES, 0.0)
    );
}

#[test]
fn the_gauge_adds_up_the_blocks() {
    let mut map = FreeListMap::new();
    for (size, align) in [(100, 16), (40, 8), (300, 16), (24, 64), (500, 16)] {
        alloc(&mut map, size, align);
    }
    free(&mut map, 1);
    free(&mut map, 3);
    let blocks = map.blocks();
    let stats = map.stats();
    let free: Vec<usize> = blocks
        .iter()
        .filter(|b| b.is_free)
        .map(|b| b.size)
        .collect();
    assert_eq!(stats.free_bytes, free.iter().sum::<usize>());
    assert_eq!(stats.largest_free, *free.iter().max().unwrap());
    assert_eq!(stats.free_blocks, free.len());
    assert_eq!(stats.used_blocks, blocks.len() - free.len());
    assert_eq!(stats.used_bytes + stats.free_bytes, REGION_BYTES);
    assert_eq!(stats.requested_bytes, 40 + 24 + 500);
    let expected = 1.0 - stats.largest_free as f64 / stats.free_bytes as f64;
    assert!((stats.external_fragmentation - expected).abs() < 1e-12);
    assert!(stats.external_fragmentation > 0.0, "two holes and a tail");
    // Payload addresses honour the alignment asked for.
    for block in blocks.iter().filter(|b| !b.is_free) {
        let align = block.align.unwrap();
        let payload = map.base_mod_4096() + block.offset + map.header_bytes();
        assert_eq!(payload % align, 0, "{block:?}");
    }
}

#[test]
fn a_request_no_block_can_serve_fails_with_the_largest_size_and_is_counted() {
    let mut map = FreeListMap::new();
    alloc(&mut map, 1000, 16);
    let before = map.blocks();
    let largest = map.stats().largest_free;
    let err = map.alloc("4000", "16").expect_err("4000 bytes do not fit");
    assert!(
        err.to_string().starts_with(&format!(
            "no free block large enough: largest is {largest} bytes"
        )),
        "{err}"
    );
    assert_eq!(map.blocks(), before, "a failed request changes no block");
    let stats = map.stats();
    assert_eq!((stats.failed_requests, stats.requests), (1, 2));
    assert_eq!(map.log().last().unwrap().outcome, "failed");
}

#[test]
fn bad_input_is_refused_with_the_rule_and_changes_nothing() {
    let mut map = FreeListMap::new();
    alloc(&mut map, 64, 16);
    let (before, requests) = (map.blocks(), map.stats().requests);
    for (size, align, rule) in [
        ("8", "3", "alignment 3 is not a power of two"),
        ("8", "0", "alignment 0 is not allowed"),
        ("0", "8", "must not be empty"),
        ("x", "8", "size must be a whole number, got `x`"),
        ("8", "-1", "alignment cannot be negative"),
        ("9223372036854775807", "8", "exceeds isize::MAX"),
    ] {
        let err = map.alloc(size, align).expect_err("bad input");
        assert!(err.to_string().contains(rule), "{size}/{align}: {err}");
        assert_eq!(map.log().last().unwrap().outcome, "refused");
    }
    let free_offset = map.blocks().iter().find(|b| b.is_free).unwrap().offset;
    for offset in [free_offset, 1, REGION_BYTES * 2] {
        let err = map.free_block(offset).expect_err("not a block in use");
        assert!(
            err.to_string().contains("no block in use starts at offset"),
            "{err}"
        );
    }
    let err = map.set_fit("worst").expect_err("no such fit");
    assert!(err.to_string().contains("`first` or `best`"), "{err}");
    assert_eq!(map.blocks(), before);
    assert_eq!(map.stats().requests, requests);
    assert_eq!(map.fit(), "first");
}

#[test]
fn switching_the_fit_replays_the_same_requests() {
    let mut map = FreeListMap::new();
    for size in [64, 400, 64, 100, 64] {
        alloc(&mut map, size, 16);
    }
    free(&mut map, 2); // a hole of about 400 bytes
    free(&mut map, 4); // a hole of about 100 bytes
    let (big_hole, small_hole) = (used(&map, 1), used(&map, 3));
    let (big_hole, small_hole) = (
        big_hole.offset + big_hole.size,
        small_hole.offset + small_hole.size,
    );
    alloc(&mut map, 100, 16);
    assert_eq!(
        used(&map, 6).offset,
        big_hole,
        "first fit takes the first hole"
    );

    map.set_fit("best").expect("best is a fit");
    assert_eq!(map.fit(), "best");
    assert_eq!(
        used(&map, 6).offset,
        small_hole,
        "best fit takes the hole closest in size"
    );
    assert!(
        last_log(&map).contains("replayed all 8 requests"),
        "{}",
        last_log(&map)
    );
    map.check().expect("the replayed list's invariants hold");

    map.set_fit("first").expect("first is a fit");
    assert_eq!(used(&map, 6).offset, big_hole);
    map.reset();
    assert_eq!(map.blocks().len(), 1);
    assert_eq!((map.stats().requests, map.log().len()), (0, 0));
}
