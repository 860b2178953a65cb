//! The chapter's program: splitting and coalescing step by step on a small
//! region, a realloc in place, and the fallback to `System`.

use std::alloc::{GlobalAlloc, Layout};
use std::ptr::NonNull;

use free_list::{Fit, FreeList, FreeListAlloc, HEADER};

/// The demo region: 256 bytes, aligned to 16.
#[repr(C, align(16))]
struct Region([u8; 256]);

/// The blocks the program holds, by name, to label the map.
struct Names(Vec<(&'static str, NonNull<u8>)>);

impl Names {
    fn label(&self, heap: &FreeList, payload_offset: usize) -> &'static str {
        self.0
            .iter()
            .find(|(_, ptr)| heap.offset_of(ptr.as_ptr()) == Some(payload_offset))
            .map_or("?", |(name, _)| name)
    }
}

// ANCHOR: show
/// Prints one line per step: the step, then every block in address order as
/// `offset..end` with its owner's name or `free`.
fn show(step: &str, heap: &FreeList, names: &Names) {
    let mut map = String::new();
    for block in heap.blocks() {
        let end = block.offset + block.size;
        let owner = if block.free {
            "free"
        } else {
            names.label(heap, block.payload_offset())
        };
        map.push_str(&format!(" [{}..{end} {owner}]", block.offset));
    }
    println!("{step:<22}{map}");
    if let Err(broken) = heap.check() {
        eprintln!("invariant broken after {step}: {broken}");
        std::process::exit(1);
    }
}
// ANCHOR_END: show

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("a valid layout")
}

/// Allocates `size` bytes and remembers the block as `name`.
fn take(heap: &mut FreeList, names: &mut Names, name: &'static str, size: usize) -> NonNull<u8> {
    let block = heap.alloc(layout(size)).expect("the region has room");
    names.0.push((name, block));
    block
}

fn main() {
    let mut region = Region([0; 256]);
    // SAFETY: the region is 16-aligned, 256 bytes, lives until the end of
    // `main` and is used by nothing but the list.
    let mut heap = unsafe { FreeList::new(region.0.as_mut_ptr(), 256, Fit::First) };
    let mut names = Names(Vec::new());

    println!(
        "Blocks as offset..end in a 256-byte region; each starts with a {HEADER}-byte header."
    );
    // ANCHOR: steps
    show("start", &heap, &names);
    let a = take(&mut heap, &mut names, "a", 20);
    let b = take(&mut heap, &mut names, "b", 40);
    let c = take(&mut heap, &mut names, "c", 16);
    show("a=20, b=40, c=16 bytes", &heap, &names);
    // SAFETY: each block came from `heap.alloc` and is not used after.
    unsafe { heap.free(a, layout(20)) };
    show("free(a)", &heap, &names);
    // SAFETY: as above.
    unsafe { heap.free(c, layout(16)) };
    show("free(c): merges right", &heap, &names);
    // SAFETY: as above.
    unsafe { heap.free(b, layout(40)) };
    show("free(b): merges both", &heap, &names);
    // ANCHOR_END: steps

    // ANCHOR: realloc_demo
    names.0.clear();
    let d = take(&mut heap, &mut names, "d", 24);
    let e = take(&mut heap, &mut names, "e", 24);
    let f = take(&mut heap, &mut names, "f", 24);
    show("d, e, f = 24 bytes", &heap, &names);
    // SAFETY: `f` is in use; it is not used again.
    unsafe { heap.free(f, layout(24)) };
    show("free(f)", &heap, &names);
    // `e` can grow into the free space behind it without moving.
    // SAFETY: `e` is a block in use from `heap`.
    let grown = unsafe { heap.grow_in_place(e, layout(24), 100) };
    show("grow e to 100", &heap, &names);
    println!("grown in place: {grown}");
    // SAFETY: `e` now holds 100 bytes; bytes past 40 are not used again.
    unsafe { heap.shrink_in_place(e, layout(100), 40) };
    show("shrink e to 40", &heap, &names);
    // ANCHOR_END: realloc_demo
    // SAFETY: `d` and `e` are in use and not used after.
    unsafe {
        heap.free(d, layout(24));
        heap.free(e, layout(40));
    }
    show("free(d), free(e)", &heap, &names);
    println!();

    fallback();
}

// ANCHOR: fallback_demo
/// The global allocator type on a small region: what does not fit goes to
/// `System`, and `dealloc` tells the two kinds of block apart by address.
fn fallback() {
    let heap = Box::new(FreeListAlloc::<512>::new(Fit::First));
    let big = layout(400);
    // SAFETY: the size is not zero.
    let (first, second) = unsafe { (heap.alloc(big), heap.alloc(big)) };
    for (name, ptr) in [("first", first), ("second", second)] {
        let place = if heap.in_region(ptr) {
            "the region"
        } else {
            "System"
        };
        println!("{name} alloc(400): from {place}");
    }
    println!("requests sent to System: {}", heap.fallback_count());
    // SAFETY: both came from `heap.alloc(big)`; each is freed once, and
    // `dealloc` sends each back where it came from.
    unsafe {
        heap.dealloc(first, big);
        heap.dealloc(second, big);
    }
    let stats = heap.stats();
    println!(
        "after both frees: {} free block of {} bytes, {} used",
        stats.free_blocks, stats.free_bytes, stats.used_blocks
    );
}
// ANCHOR_END: fallback_demo
