//! Exercise 7: a free-list allocator with splitting and coalescing.
//!
//! A fixed region cut into blocks, each with a 16-byte header; the free
//! blocks linked in address order. `alloc` takes the first free block that
//! fits (aligning the payload's address) and splits off what it does not
//! need; `free` puts the block back in address order and merges it with a
//! free neighbour on either side.

use std::alloc::Layout;
use std::ptr::NonNull;

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

    /// The bytes to leave free in front of the payload in the free block at
    /// `offset` of `size` bytes (0, or at least `MIN_BLOCK`), or `None` if a
    /// block of `need` bytes aligned to `align` does not fit.
    fn front_gap(&self, offset: usize, size: usize, need: usize, align: usize) -> Option<usize> {
        // Align the payload's ADDRESS: the base is only 16-aligned.
        let address = self
            .base
            .addr()
            .get()
            .checked_add(offset)?
            .checked_add(HEADER)?;
        let mut gap = align_up(address, align)?.checked_sub(address)?;
        if gap != 0 && gap < MIN_BLOCK {
            // Too small to be a free block: one more alignment step.
            gap = gap.checked_add(align)?;
        }
        (gap.checked_add(need)? <= size).then_some(gap)
    }

    /// First fit: the first free block in address order that holds the
    /// request, split into [gap: free][used][rest: free if big enough].
    pub fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let need = block_size_for(layout.size())?;
        let mut prev = None;
        let mut cursor = self.head;
        while let Some(offset) = cursor {
            // SAFETY: every offset on the list starts a free block.
            let (size, _) = unsafe { self.read_header(offset) };
            if let Some(gap) = self.front_gap(offset, size, need, layout.align()) {
                return self.take(prev, offset, size, gap, need);
            }
            prev = cursor;
            // SAFETY: as above.
            cursor = unsafe { self.next_free(offset) };
        }
        None
    }

    /// Cuts the free block at `offset` (after `prev` on the list).
    fn take(
        &mut self,
        prev: Option<usize>,
        offset: usize,
        size: usize,
        gap: usize,
        need: usize,
    ) -> Option<NonNull<u8>> {
        let used_at = offset.checked_add(gap)?;
        let mut used_size = size.checked_sub(gap)?;
        let rest = used_size.checked_sub(need)?;
        // SAFETY: `offset` is on the list.
        let mut after = unsafe { self.next_free(offset) };
        if rest >= MIN_BLOCK {
            used_size = need;
            let rest_at = used_at.checked_add(need)?;
            // SAFETY: the tail of the free block: ours to rewrite.
            unsafe { self.write_free(rest_at, rest, after) };
            after = Some(rest_at);
        }
        if gap == 0 {
            // SAFETY: `prev` is `None` or the free block before `offset`.
            unsafe { self.relink(prev, after) };
        } else {
            // SAFETY: the front of the free block stays free, shorter.
            unsafe { self.write_free(offset, gap, after) };
        }
        // SAFETY: the rest of the free block, now off the list.
        unsafe { self.write_used(used_at, used_size) };
        // SAFETY: the payload lies inside the region.
        Some(unsafe { self.base.add(used_at.checked_add(HEADER)?) })
    }

    /// Puts the block back on the list in address order, merged with a free
    /// neighbour on either side.
    ///
    /// # Safety
    /// `ptr` came from this list's `alloc`, is freed once and not used after.
    pub unsafe fn free(&mut self, ptr: NonNull<u8>, _layout: Layout) {
        let Some(offset) = self
            .offset_of(ptr.as_ptr())
            .and_then(|o| o.checked_sub(HEADER))
        else {
            return;
        };
        // SAFETY: a block from `alloc` has its header in front.
        let (mut size, free) = unsafe { self.read_header(offset) };
        if free {
            return;
        }
        let mut prev = None;
        let mut next = self.head;
        while let Some(n) = next.filter(|&n| n < offset) {
            prev = Some(n);
            // SAFETY: `n` is on the list.
            next = unsafe { self.next_free(n) };
        }
        if let Some(n) = next
            && offset.checked_add(size) == Some(n)
        {
            // SAFETY: `n` is on the list.
            let (next_size, _) = unsafe { self.read_header(n) };
            // SAFETY: as above.
            next = unsafe { self.next_free(n) };
            size = size.saturating_add(next_size);
        }
        // ANCHOR: mistake
        // The free block before this one is never looked at: only the next
        // one is merged.
        // ANCHOR_END: mistake
        // SAFETY: this block (and maybe the next free one).
        unsafe { self.write_free(offset, size, next) };
        // SAFETY: `prev` is `None` or a free block.
        unsafe { self.relink(prev, Some(offset)) };
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
