//! The control case: `eprintln!` of a plain integer. Stderr is unbuffered
//! and formatting an integer needs no heap, so nothing re-enters `alloc`.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Only the first few allocations are logged, so the output stays short.
const LOGGED_ALLOCATIONS: usize = 3;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

struct Quiet;

// SAFETY: every block comes from `System` and goes back to it unchanged.
unsafe impl GlobalAlloc for Quiet {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ALLOCATIONS.fetch_add(1, Ordering::Relaxed) < LOGGED_ALLOCATIONS {
            eprintln!("alloc {} bytes", layout.size());
        }
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Quiet = Quiet;

fn main() {
    let numbers: Vec<u64> = (0..8).collect();
    eprintln!("finished with {} numbers", numbers.len());
}
