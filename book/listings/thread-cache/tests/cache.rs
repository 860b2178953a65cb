//! One thread at a time: chunks, bumping, recycling by size class, the
//! System fallback, and realloc.

use std::alloc::{GlobalAlloc, Layout};

use thread_cache::{
    CHUNK_HEADER, ChunkCursor, LocalStats, ThreadCache, class_size, largest_class, size_class,
};

/// Small chunks keep the arenas small enough to build on the stack.
const CHUNK: usize = 1024;
const ARENA: usize = 4 * CHUNK;
type Cache = ThreadCache<ARENA, CHUNK>;

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("valid test layout")
}

/// # Safety
/// `layout` has a non-zero size.
unsafe fn alloc(cache: &Cache, layout: Layout) -> *mut u8 {
    // SAFETY: the caller guarantees a non-zero size.
    let ptr = unsafe { cache.alloc(layout) };
    assert!(!ptr.is_null(), "alloc({layout:?}) failed");
    ptr
}

fn stats(cache: &Cache) -> LocalStats {
    cache.local_stats().expect("this thread has allocated here")
}

#[test]
fn size_classes_round_size_and_alignment_up_to_a_power_of_two() {
    let largest = largest_class(CHUNK);
    assert_eq!(largest, 128, "an eighth of a 1 KiB chunk");
    assert_eq!(largest_class(64 * 1024), 4096);
    for (size, align, class) in [
        (1, 1, Some(0)),
        (16, 8, Some(0)),
        (17, 8, Some(1)),
        (24, 8, Some(1)),
        (8, 64, Some(2)),
        (100, 4, Some(3)),
        (128, 128, Some(3)),
        (129, 1, None),
        (8, 256, None),
    ] {
        assert_eq!(
            size_class(layout(size, align), largest),
            class,
            "{size} bytes aligned to {align}"
        );
    }
    assert_eq!(class_size(3), 128);
}

#[test]
fn a_freed_block_comes_back_for_the_next_request_of_its_class() {
    let cache = Box::new(Cache::new());
    // SAFETY: for the whole block, every layout is non-zero; each block is freed
    // once with the layout it was allocated with.
    unsafe {
        let first = alloc(&cache, layout(24, 8));
        first.write_bytes(0xAA, 24);
        cache.dealloc(first, layout(24, 8));
        // 32 bytes is the same class as 24: the freed block comes back.
        let again = alloc(&cache, layout(32, 16));
        assert_eq!(again, first);
        // A different class does not get it.
        let other = alloc(&cache, layout(16, 8));
        assert_ne!(other, first);
        let s = stats(&cache);
        assert_eq!((s.bumped, s.recycled, s.chunks), (2, 1, 1), "{s:?}");
        // Freed newest first, handed out newest first (a stack per class).
        let (a, b) = (alloc(&cache, layout(32, 8)), alloc(&cache, layout(32, 8)));
        cache.dealloc(a, layout(32, 8));
        cache.dealloc(b, layout(32, 8));
        cache.dealloc(again, layout(32, 16));
        assert_eq!(stats(&cache).cached_blocks, 3);
        assert_eq!(stats(&cache).cached_bytes, 96);
        assert_eq!(alloc(&cache, layout(30, 2)), again);
        assert_eq!(alloc(&cache, layout(30, 2)), b);
        assert_eq!(alloc(&cache, layout(30, 2)), a);
        assert_eq!(cache.owner_of(a), Some(stats(&cache).record));
    }
}

#[test]
fn the_bump_only_cache_never_hands_a_block_out_twice() {
    let cache = Box::new(Cache::bump_only());
    let mut seen = Vec::new();
    for _ in 0..20 {
        // SAFETY: non-zero layout; freed once, with it.
        unsafe {
            let ptr = alloc(&cache, layout(32, 8));
            assert!(!seen.contains(&ptr), "a block came back");
            seen.push(ptr);
            cache.dealloc(ptr, layout(32, 8));
        }
    }
    let s = stats(&cache);
    assert_eq!((s.bumped, s.recycled, s.cached_blocks), (20, 0, 0), "{s:?}");
}

#[test]
fn blocks_are_aligned_to_their_class_and_stay_inside_one_chunk() {
    let cache = Box::new(Cache::new());
    for (size, align) in [(1, 1), (24, 8), (8, 64), (100, 16), (128, 128), (3, 2)] {
        let l = layout(size, align);
        // SAFETY: non-zero layout; freed once below.
        let ptr = unsafe { alloc(&cache, l) };
        let class = size_class(l, largest_class(CHUNK)).unwrap();
        assert_eq!(ptr.addr() % class_size(class), 0, "{l:?}");
        let offset = cache.arena_offset(ptr).expect("an arena block");
        let chunk_start = offset - offset % CHUNK;
        assert!(
            offset >= chunk_start + CHUNK_HEADER,
            "{l:?} overlaps the header"
        );
        assert!(offset + class_size(class) <= chunk_start + CHUNK, "{l:?}");
        // SAFETY: `ptr` came from `alloc(l)`.
        unsafe { cache.dealloc(ptr, l) };
    }
}

#[test]
fn large_requests_and_an_exhausted_arena_fall_back_to_system() {
    let cache = Box::new(Cache::bump_only());
    // SAFETY: for the whole block, non-zero layouts, each freed once with its own.
    unsafe {
        let big = alloc(&cache, layout(129, 8));
        assert_eq!(cache.arena_offset(big), None);
        assert_eq!(cache.fallback_count(), 1);
        big.write_bytes(1, 129);
        cache.dealloc(big, layout(129, 8));

        // 128-byte blocks: 7 per 1 KiB chunk (the header pushes the eighth
        // out), so four chunks hold 28.
        let mut blocks = Vec::new();
        while cache.fallback_count() == 1 {
            blocks.push(alloc(&cache, layout(128, 8)));
        }
        let fallback = blocks.pop().expect("the request that fell back");
        assert_eq!(cache.arena_offset(fallback), None);
        assert_eq!(blocks.len(), 28);
        assert_eq!(cache.chunks_taken(), 4);
        // The first block of a chunk starts at 128 (aligned past the
        // header), the seventh ends at the chunk's end: no tail left.
        assert_eq!(stats(&cache).tail_bytes, 0);
        for &b in &blocks {
            assert!(cache.arena_offset(b).is_some());
        }
        cache.dealloc(fallback, layout(128, 8));
        // The arena stays exhausted: the next request falls back too.
        let after = alloc(&cache, layout(16, 8));
        assert_eq!(cache.arena_offset(after), None);
        assert_eq!(cache.fallback_count(), 3);
        cache.dealloc(after, layout(16, 8));
    }
}

#[test]
fn realloc_keeps_a_block_within_its_class_and_copies_across_classes() {
    let cache = Box::new(Cache::new());
    // SAFETY: for the whole block, non-zero sizes; each block is used only while
    // live and freed once with its current layout.
    unsafe {
        let ptr = alloc(&cache, layout(20, 4));
        for i in 0..20 {
            ptr.add(i).write(i as u8);
        }
        let same = cache.realloc(ptr, layout(20, 4), 32);
        assert_eq!(same, ptr, "20 and 32 bytes share a class");
        let moved = cache.realloc(same, layout(32, 4), 100);
        assert_ne!(moved, ptr);
        for i in 0..20 {
            assert_eq!(moved.add(i).read(), i as u8);
        }
        // Into System and back.
        let big = cache.realloc(moved, layout(100, 4), 1000);
        assert_eq!(cache.arena_offset(big), None);
        let small = cache.realloc(big, layout(1000, 4), 10);
        assert!(cache.arena_offset(small).is_some());
        for i in 0..10 {
            assert_eq!(small.add(i).read(), i as u8);
        }
        cache.dealloc(small, layout(10, 4));
    }
}

#[test]
fn zero_size_requests_get_an_aligned_dangling_pointer() {
    let cache = Box::new(Cache::new());
    // SAFETY: `alloc` takes any layout here only because it checks for
    // zero size itself; `dealloc` of that pointer is a no-op.
    unsafe {
        let ptr = cache.alloc(layout(0, 64));
        assert_eq!(ptr.addr(), 64);
        cache.dealloc(ptr, layout(0, 64));
    }
    assert_eq!(cache.chunks_taken(), 0);
}

#[test]
fn a_mixed_sequence_never_hands_out_overlapping_blocks() {
    let cache = Box::new(Cache::new());
    let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
    let mut seed = 0x2545_f491_u32;
    let steps = if cfg!(miri) { 150 } else { 3000 };
    for step in 0..steps {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        if live.len() > 12 || (seed.is_multiple_of(3) && !live.is_empty()) {
            let (ptr, l, tag) = live.swap_remove(seed as usize % live.len());
            // SAFETY: a live block of `l.size()` bytes, all written below.
            let bytes = unsafe { std::slice::from_raw_parts(ptr, l.size()) };
            assert!(
                bytes.iter().all(|&b| b == tag),
                "step {step}: block overwritten"
            );
            // SAFETY: from `alloc(l)`, freed once.
            unsafe { cache.dealloc(ptr, l) };
        } else {
            let l = layout(1 + seed as usize % 140, 1 << ((seed >> 8) % 5));
            let tag = step as u8;
            // SAFETY: non-zero size; the block has `l.size()` bytes.
            unsafe {
                let ptr = alloc(&cache, l);
                ptr.write_bytes(tag, l.size());
                live.push((ptr, l, tag));
            }
        }
    }
    for (ptr, l, _) in live {
        // SAFETY: from `alloc(l)`, freed once.
        unsafe { cache.dealloc(ptr, l) };
    }
    assert!(stats(&cache).recycled > 0);
}

#[test]
fn the_cursor_hands_out_each_chunk_once_and_then_none() {
    let cursor = ChunkCursor::new();
    let taken: Vec<Option<usize>> = (0..5).map(|_| cursor.take(256, 1000)).collect();
    assert_eq!(taken, [Some(0), Some(256), Some(512), None, None]);
    assert_eq!(cursor.take(2000, 1000), None);
}
