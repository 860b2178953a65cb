//! Refuses large allocations by panicking instead of returning null.
//! `GlobalAlloc`'s documentation calls a panic that unwinds out of an
//! allocator undefined behaviour, so whatever this prints is luck, not a
//! promise. With `RUST_BACKTRACE=1` the luck runs out: printing the backtrace
//! allocates large buffers while the panic is in progress, the allocator
//! panics again, and the process aborts.
use std::alloc::{GlobalAlloc, Layout, System};

/// Anything above this is "too large" for this allocator.
const LIMIT: usize = 64 * 1024;

struct Strict;

// SAFETY: every block comes from `System` and goes back to it unchanged.
unsafe impl GlobalAlloc for Strict {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // The mistake: a panic where `alloc` should return null.
        assert!(layout.size() <= LIMIT, "refusing {} bytes", layout.size());
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Strict = Strict;

fn main() {
    let buffer = vec![0_u8; 1024 * 1024];
    eprintln!("never printed: got {} bytes", buffer.len());
}
