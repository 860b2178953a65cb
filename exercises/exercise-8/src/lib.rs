//! Exercise 8: a remote-free list.
//!
//! In a thread-local cache, a block freed by another thread than its owner
//! cannot go on the owner's own lists: those live in the owner's
//! thread-local cells. It goes on the owner's remote list instead, which
//! every thread can push onto and only the owner empties. Write `push`,
//! `take_all` and the iterator `Taken` until `cargo workbook check 8` passes.

use std::ptr::null_mut;
use std::sync::atomic::AtomicPtr;

const NOT_SOLVED: &str = "not solved yet: implement `RemoteList::push`, `RemoteList::take_all` \
     and `Taken::next` — see the chapter \"Thread-local caches: a chunk per thread\", section \
     \"Frees from another thread\", or run `cargo workbook hint 8`";

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
    // TODO: the head may need other fields beside it, or none.
    head: AtomicPtr<FreeBlock>,
}

impl RemoteList {
    pub const fn new() -> Self {
        Self {
            head: AtomicPtr::new(null_mut()),
        }
    }

    /// Adds a freed block of size class `class`. Any thread may call it, at
    /// the same time as other pushes and as `take_all`. Must not allocate.
    ///
    /// # Safety
    ///
    /// `block` is valid for writes of 16 bytes and aligned to 16, and nobody
    /// reads or writes it after this call until a `take_all` hands it out.
    pub unsafe fn push(&self, _block: *mut u8, _class: usize) {
        // TODO: write the link and the class into the block, then make it
        // the new head so that no concurrent push is lost, and so that the
        // owner sees everything this thread wrote into the block.
        let _ = &self.head;
        panic!("{NOT_SOLVED}")
    }

    /// Takes every block pushed so far (newest first); the list is empty
    /// afterwards. Called by the owner only, while others may push.
    pub fn take_all(&self) -> Taken {
        panic!("{NOT_SOLVED}")
    }
}

impl Default for RemoteList {
    fn default() -> Self {
        Self::new()
    }
}

/// The blocks one `take_all` took, as (block, class). They belong to the
/// caller, who may overwrite each block as soon as it gets it.
pub struct Taken {
    // TODO: what the iterator needs to walk the list it took.
}

impl Iterator for Taken {
    type Item = (*mut u8, usize);

    fn next(&mut self) -> Option<(*mut u8, usize)> {
        panic!("{NOT_SOLVED}")
    }
}
