//! Exercise 7: a free-list allocator with splitting and coalescing.
//!
//! A fixed region cut into blocks, each with a 16-byte header; the free
//! blocks linked in address order. The headers, the list's helpers and the
//! walks over blocks are written. Write `alloc` (first fit, address
//! alignment, splitting) and `free` (coalescing with both neighbours) until
//! `cargo workbook check 7` passes.

use std::alloc::Layout;
use std::ptr::NonNull;

const NOT_SOLVED: &str = "not solved yet: implement `FreeList::alloc` and `FreeList::free` — see \
     the chapter \"A free-list allocator: reusing blocks of any size\", or run `cargo workbook \
     hint 7`";

/// Bytes in front of every payload: the block's size (lowest bit set while
/// the block is free) and, while it is free, the offset of the next free
/// block.
pub const HEADER: usize = 16;
/// Every block size and offset is a multiple of this.
pub const GRANULE: usize = 16;
/// The smallest block: a header and one granule of payload.
pub const MIN_BLOCK: usize = HEADER + GRANULE;

const FREE_BIT: usize = 1;
/// "No next free block" in a header's second word.
const END: usize = usize::MAX;

/// One block of the region, as [`FreeList::blocks`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Where the block's header starts, from the region start.
    pub offset: usize,
    /// The whole block, header included.
    pub size: usize,
    /// Whether the block is free.
    pub free: bool,
}

/// Rounds `value` up to a multiple of `align` (a power of two).
pub const fn align_up(value: usize, align: usize) -> Option<usize> {
    match value.checked_add(align - 1) {
        Some(bumped) => Some(bumped & !(align - 1)),
        None => None,
    }
}

/// The block size (header included) that holds `size` payload bytes.
pub fn block_size_for(size: usize) -> Option<usize> {
    align_up(size.max(1), GRANULE)?.checked_add(HEADER)
}

/// A first-fit free-list allocator over a region it does not own.
pub struct FreeList {
    base: NonNull<u8>,
    len: usize,
    /// Offset of the first free block.
    head: Option<usize>,
}

// The private helpers are ready for you to use; until you do, they are
// unused.
#[allow(dead_code)]
impl FreeList {
    /// A list whose whole region is one free block.
    ///
    /// # Safety
    /// `base..base + len` must be valid for reads and writes, aligned to 16,
    /// and used by nothing else while the list or its blocks are in use.
    pub unsafe fn new(base: *mut u8, len: usize) -> Self {
        let base = NonNull::new(base).unwrap_or(NonNull::dangling());
        let usable = len & !(GRANULE - 1);
        let mut list = Self {
            base,
            len: 0,
            head: None,
        };
        if usable >= MIN_BLOCK && base.addr().get().is_multiple_of(GRANULE) {
            list.len = usable;
            // SAFETY: offset 0 starts a block of `usable` bytes in the region.
            unsafe { list.write_free(0, usable, None) };
            list.head = Some(0);
        }
        list
    }

    /// The usable length of the region.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the region cannot hold a single block.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The largest request the empty region can serve.
    pub fn max_request(&self) -> usize {
        self.len.saturating_sub(HEADER)
    }

    /// The offset of `ptr` from the region start, if it points into it.
    pub fn offset_of(&self, ptr: *const u8) -> Option<usize> {
        let offset = ptr.addr().checked_sub(self.base.addr().get())?;
        (offset < self.len).then_some(offset)
    }

    /// A pointer to the `word`-th `usize` of the header at `offset`.
    ///
    /// # Safety
    /// `offset` starts a block.
    unsafe fn word(&self, offset: usize, word: usize) -> *mut usize {
        // SAFETY: the header lies inside the region, 16-aligned.
        unsafe { self.base.as_ptr().add(offset).cast::<usize>().add(word) }
    }

    /// The size of the block at `offset` and whether it is free.
    ///
    /// # Safety
    /// `offset` starts a block.
    unsafe fn read_header(&self, offset: usize) -> (usize, bool) {
        // SAFETY: every block starts with a header.
        let word = unsafe { self.word(offset, 0).read() };
        (word & !FREE_BIT, word & FREE_BIT != 0)
    }

    /// The free block after the free block at `offset`.
    ///
    /// # Safety
    /// `offset` starts a free block.
    unsafe fn next_free(&self, offset: usize) -> Option<usize> {
        // SAFETY: a free block's second word is its link.
        let next = unsafe { self.word(offset, 1).read() };
        (next != END).then_some(next)
    }

    /// Writes the header of a free block: its size and its link.
    ///
    /// # Safety
    /// `offset..offset + size` is inside the region and in no block in use.
    unsafe fn write_free(&mut self, offset: usize, size: usize, next: Option<usize>) {
        // SAFETY: the caller's promise covers the header.
        unsafe {
            self.word(offset, 0).write(size | FREE_BIT);
            self.word(offset, 1).write(next.unwrap_or(END));
        }
    }

    /// Writes the header of a block in use.
    ///
    /// # Safety
    /// As for `write_free`.
    unsafe fn write_used(&mut self, offset: usize, size: usize) {
        // SAFETY: the caller's promise covers the header.
        unsafe {
            self.word(offset, 0).write(size);
            self.word(offset, 1).write(0);
        }
    }

    /// Points the link that leads to a block (the head when `prev` is `None`,
    /// else the link of the free block at `prev`) at `to`.
    ///
    /// # Safety
    /// `prev`, if given, starts a free block.
    unsafe fn relink(&mut self, prev: Option<usize>, to: Option<usize>) {
        match prev {
            None => self.head = to,
            // SAFETY: `p` is a free block's header.
            Some(p) => unsafe { self.word(p, 1).write(to.unwrap_or(END)) },
        }
    }

    /// First fit: the first free block, in address order, whose payload
    /// ADDRESS can be aligned to `layout.align()` with room for the request.
    /// Split off what the request does not need, as a free block, when it is
    /// at least `MIN_BLOCK`; bytes skipped in front for alignment stay free
    /// (widen the gap when it is smaller than `MIN_BLOCK`). `None` when no
    /// block fits. Never panics: checked arithmetic only.
    pub fn alloc(&mut self, _layout: Layout) -> Option<NonNull<u8>> {
        panic!("{NOT_SOLVED}")
    }

    /// Puts the block back on the list in address order and merges it with a
    /// free neighbour on EITHER side, so freeing everything leaves one block.
    ///
    /// # Safety
    /// `ptr` came from this list's `alloc`, is freed once and not used after.
    pub unsafe fn free(&mut self, _ptr: NonNull<u8>, _layout: Layout) {
        panic!("{NOT_SOLVED}")
    }

    /// Every block in address order.
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = Vec::new();
        let mut offset = 0usize;
        while offset.saturating_add(HEADER) <= self.len {
            // SAFETY: the blocks tile the region, so `offset` starts one.
            let (size, free) = unsafe { self.read_header(offset) };
            blocks.push(Block { offset, size, free });
            if size < HEADER {
                break;
            }
            offset = offset.saturating_add(size);
        }
        blocks
    }

    /// The offsets on the free list, in list order.
    pub fn free_list(&self) -> Vec<usize> {
        let mut offsets = Vec::new();
        let mut cursor = self.head;
        while let Some(offset) = cursor {
            if offsets.len() > self.len / HEADER {
                break; // A cycle.
            }
            offsets.push(offset);
            // SAFETY: every offset on the list starts a free block.
            cursor = unsafe { self.next_free(offset) };
        }
        offsets
    }
}
