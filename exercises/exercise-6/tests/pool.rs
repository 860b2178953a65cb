//! The size-class pool's promises. Every test owns its pool.

use std::alloc::{GlobalAlloc, Layout};

use exercise_6::{CLASSES, Pool, class_of};

const NOT_SOLVED: &str = "not solved yet (or a bug): a small block did not come from the pool's \
     region — see the chapter \"A bump arena\", or run `cargo workbook hint 6`";

/// Backing memory for one pool, aligned to the largest class so a region of
/// `n * 128` bytes holds exactly `n` blocks of 128.
struct Region {
    buffer: Vec<u8>,
    len: usize,
}

impl Region {
    fn new(len: usize) -> Self {
        Self {
            buffer: vec![0; len + 128],
            len,
        }
    }

    fn pool(&mut self) -> Pool {
        let start = self.buffer.as_mut_ptr();
        let skip = start.align_offset(128);
        // SAFETY: `skip + len` is within the buffer, and each test leaves it
        // alone while its pool is in use.
        unsafe { Pool::new(start.add(skip), self.len) }
    }
}

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("a valid layout")
}

fn alloc(pool: &Pool, layout: Layout) -> *mut u8 {
    // SAFETY: every layout in these tests has a non-zero size.
    let ptr = unsafe { pool.alloc(layout) };
    assert!(
        !ptr.is_null(),
        "the pool falls back to System, so it never returns null here"
    );
    ptr
}

/// Allocates a block that must come from the pool's region.
fn alloc_small(pool: &Pool, layout: Layout) -> *mut u8 {
    let ptr = alloc(pool, layout);
    assert!(pool.owns(ptr), "{NOT_SOLVED}");
    ptr
}

#[test]
fn class_of_picks_the_smallest_class_that_fits() {
    assert_eq!(CLASSES, [16, 32, 64, 128]);
    assert_eq!(class_of(layout(1, 1)), Some(0));
    assert_eq!(class_of(layout(16, 8)), Some(0));
    assert_eq!(class_of(layout(17, 1)), Some(1));
    assert_eq!(
        class_of(layout(16, 64)),
        Some(2),
        "alignment counts as much as size"
    );
    assert_eq!(class_of(layout(128, 128)), Some(3));
    assert_eq!(class_of(layout(129, 1)), None);
    assert_eq!(class_of(layout(8, 256)), None);
}

#[test]
fn a_freed_block_is_reused_by_its_class() {
    let mut region = Region::new(4096);
    let pool = region.pool();
    let first = alloc_small(&pool, layout(24, 8));
    assert_eq!(first.addr() % 32, 0, "a 32-byte class block is 32-aligned");
    let carved = pool.carved();
    // SAFETY: `first` came from `pool` with this layout.
    unsafe { pool.dealloc(first, layout(24, 8)) };
    let again = alloc_small(&pool, layout(32, 4));
    assert_eq!(again, first, "the freed 32-byte block is handed out again");
    assert_eq!(pool.carved(), carved, "reuse carves nothing new");
}

#[test]
fn classes_do_not_share_blocks() {
    let mut region = Region::new(4096);
    let pool = region.pool();
    let small = alloc_small(&pool, layout(16, 16));
    // SAFETY: `small` came from `pool` with this layout.
    unsafe { pool.dealloc(small, layout(16, 16)) };
    let bigger = alloc_small(&pool, layout(64, 8));
    assert_ne!(bigger, small, "a free 16-byte block cannot hold 64 bytes");
    assert_eq!(bigger.addr() % 64, 0);
}

#[test]
fn large_requests_and_a_full_region_go_to_system() {
    let mut region = Region::new(256);
    let pool = region.pool();
    let large = alloc(&pool, layout(1000, 8));
    assert!(
        !pool.owns(large),
        "1000 bytes is no class: System serves it"
    );
    let a = alloc_small(&pool, layout(128, 8));
    let b = alloc_small(&pool, layout(128, 8));
    let overflow = alloc(&pool, layout(128, 8));
    assert!(!pool.owns(overflow), "a full region falls back to System");
    // SAFETY: each block came from `pool` with the layout given here.
    unsafe {
        pool.dealloc(overflow, layout(128, 8));
        pool.dealloc(large, layout(1000, 8));
        pool.dealloc(a, layout(128, 8));
        pool.dealloc(b, layout(128, 8));
    }
    let reused = alloc_small(&pool, layout(100, 8));
    assert!(
        reused == a || reused == b,
        "a freed region block is preferred over System"
    );
}

#[test]
fn two_threads_share_the_pool_without_overlap() {
    const ROUNDS: usize = 20_000;
    const HELD: usize = 8;
    let block = layout(64, 8);
    // Far too small for 2 x 20 000 blocks: every round must reuse blocks.
    let mut region = Region::new(4 * 1024);
    let pool = region.pool();
    std::thread::scope(|s| {
        for tag in 1..=2u8 {
            let pool = &pool;
            s.spawn(move || {
                let mut held = std::collections::VecDeque::with_capacity(HELD);
                for _ in 0..ROUNDS {
                    let ptr = alloc_small(pool, block);
                    // SAFETY: the block is ours: 64 writable bytes.
                    unsafe { ptr.write_bytes(tag, 64) };
                    held.push_back(ptr);
                    if held.len() == HELD
                        && let Some(oldest) = held.pop_front()
                    {
                        // SAFETY: `oldest` is a live block we filled with `tag`.
                        let bytes = unsafe { std::slice::from_raw_parts(oldest, 64) };
                        assert!(
                            bytes.iter().all(|&b| b == tag),
                            "another thread got this block"
                        );
                        // SAFETY: `oldest` came from `pool` with `block`.
                        unsafe { pool.dealloc(oldest, block) };
                    }
                }
                for ptr in held {
                    // SAFETY: each came from `pool` with `block`.
                    unsafe { pool.dealloc(ptr, block) };
                }
            });
        }
    });
    assert!(
        pool.carved() <= 2 * HELD * 64,
        "at most the blocks held at once are ever carved"
    );
}
