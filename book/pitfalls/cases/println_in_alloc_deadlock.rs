//! Logs every allocation with `println!`. Stdout creates its buffer lazily,
//! on first use, and that creation allocates: the allocation re-enters
//! `alloc`, whose `println!` waits for the stdout initialisation already in
//! progress on this very thread. It waits forever.
use std::alloc::{GlobalAlloc, Layout, System};

struct Chatty;

// SAFETY: every block comes from `System` and goes back to it unchanged.
unsafe impl GlobalAlloc for Chatty {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // The mistake: printing to stdout from inside the allocator.
        println!("alloc {} bytes", layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Chatty = Chatty;

fn main() {
    let numbers: Vec<u64> = (0..8).collect();
    println!("never printed: {numbers:?}");
}
