//! Builds a log line as a `String` inside `alloc`, from the very first
//! allocation. That one happens while the runtime is still starting up,
//! before `main`: the recursion overflows the stack before Rust's
//! stack-overflow reporting is ready, and the process dies with a bare
//! SIGSEGV and no message at all.
use std::alloc::{GlobalAlloc, Layout, System};

struct Logging;

// SAFETY: every block comes from `System` and goes back to it unchanged.
unsafe impl GlobalAlloc for Logging {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // The mistake: an allocation inside the allocator.
        let line = format!("alloc {} bytes", layout.size());
        eprintln!("{line}");
        // SAFETY: the caller upholds `alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Logging = Logging;

fn main() {
    let numbers: Vec<u64> = (0..8).collect();
    eprintln!("never printed: {numbers:?}");
}
