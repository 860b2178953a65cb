//! Chapter: a free-list allocator that reuses blocks of any size.
//!
//! [`FreeList`] is the algorithm alone: a fixed region cut into blocks, each
//! with a 16-byte header, the free ones linked in address order. It takes
//! `&mut self` and knows nothing about threads. [`SpinLock`] makes any such
//! algorithm shareable without allocating, and [`FreeListAlloc`] puts the two
//! together with a static region and a [`System`] fallback as a
//! [`GlobalAlloc`].
//!
//! ```
//! use std::alloc::Layout;
//! use free_list::{FreeList, Fit};
//!
//! #[repr(C, align(16))]
//! struct Region([u8; 1024]);
//! let mut region = Region([0; 1024]);
//! // SAFETY: the region is 16-aligned, 1024 bytes, and outlives the list
//! // (nothing else touches it while the list is in use).
//! let mut heap = unsafe { FreeList::new(region.0.as_mut_ptr(), 1024, Fit::First) };
//! let layout = Layout::from_size_align(100, 64).unwrap();
//! let block = heap.alloc(layout).unwrap();
//! assert_eq!(block.addr().get() % 64, 0);
//! // SAFETY: `block` came from `heap.alloc(layout)` and is not used again.
//! unsafe { heap.free(block, layout) };
//! assert_eq!(heap.stats().free_blocks, 1, "freeing coalesced everything back");
//! ```
//!
//! The library has no threads and no processes, so it also builds for
//! `wasm32-unknown-unknown`, where the playground drives the same type.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

// ANCHOR: header
/// Bytes in front of every block's payload: the block's size (with the
/// "free" flag in its lowest bit) and, while the block is free, the offset
/// of the next free block.
pub const HEADER: usize = 16;
/// Every block size and offset is a multiple of this, so every header is
/// aligned for `usize` and every payload is aligned to at least 16.
pub const GRANULE: usize = 16;
/// The smallest block: a header and one granule of payload. A remainder
/// smaller than this is not split off; it stays with the block it belongs to.
pub const MIN_BLOCK: usize = HEADER + GRANULE;

/// The lowest bit of the size word: set while the block is free. Sizes are
/// multiples of 16, so the bit is otherwise always zero.
const FREE_BIT: usize = 1;
/// "No next free block" in a header's second word.
const END: usize = usize::MAX;
// ANCHOR_END: header

/// Which free block serves a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The first free block, in address order, that fits.
    First,
    /// The smallest free block that fits (the first of them on a tie).
    Best,
}

/// One block of the region, as [`FreeList::blocks`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Where the block's header starts, in bytes from the region start.
    pub offset: usize,
    /// The whole block, header included.
    pub size: usize,
    /// Whether the block is on the free list.
    pub free: bool,
}

impl Block {
    /// Where the block's payload starts, in bytes from the region start.
    pub fn payload_offset(&self) -> usize {
        self.offset.saturating_add(HEADER)
    }
}

/// A summary of the region, from one walk over its blocks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes in free blocks, headers included.
    pub free_bytes: usize,
    /// The largest free block, header included (the largest request it can
    /// serve is [`HEADER`] bytes less).
    pub largest_free: usize,
    /// Bytes in used blocks, headers included.
    pub used_bytes: usize,
    /// Free blocks.
    pub free_blocks: usize,
    /// Used blocks.
    pub used_blocks: usize,
}

impl Stats {
    /// External fragmentation: `1 - largest_free / free_bytes`. Zero when all
    /// free memory is one block (or there is none); close to one when the
    /// free memory is scattered in small pieces.
    pub fn external_fragmentation(&self) -> f64 {
        if self.free_bytes == 0 {
            return 0.0;
        }
        1.0 - self.largest_free as f64 / self.free_bytes as f64
    }
}

/// Classic mistakes, kept so the tests can show they catch each one.
/// A real allocator always uses [`Mistake::None`].
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mistake {
    /// The correct algorithm.
    None,
    /// `free` merges with the following free block only.
    CoalesceNextOnly,
    /// Alignment applied to the offset, as if the region started at 0.
    AlignOffset,
    /// Any remainder is split off, even one too small to serve a request.
    SplitAnyRemainder,
}

/// Rounds `value` up to a multiple of `align` (a power of two), or `None` on
/// overflow.
const fn align_up(value: usize, align: usize) -> Option<usize> {
    match value.checked_add(align - 1) {
        Some(bumped) => Some(bumped & !(align - 1)),
        None => None,
    }
}

/// The block size (header included) that holds `size` payload bytes.
fn block_size_for(size: usize) -> Option<usize> {
    align_up(size.max(1), GRANULE)?.checked_add(HEADER)
}

// ANCHOR: free_list
/// A general-purpose allocator over a region it does not own.
///
/// The region is cut into blocks that follow each other with no gaps, each
/// starting with a [`HEADER`]. The free blocks are also linked, in address
/// order, through the second word of their headers. Offsets, not pointers,
/// are stored: every pointer is made from the region's base pointer, whose
/// provenance covers the whole region.
///
/// Invariants, kept by every method:
/// - the blocks tile `0..len` exactly, each at least [`MIN_BLOCK`] bytes;
/// - every free block is on the list once, the list is in address order;
/// - no two free blocks are neighbours (freeing merges them).
pub struct FreeList {
    base: NonNull<u8>,
    /// Usable length: the region's length rounded down to [`GRANULE`].
    len: usize,
    /// Offset of the first free block.
    head: Option<usize>,
    fit: Fit,
    mistake: Mistake,
}
// ANCHOR_END: free_list

// SAFETY: a `FreeList` is the only user of its region (the contract of
// `new`), so moving it to another thread moves that exclusive access with it.
unsafe impl Send for FreeList {}

impl FreeList {
    /// A list whose whole region is one free block.
    ///
    /// # Safety
    /// `base..base + len` must be valid for reads and writes, aligned to at
    /// least 16, and used by nothing else for as long as the `FreeList`
    /// exists (and, for the blocks it hands out, as long as they are in use).
    /// `base` must carry provenance over all `len` bytes.
    pub unsafe fn new(base: *mut u8, len: usize, fit: Fit) -> Self {
        // SAFETY: the caller's contract, passed on.
        unsafe { Self::with_mistake(base, len, fit, Mistake::None) }
    }

    /// [`FreeList::new`] with one classic mistake built in, for the tests.
    ///
    /// # Safety
    /// As for [`FreeList::new`].
    #[doc(hidden)]
    pub unsafe fn with_mistake(base: *mut u8, len: usize, fit: Fit, mistake: Mistake) -> Self {
        let base = NonNull::new(base).unwrap_or(NonNull::dangling());
        let usable = len & !(GRANULE - 1);
        let mut list = Self {
            base,
            len: 0,
            head: None,
            fit,
            mistake,
        };
        if usable >= MIN_BLOCK && base.addr().get().is_multiple_of(GRANULE) {
            list.len = usable;
            // SAFETY: offset 0 starts a block of `usable` bytes inside the
            // region the caller gave us.
            unsafe { list.write_free(0, usable, None) };
            list.head = Some(0);
        }
        list
    }

    /// Which fit this list uses.
    pub fn fit(&self) -> Fit {
        self.fit
    }

    /// The usable length of the region (a multiple of [`GRANULE`]).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the region is too small to hold a single block.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The address of the region's first byte.
    pub fn base_addr(&self) -> usize {
        self.base.addr().get()
    }

    /// The offset of `ptr` from the region start, if it points into it.
    pub fn offset_of(&self, ptr: *const u8) -> Option<usize> {
        let offset = ptr.addr().checked_sub(self.base_addr())?;
        (offset < self.len).then_some(offset)
    }

    /// The largest request (in bytes, alignment 16 or less) the empty region
    /// can serve: everything but one header.
    pub fn max_request(&self) -> usize {
        self.len.saturating_sub(HEADER)
    }

    // ANCHOR: headers
    /// A pointer to the `word`-th `usize` of the header at `offset`.
    ///
    /// # Safety
    /// `offset` is the start of a block (so `offset + HEADER <= len`).
    unsafe fn word(&self, offset: usize, word: usize) -> *mut usize {
        // SAFETY: the header lies inside the region; `base` is 16-aligned and
        // `offset` a multiple of 16, so the words are aligned.
        unsafe { self.base.as_ptr().add(offset).cast::<usize>().add(word) }
    }

    /// The size of the block at `offset` and whether it is free.
    ///
    /// # Safety
    /// `offset` is the start of a block.
    unsafe fn read_header(&self, offset: usize) -> (usize, bool) {
        // SAFETY: the caller's promise; every block start holds a header.
        let word = unsafe { self.word(offset, 0).read() };
        (word & !FREE_BIT, word & FREE_BIT != 0)
    }

    /// The next free block after the free block at `offset`.
    ///
    /// # Safety
    /// `offset` is the start of a free block.
    unsafe fn next_free(&self, offset: usize) -> Option<usize> {
        // SAFETY: a free block's second header word holds the link.
        let next = unsafe { self.word(offset, 1).read() };
        (next != END).then_some(next)
    }

    /// Writes the header of a free block and its link.
    ///
    /// # Safety
    /// `offset..offset + size` lies inside the region and belongs to no
    /// block in use.
    unsafe fn write_free(&mut self, offset: usize, size: usize, next: Option<usize>) {
        // SAFETY: the caller's promise covers the header's 16 bytes.
        unsafe {
            self.word(offset, 0).write(size | FREE_BIT);
            self.word(offset, 1).write(next.unwrap_or(END));
        }
    }

    /// Writes the header of a block in use.
    ///
    /// # Safety
    /// As for [`write_free`](Self::write_free).
    unsafe fn write_used(&mut self, offset: usize, size: usize) {
        // SAFETY: the caller's promise covers the header's 16 bytes.
        unsafe {
            self.word(offset, 0).write(size);
            self.word(offset, 1).write(0);
        }
    }

    /// Points the link that leads to a block (the list head when `prev` is
    /// `None`, else the link of the free block at `prev`) at `to`.
    ///
    /// # Safety
    /// `prev`, if given, is the start of a free block.
    unsafe fn relink(&mut self, prev: Option<usize>, to: Option<usize>) {
        match prev {
            None => self.head = to,
            // SAFETY: the caller's promise: `p` is a free block's header.
            Some(p) => unsafe { self.word(p, 1).write(to.unwrap_or(END)) },
        }
    }
    // ANCHOR_END: headers

    // ANCHOR: fits
    /// Where a request of `need` block bytes at `align` would sit in the free
    /// block at `offset` of `size` bytes: the bytes to leave free in front
    /// (0, or at least [`MIN_BLOCK`] so they form a block of their own), or
    /// `None` if it does not fit.
    fn front_gap(&self, offset: usize, size: usize, need: usize, align: usize) -> Option<usize> {
        let payload = offset.checked_add(HEADER)?;
        let mut gap = if self.mistake == Mistake::AlignOffset {
            // WRONG: rounds the offset, as if the region started at address 0.
            align_up(payload, align)?.checked_sub(payload)?
        } else {
            // The payload's ADDRESS must be a multiple of `align`; the base
            // is only promised to be 16-aligned.
            let address = self.base_addr().checked_add(payload)?;
            align_up(address, align)?.checked_sub(address)?
        };
        if gap != 0 && gap < MIN_BLOCK {
            // Too small to be a free block of its own: skip one more
            // alignment step (a gap only appears for alignments of 32 and
            // more, so one step makes it at least 32).
            gap = gap.checked_add(align)?;
        }
        (gap.checked_add(need)? <= size).then_some(gap)
    }

    /// Finds a free block for the request: returns (the free block before it
    /// on the list, its offset, its size, the front gap).
    fn find(&self, need: usize, align: usize) -> Option<(Option<usize>, usize, usize, usize)> {
        let mut best: Option<(Option<usize>, usize, usize, usize)> = None;
        let mut prev = None;
        let mut cursor = self.head;
        while let Some(offset) = cursor {
            // SAFETY: every offset on the list starts a free block.
            let (size, _) = unsafe { self.read_header(offset) };
            if let Some(gap) = self.front_gap(offset, size, need, align) {
                match self.fit {
                    Fit::First => return Some((prev, offset, size, gap)),
                    Fit::Best => {
                        if best.is_none_or(|(_, _, best_size, _)| size < best_size) {
                            best = Some((prev, offset, size, gap));
                        }
                    }
                }
            }
            prev = cursor;
            // SAFETY: as above.
            cursor = unsafe { self.next_free(offset) };
        }
        best
    }
    // ANCHOR_END: fits

    /// Whether a remainder of `rest` bytes becomes a free block of its own.
    fn worth_splitting(&self, rest: usize) -> bool {
        if self.mistake == Mistake::SplitAnyRemainder {
            // WRONG: a 16-byte remainder is a header with no room for any
            // payload, a free block no request can ever use.
            rest >= HEADER
        } else {
            rest >= MIN_BLOCK
        }
    }

    // ANCHOR: alloc
    /// Allocates a block for `layout`, or returns `None` if no free block
    /// fits. A zero-size request gets a block of one granule. Never panics.
    pub fn alloc(&mut self, layout: Layout) -> Option<NonNull<u8>> {
        let need = block_size_for(layout.size())?;
        let (prev, offset, size, gap) = self.find(need, layout.align())?;
        // The block is cut in up to three: [gap: stays free][need: used][rest].
        let used_at = offset.checked_add(gap)?;
        let mut used_size = size.checked_sub(gap)?;
        let rest = used_size.checked_sub(need)?;
        // The block after the used part: a new free block, or the old next.
        // SAFETY: `offset` is on the list, so it starts a free block.
        let mut after = unsafe { self.next_free(offset) };
        if self.worth_splitting(rest) {
            used_size = need;
            let rest_at = used_at.checked_add(need)?;
            // SAFETY: `rest_at..rest_at + rest` is the tail of the free block
            // being cut: inside the region, used by nobody.
            unsafe { self.write_free(rest_at, rest, after) };
            after = Some(rest_at);
        }
        if gap == 0 {
            // The used part starts the block: whatever follows it takes the
            // block's place on the list.
            // SAFETY: `prev` is `None` or the free block before `offset`.
            unsafe { self.relink(prev, after) };
        } else {
            // The gap stays on the list where the block was, shorter.
            // SAFETY: `offset..offset + gap` is the front of the free block.
            unsafe { self.write_free(offset, gap, after) };
        }
        // SAFETY: `used_at..used_at + used_size` is the rest of the free
        // block, now taken off the list.
        unsafe { self.write_used(used_at, used_size) };
        let payload = used_at.checked_add(HEADER)?;
        // SAFETY: the payload lies inside the used block, inside the region;
        // `base` is not null and the offset in bounds, so neither is this.
        Some(unsafe { self.base.add(payload) })
    }
    // ANCHOR_END: alloc

    /// The offset of the header of the block whose payload is `ptr`.
    fn header_of(&self, ptr: NonNull<u8>) -> Option<usize> {
        self.offset_of(ptr.as_ptr())?.checked_sub(HEADER)
    }

    // ANCHOR: free
    /// Gives a block back: it joins the list in address order and merges with
    /// a free neighbour on either side.
    ///
    /// # Safety
    /// `ptr` came from this list's [`alloc`](Self::alloc) (or a successful
    /// grow or shrink in place of such a block), is not used after this call,
    /// and is freed once.
    pub unsafe fn free(&mut self, ptr: NonNull<u8>, _layout: Layout) {
        let Some(offset) = self.header_of(ptr) else {
            return;
        };
        // SAFETY: a pointer from `alloc` has its block's header in front.
        let (mut size, free) = unsafe { self.read_header(offset) };
        if free {
            return; // A second free of the same block: refuse it.
        }
        // Find the free blocks on either side, in address order.
        let mut prev = None;
        let mut next = self.head;
        while let Some(n) = next.filter(|&n| n < offset) {
            prev = Some(n);
            // SAFETY: `n` is on the list.
            next = unsafe { self.next_free(n) };
        }
        // Merge with the following block if it is the next free one.
        if let Some(n) = next
            && offset.checked_add(size) == Some(n)
        {
            // SAFETY: `n` is on the list.
            let (next_size, _) = unsafe { self.read_header(n) };
            // SAFETY: as above.
            next = unsafe { self.next_free(n) };
            size = size.saturating_add(next_size);
        }
        // Merge with the preceding block if it is the previous free one.
        if self.mistake != Mistake::CoalesceNextOnly
            && let Some(p) = prev
        {
            // SAFETY: `p` is on the list.
            let (prev_size, _) = unsafe { self.read_header(p) };
            if p.checked_add(prev_size) == Some(offset) {
                size = size.saturating_add(prev_size);
                // SAFETY: `p..p + size` is the previous free block, this
                // block and maybe the next one: ours to rewrite.
                unsafe { self.write_free(p, size, next) };
                return;
            }
        }
        // SAFETY: `offset..offset + size` is this block (and maybe the next
        // free one), given back by the caller.
        unsafe { self.write_free(offset, size, next) };
        // SAFETY: `prev` is `None` or a free block.
        unsafe { self.relink(prev, Some(offset)) };
    }
    // ANCHOR_END: free

    // ANCHOR: realloc
    /// Grows the block at `ptr` to hold `new_size` bytes without moving it,
    /// by taking bytes from the free block right after it. Returns `false`
    /// (and changes nothing) if that block is missing or too small.
    ///
    /// # Safety
    /// `ptr` is a block in use from this list.
    pub unsafe fn grow_in_place(
        &mut self,
        ptr: NonNull<u8>,
        _layout: Layout,
        new_size: usize,
    ) -> bool {
        let (Some(offset), Some(need)) = (self.header_of(ptr), block_size_for(new_size)) else {
            return false;
        };
        // SAFETY: `ptr` is in use, so its header is in front of it.
        let (size, _) = unsafe { self.read_header(offset) };
        if need <= size {
            return true;
        }
        let Some(next) = offset.checked_add(size) else {
            return false;
        };
        // Find `next` on the list (the list is in address order).
        let mut prev = None;
        let mut cursor = self.head;
        while let Some(c) = cursor.filter(|&c| c < next) {
            prev = Some(c);
            // SAFETY: `c` is on the list.
            cursor = unsafe { self.next_free(c) };
        }
        if cursor != Some(next) {
            return false; // The following block is in use (or the end).
        }
        // SAFETY: `next` is on the list.
        let (next_size, _) = unsafe { self.read_header(next) };
        // SAFETY: as above.
        let mut after = unsafe { self.next_free(next) };
        let Some(total) = size.checked_add(next_size).filter(|&t| t >= need) else {
            return false;
        };
        let mut new_block = total;
        let rest = total.saturating_sub(need);
        if self.worth_splitting(rest) {
            new_block = need;
            let rest_at = offset.saturating_add(need);
            // SAFETY: the tail of the free block that followed: ours.
            unsafe { self.write_free(rest_at, rest, after) };
            after = Some(rest_at);
        }
        // SAFETY: `prev` is `None` or a free block.
        unsafe { self.relink(prev, after) };
        // SAFETY: our block plus the front of the free block that followed.
        unsafe { self.write_used(offset, new_block) };
        true
    }

    /// Shrinks the block at `ptr` to `new_size` bytes without moving it. The
    /// tail is freed (and merged with a free block after it) when it is big
    /// enough to be a block; otherwise the block keeps it.
    ///
    /// # Safety
    /// `ptr` is a block in use from this list; bytes past `new_size` are not
    /// used after the call.
    pub unsafe fn shrink_in_place(&mut self, ptr: NonNull<u8>, _layout: Layout, new_size: usize) {
        let (Some(offset), Some(need)) = (self.header_of(ptr), block_size_for(new_size)) else {
            return;
        };
        // SAFETY: `ptr` is in use, so its header is in front of it.
        let (size, _) = unsafe { self.read_header(offset) };
        let rest = size.saturating_sub(need);
        if !self.worth_splitting(rest) {
            return;
        }
        let tail = offset.saturating_add(need);
        // SAFETY: the block keeps its first `need` bytes ...
        unsafe { self.write_used(offset, need) };
        // ... and the rest becomes a used block of its own, freed at once
        // (which merges it with a free block after it).
        // SAFETY: `tail..tail + rest` is the end of our block.
        unsafe { self.write_used(tail, rest) };
        // SAFETY: `tail + HEADER` is the payload of the block just written.
        unsafe {
            let payload = self.base.add(tail.saturating_add(HEADER));
            self.free(payload, Layout::new::<u8>());
        }
    }
    // ANCHOR_END: realloc

    /// Every block in address order.
    pub fn blocks(&self) -> impl Iterator<Item = Block> + '_ {
        let mut offset = 0usize;
        std::iter::from_fn(move || {
            if offset.checked_add(HEADER)? > self.len {
                return None;
            }
            // SAFETY: the blocks tile the region, so `offset` starts one.
            let (size, free) = unsafe { self.read_header(offset) };
            if size < HEADER {
                return None; // Would loop forever; cannot happen.
            }
            let block = Block { offset, size, free };
            offset = offset.checked_add(size)?;
            Some(block)
        })
    }

    /// The offsets on the free list, in list order.
    pub fn free_list(&self) -> impl Iterator<Item = usize> + '_ {
        let mut cursor = self.head;
        let mut steps = 0usize;
        std::iter::from_fn(move || {
            let offset = cursor?;
            steps += 1;
            if steps > self.len / HEADER + 1 {
                return None; // A cycle: cannot happen with the invariants.
            }
            // SAFETY: every offset on the list starts a free block.
            cursor = unsafe { self.next_free(offset) };
            Some(offset)
        })
    }

    /// Bytes free and in use, from one walk over the blocks.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats::default();
        for block in self.blocks() {
            if block.free {
                stats.free_bytes += block.size;
                stats.free_blocks += 1;
                stats.largest_free = stats.largest_free.max(block.size);
            } else {
                stats.used_bytes += block.size;
                stats.used_blocks += 1;
            }
        }
        stats
    }

    /// Checks the invariants and says which one is broken. For tests and the
    /// chapter's program; it walks the whole region.
    pub fn check(&self) -> Result<(), String> {
        let mut end = 0usize;
        let mut previous_free = false;
        let mut free_blocks = Vec::new();
        for block in self.blocks() {
            if block.offset != end {
                return Err(format!(
                    "a block starts at {} instead of {end}",
                    block.offset
                ));
            }
            if block.size < MIN_BLOCK {
                return Err(format!(
                    "the block at {} has {} bytes, less than the minimum {MIN_BLOCK}",
                    block.offset, block.size
                ));
            }
            if block.free && previous_free {
                return Err(format!(
                    "the free block at {} follows another free block: they were not merged",
                    block.offset
                ));
            }
            if block.free {
                free_blocks.push(block.offset);
            }
            previous_free = block.free;
            end = block.offset.saturating_add(block.size);
        }
        if end != self.len {
            return Err(format!(
                "the blocks end at {end}, the region at {}",
                self.len
            ));
        }
        let listed: Vec<usize> = self.free_list().collect();
        if listed != free_blocks {
            return Err(format!(
                "the free list is {listed:?}, the free blocks in address order are {free_blocks:?}"
            ));
        }
        Ok(())
    }
}

// ANCHOR: spin_lock
/// A lock that is one `AtomicBool`: taking it never allocates, never enters
/// the kernel, never fails.
pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock lets one thread at a time reach the value, and its
// Release/Acquire pair orders each holder's accesses after the previous
// holder's, so a `T` that may move between threads may be shared this way.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// An unlocked lock around `value`; `const`, so it can sit in a `static`.
    pub const fn new(value: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Spins until the lock is free, then takes it.
    pub fn lock(&self) -> SpinGuard<'_, T> {
        // `Acquire`: everything the previous holder did before its `Release`
        // store happens before what we do while we hold the lock.
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // Wait with plain loads (the cache line stays shared) until the
            // lock looks free, then try again.
            while self.locked.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        }
        SpinGuard { lock: self }
    }
}

/// Access to the value while the lock is held; dropping it unlocks.
pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        // `Release`: our writes (to the list, and to the bytes of blocks we
        // freed) happen before the next holder's `Acquire` sees `false`.
        self.lock.locked.store(false, Ordering::Release);
    }
}
// ANCHOR_END: spin_lock

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference
        // through the guard.
        unsafe { &mut *self.lock.value.get() }
    }
}

// ANCHOR: global
/// The region bytes. `align(16)` is all the base is promised; larger
/// alignments are met by address.
#[repr(C, align(16))]
struct Region<const N: usize>(UnsafeCell<[u8; N]>);

/// A global allocator: a [`FreeList`] over a static region of `N` bytes
/// behind a [`SpinLock`], and [`System`] for what the region cannot serve.
pub struct FreeListAlloc<const N: usize> {
    region: Region<N>,
    /// Built on first use: a `const fn` cannot write the first header, and
    /// the region's address is not known before the program runs.
    heap: SpinLock<Option<FreeList>>,
    fit: Fit,
    fallbacks: AtomicUsize,
}

// SAFETY: the region's bytes are reached only through the `FreeList`, under
// the lock, and through blocks it handed out, which no two owners share.
// A block's bytes are handed out again only after its `free`, under the
// lock: the freeing thread's last use of them happens before its unlock
// (`Release`), which happens before the next holder's lock (`Acquire`), which
// happens before the new owner's first use.
unsafe impl<const N: usize> Sync for FreeListAlloc<N> {}
// ANCHOR_END: global

impl<const N: usize> FreeListAlloc<N> {
    /// An allocator using `fit`; `const`, so it can initialise a `static`.
    pub const fn new(fit: Fit) -> Self {
        Self {
            region: Region(UnsafeCell::new([0; N])),
            heap: SpinLock::new(None),
            fit,
            fallbacks: AtomicUsize::new(0),
        }
    }

    /// A pointer to the region's first byte, with provenance over all of it.
    pub fn region_ptr(&self) -> *mut u8 {
        self.region.0.get().cast::<u8>()
    }

    /// Whether `ptr` points into the region (rather than at a fallback block).
    pub fn in_region(&self, ptr: *const u8) -> bool {
        ptr.addr()
            .checked_sub(self.region_ptr().addr())
            .is_some_and(|offset| offset < N)
    }

    /// Requests the region could not serve, sent to `System`.
    pub fn fallback_count(&self) -> usize {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// The region's statistics (a walk over its blocks, under the lock).
    pub fn stats(&self) -> Stats {
        self.heap
            .lock()
            .as_ref()
            .map(FreeList::stats)
            .unwrap_or_default()
    }

    /// Runs `f` on the list, building it first if this is the first use.
    fn with_heap<R>(&self, f: impl FnOnce(&mut FreeList) -> R) -> R {
        let mut guard = self.heap.lock();
        let heap = guard.get_or_insert_with(|| {
            // SAFETY: the region is `N` bytes, 16-aligned, lives as long as
            // `self`, and is touched only through this list (under the lock).
            unsafe { FreeList::new(self.region_ptr(), N, self.fit) }
        });
        f(heap)
    }

    /// # Safety
    /// `layout` has a non-zero size.
    unsafe fn fallback(&self, layout: Layout) -> *mut u8 {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller promises a non-zero size.
        unsafe { System.alloc(layout) }
    }
}

// ANCHOR: global_alloc
// SAFETY: `alloc` returns null, a `System` block, or a region block of at
// least `layout.size()` bytes at a multiple of `layout.align()` that no other
// live block overlaps (the list's invariants). `dealloc` and `realloc` tell
// the two apart by address: region pointers go back to the list, all others
// to `System`, which made them.
unsafe impl<const N: usize> GlobalAlloc for FreeListAlloc<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.with_heap(|heap| heap.alloc(layout)) {
            Some(block) => block.as_ptr(),
            // SAFETY: `GlobalAlloc::alloc` is only called with a non-zero size.
            None => unsafe { self.fallback(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match NonNull::new(ptr) {
            Some(block) if self.in_region(ptr) => self.with_heap(|heap| {
                // SAFETY: a region pointer came from the list's `alloc` and
                // the caller frees it once and stops using it.
                unsafe { heap.free(block, layout) }
            }),
            // SAFETY: any other pointer came from `System.alloc(layout)`.
            _ => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(block) = NonNull::new(ptr).filter(|_| self.in_region(ptr)) else {
            // SAFETY: not a region pointer, so a `System` block of `layout`;
            // the caller's promises about `new_size` are passed on.
            return unsafe { System.realloc(ptr, layout, new_size) };
        };
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return std::ptr::null_mut();
        };
        let moved = self.with_heap(|heap| {
            if new_size <= layout.size() {
                // SAFETY: `block` is in use; the caller stops using the bytes
                // past `new_size`.
                unsafe { heap.shrink_in_place(block, layout, new_size) };
                return Some(block);
            }
            // SAFETY: `block` is a region block in use.
            if unsafe { heap.grow_in_place(block, layout, new_size) } {
                return Some(block);
            }
            let new = heap.alloc(new_layout)?;
            // SAFETY: both blocks are in use and distinct, the old one holds
            // `layout.size()` bytes, the new one more.
            unsafe {
                new.copy_from_nonoverlapping(block, layout.size());
                heap.free(block, layout);
            }
            Some(new)
        });
        if let Some(new) = moved {
            return new.as_ptr();
        }
        // The region is full: move the block to `System`.
        // SAFETY: `new_size` is larger than the old size, so not zero.
        let new = unsafe { self.fallback(new_layout) };
        if !new.is_null() {
            // SAFETY: the old block is ours until freed and holds
            // `layout.size()` bytes; the new one is larger. Then the old
            // block is freed once.
            unsafe {
                new.copy_from_nonoverlapping(ptr, layout.size());
                self.with_heap(|heap| heap.free(block, layout));
            }
        }
        new
    }
}
// ANCHOR_END: global_alloc
