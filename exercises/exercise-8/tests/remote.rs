//! One thread: what goes in comes out, newest first, with its class, and a
//! taken block is the caller's to overwrite at once.

use std::alloc::{GlobalAlloc, Layout, System};

use exercise_8::RemoteList;

const BLOCK: usize = 32;

/// Blocks from System for one test, freed when it ends.
struct Blocks(Vec<*mut u8>);

impl Blocks {
    fn new(count: usize) -> Self {
        // SAFETY: a non-zero size.
        let blocks = (0..count)
            .map(|_| unsafe { System.alloc(layout()) })
            .collect();
        Blocks(blocks)
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        for &ptr in &self.0 {
            // SAFETY: from `System.alloc(layout())`, freed once.
            unsafe { System.dealloc(ptr, layout()) };
        }
    }
}

fn layout() -> Layout {
    Layout::from_size_align(BLOCK, 16).expect("valid")
}

#[test]
fn an_empty_list_takes_nothing() {
    let list = RemoteList::new();
    assert_eq!(list.take_all().count(), 0);
}

#[test]
fn blocks_come_back_newest_first_with_their_classes() {
    let list = RemoteList::new();
    let blocks = Blocks::new(3);
    for (class, &ptr) in blocks.0.iter().enumerate() {
        // SAFETY: a live 32-byte block, 16-aligned, unused until taken.
        unsafe { list.push(ptr, class + 4) };
    }
    let taken: Vec<(*mut u8, usize)> = list.take_all().collect();
    let expected = vec![(blocks.0[2], 6), (blocks.0[1], 5), (blocks.0[0], 4)];
    assert_eq!(
        taken, expected,
        "take_all must return every block, newest first"
    );
}

#[test]
fn take_all_empties_the_list_and_later_pushes_wait_for_the_next_take() {
    let list = RemoteList::new();
    let blocks = Blocks::new(3);
    // SAFETY: live 32-byte blocks, unused until taken.
    unsafe {
        list.push(blocks.0[0], 1);
        list.push(blocks.0[1], 1);
    }
    assert_eq!(list.take_all().count(), 2);
    assert_eq!(
        list.take_all().count(),
        0,
        "a second take_all found blocks the first one already took"
    );
    // SAFETY: as above.
    unsafe { list.push(blocks.0[2], 2) };
    let taken: Vec<_> = list.take_all().collect();
    assert_eq!(taken, [(blocks.0[2], 2)]);
}

#[test]
fn the_caller_may_overwrite_each_block_as_soon_as_it_gets_it() {
    let list = RemoteList::new();
    let blocks = Blocks::new(3);
    for &ptr in &blocks.0 {
        // SAFETY: a live 32-byte block, unused until taken.
        unsafe {
            ptr.add(16).write_bytes(0xAB, BLOCK - 16);
            list.push(ptr, 3);
        }
    }
    let mut count = 0;
    for (ptr, class) in list.take_all() {
        assert_eq!(class, 3);
        // SAFETY: the block is ours now: 32 bytes, the last 16 untouched by
        // the list.
        unsafe {
            let tail = std::slice::from_raw_parts(ptr.add(16), BLOCK - 16);
            assert!(
                tail.iter().all(|&b| b == 0xAB),
                "the list changed bytes past its 16"
            );
            // The block is ours: reuse it at once, link and all.
            ptr.write_bytes(0, BLOCK);
        }
        count += 1;
    }
    assert_eq!(
        count, 3,
        "overwriting a block the iterator had handed out cut the list short: read each block's \
         link before handing the block out"
    );
}
