//! Builds a log line as a `String` inside `alloc`. The `String` itself is an
//! allocation, so `alloc` calls `alloc` calls `alloc` ... until the stack
//! runs out.
//!
//! When the recursion starts decides what you see. Normally `main` switches
//! logging on, and Rust reports the overflow before aborting. Built with
//! `LOG_FROM_STARTUP=1` in the environment, logging is on from the first
//! allocation, which the runtime makes before `main` and before it can
//! report an overflow: the process dies of a bare SIGSEGV, silently.
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

static LOGGING: AtomicBool = AtomicBool::new(option_env!("LOG_FROM_STARTUP").is_some());

struct Logging;

// SAFETY: every block comes from `System` and goes back to it unchanged.
unsafe impl GlobalAlloc for Logging {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if LOGGING.load(Ordering::Relaxed) {
            // The mistake: an allocation inside the allocator.
            let line = format!("alloc {} bytes", layout.size());
            eprintln!("{line}");
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
static GLOBAL: Logging = Logging;

fn main() {
    LOGGING.store(true, Ordering::Relaxed);
    let numbers: Vec<u64> = (0..8).collect();
    eprintln!("never printed: {numbers:?}");
}
