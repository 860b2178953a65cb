//! A budget allocator done right: over the budget it returns null. What
//! happens next depends on the caller. `vec![..]` hands the null to
//! `handle_alloc_error`, which aborts; `try_reserve` turns it into an `Err`
//! the program can handle. Run with `try-reserve` for the second way.
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::TryReserveError;

/// No single allocation may exceed this.
const BUDGET: usize = 1024 * 1024;

/// Twice the budget: bound to be refused.
const TOO_MUCH: usize = 2 * BUDGET;

struct Budgeted;

// SAFETY: every block comes from `System` and goes back to it unchanged;
// a refusal is a null pointer, which `alloc`'s contract allows.
unsafe impl GlobalAlloc for Budgeted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > BUDGET {
            return std::ptr::null_mut();
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
static GLOBAL: Budgeted = Budgeted;

fn reserve_politely() -> Result<Vec<u8>, TryReserveError> {
    let mut buffer = Vec::new();
    buffer.try_reserve(TOO_MUCH)?;
    Ok(buffer)
}

fn main() {
    if std::env::args().any(|arg| arg == "try-reserve") {
        match reserve_politely() {
            Ok(buffer) => eprintln!("unexpected: got {} bytes", buffer.capacity()),
            Err(refusal) => eprintln!("recovered: {refusal}"),
        }
    } else {
        let buffer = vec![0_u8; TOO_MUCH];
        eprintln!("never printed: got {} bytes", buffer.len());
    }
}
