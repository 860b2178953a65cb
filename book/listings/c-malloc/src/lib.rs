//! Chapter: memory that C code allocates with `malloc` never reaches Rust's
//! global allocator.
//!
//! `#[global_allocator]` replaces what `Box`, `Vec`, `String` and the rest
//! of Rust's allocation API call. C code in the same process, the C library
//! itself included, calls `malloc` and `free` directly, and those symbols
//! belong to the C library (or to whatever replaced them at link or load
//! time), not to Rust. This crate makes one such allocation, through
//! [`libc::strdup`], and reads what the counting shim and the C library each
//! saw.
//!
//! ```
//! let text = c"made by C";
//! let copy = c_malloc::CCopy::of(text).expect("strdup returned null");
//! assert_eq!(copy.as_c_str(), text);
//! ```

use std::ffi::{CStr, c_char};
use std::ptr::NonNull;

// ANCHOR: ccopy
/// A copy of a C string made by the C library's `strdup`, which allocates it
/// with `malloc`. Dropping it gives the block back with `free`.
///
/// The block never passed through Rust's global allocator, so it must never
/// be handed to it either: `free` is the only correct way to release it.
#[derive(Debug)]
pub struct CCopy {
    ptr: NonNull<c_char>,
}

impl CCopy {
    /// Copies `text` with `strdup`. `None` when `malloc` had no memory.
    pub fn of(text: &CStr) -> Option<Self> {
        // SAFETY: `text` is a valid NUL-terminated string that lives for the
        // whole call; `strdup` only reads it.
        let ptr = unsafe { libc::strdup(text.as_ptr()) };
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// The copy, as a borrowed C string.
    pub fn as_c_str(&self) -> &CStr {
        // SAFETY: `ptr` is the NUL-terminated copy `strdup` made; it stays
        // allocated and unchanged until `self` is dropped.
        unsafe { CStr::from_ptr(self.ptr.as_ptr()) }
    }
}

impl Drop for CCopy {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `strdup`, i.e. from the C library's
        // `malloc`, and is freed exactly once, here.
        unsafe { libc::free(self.ptr.as_ptr().cast()) };
    }
}
// ANCHOR_END: ccopy

// ANCHOR: seen
/// What the two allocators of the process have counted so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Live bytes according to the counting shim (Rust's global allocator).
    pub shim_bytes: usize,
    /// Successful `alloc` calls the counting shim has served.
    pub shim_calls: usize,
    /// Bytes the C library's `malloc` has in use, from glibc's `mallinfo2`;
    /// `None` where that function does not exist.
    pub malloc_in_use: Option<usize>,
}

impl Seen {
    /// Reads both. Allocates nothing, so reading does not disturb either.
    pub fn now() -> Self {
        Self {
            shim_bytes: counting::live_bytes(),
            shim_calls: counting::alloc_calls(),
            malloc_in_use: malloc_in_use(),
        }
    }
}
// ANCHOR_END: seen

/// glibc's count of bytes in chunks its `malloc` has handed out (the
/// `uordblks` field of `mallinfo2`, glibc 2.33 or newer).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn malloc_in_use() -> Option<usize> {
    // SAFETY: `mallinfo2` takes no arguments and returns a plain struct; it
    // only reads the allocator's own statistics.
    Some(unsafe { libc::mallinfo2() }.uordblks)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn malloc_in_use() -> Option<usize> {
    None
}

/// Signed difference `after - before`.
pub fn change(before: usize, after: usize) -> i128 {
    after as i128 - before as i128
}
