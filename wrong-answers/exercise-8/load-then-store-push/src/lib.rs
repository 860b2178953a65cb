//! Exercise 8, a wrong answer: see `mistake` in Cargo.toml.
//!
//! A lock-free stack with many pushers and one consumer whose only
//! operation is "take everything".

use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

/// What a block holds while it waits on the list, written into its own
/// first 16 bytes: the next block, and the block's size class.
#[repr(C)]
pub struct FreeBlock {
    pub next: *mut FreeBlock,
    pub class: usize,
}

/// Blocks freed by other threads for one owner: any thread pushes, the
/// owner takes them all at once.
pub struct RemoteList {
    head: AtomicPtr<FreeBlock>,
}

impl RemoteList {
    pub const fn new() -> Self {
        Self {
            head: AtomicPtr::new(null_mut()),
        }
    }

    // ANCHOR: push
    /// Adds a freed block of size class `class`.
    ///
    /// # Safety
    ///
    /// `block` is valid for writes of 16 bytes and aligned to 16, and nobody
    /// reads or writes it after this call until a `take_all` hands it out.
    pub unsafe fn push(&self, block: *mut u8, class: usize) {
        let node = block.cast::<FreeBlock>();
        // ANCHOR: mistake
        // A load, then a store: another push between the two is lost.
        let head = self.head.load(Ordering::Acquire);
        // SAFETY: the caller gives us the block: 16 writable, aligned bytes.
        unsafe { node.write(FreeBlock { next: head, class }) };
        self.head.store(node, Ordering::Release);
        // ANCHOR_END: mistake
    }
    // ANCHOR_END: push

    // ANCHOR: take_all
    /// Takes every block pushed so far (newest first).
    pub fn take_all(&self) -> Taken {
        // One swap: no push can slip in between reading the head and
        // emptying the list. `Acquire` synchronizes with the `Release` push
        // whose head it read and, through the release sequence (every later
        // push is a read-modify-write of the same head), with every earlier
        // push as well.
        Taken {
            next: self.head.swap(null_mut(), Ordering::Acquire),
        }
    }
    // ANCHOR_END: take_all
}

impl Default for RemoteList {
    fn default() -> Self {
        Self::new()
    }
}

// ANCHOR: taken
/// The blocks one `take_all` took, as (block, class).
pub struct Taken {
    next: *mut FreeBlock,
}

impl Iterator for Taken {
    type Item = (*mut u8, usize);

    fn next(&mut self) -> Option<(*mut u8, usize)> {
        let node = self.next;
        if node.is_null() {
            return None;
        }
        // SAFETY: the node was fully written before the `Release` push that
        // our `Acquire` swap synchronizes with, and the swap made it ours
        // alone. Its link is read here, BEFORE the block is handed to the
        // caller, who may overwrite it at once.
        let FreeBlock { next, class } = unsafe { node.read() };
        self.next = next;
        Some((node.cast::<u8>(), class))
    }
}
// ANCHOR_END: taken
