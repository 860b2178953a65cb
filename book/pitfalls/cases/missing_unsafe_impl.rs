//~ ERROR E0200 requires an `unsafe impl` declaration
// An allocator wrapper whose impl forgot the `unsafe` keyword.
use std::alloc::{GlobalAlloc, Layout, System};

struct Forwarding;

impl GlobalAlloc for Forwarding {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which
        // `System.alloc` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Forwarding = Forwarding;

fn main() {}
