//! Chapter: a lock-free bump arena with a System fallback.
//!
//! [`BumpAlloc`] hands out slices of a fixed array by advancing one atomic
//! offset. Allocation is a compare-and-swap; freeing an arena block does
//! nothing (the bump trade-off); requests that do not fit go to [`System`].
//!
//! ```
//! use std::alloc::{GlobalAlloc, Layout};
//! use bump::BumpAlloc;
//!
//! static ARENA: BumpAlloc<1024> = BumpAlloc::new();
//!
//! let layout = Layout::from_size_align(100, 64).unwrap();
//! // SAFETY: the layout has a non-zero size.
//! let ptr = unsafe { ARENA.alloc(layout) };
//! assert_eq!(ptr.addr() % 64, 0);
//! assert!(ARENA.arena_offset(ptr).is_some());
//! // SAFETY: `ptr` came from `ARENA.alloc(layout)` and is not used again.
//! unsafe { ARENA.dealloc(ptr, layout) };
//! ```
//!
//! The library has no threads and no processes, so it also builds for
//! `wasm32-unknown-unknown`, where the playground drives the same type.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

// ANCHOR: align
/// Rounds `addr` up to the next multiple of `align`.
///
/// Returns `None` if `align` is not a power of two or the result does not fit
/// in a `usize`.
pub const fn align_up(addr: usize, align: usize) -> Option<usize> {
    if !align.is_power_of_two() {
        return None;
    }
    match addr.checked_add(align - 1) {
        Some(bumped) => Some(bumped & !(align - 1)),
        None => None,
    }
}

/// The WRONG way: round the offset, then add the base.
///
/// The result is aligned only if `base` itself is a multiple of `align`.
pub const fn offset_aligned_address(base: usize, offset: usize, align: usize) -> Option<usize> {
    match align_up(offset, align) {
        Some(aligned_offset) => base.checked_add(aligned_offset),
        None => None,
    }
}

/// The right way: add the base, then round the address.
///
/// This arena bumps upward, so it rounds the address up. bumpalo bumps
/// downward instead: it starts at the end of its chunk, subtracts the size
/// and rounds the address *down* (clearing the low bits is all it takes).
/// Either way it is the address that gets rounded, never the offset.
pub const fn address_aligned(base: usize, offset: usize, align: usize) -> Option<usize> {
    match base.checked_add(offset) {
        Some(addr) => align_up(addr, align),
        None => None,
    }
}
// ANCHOR_END: align

// ANCHOR: types
/// The arena bytes. `align(16)` is all the base is promised: a request for a
/// larger alignment has to be aligned by address, not by offset.
#[repr(C, align(16))]
struct Arena<const N: usize>(UnsafeCell<[u8; N]>);

/// A bump allocator over `N` bytes that falls back to [`System`].
///
/// `#[repr(C)]` puts the arena first, so the arena starts where the struct
/// starts; [`UnderAligned`] uses that to place it at a chosen alignment.
/// Code that needs the arena's bytes asks [`BumpAlloc::arena_ptr`].
#[repr(C)]
pub struct BumpAlloc<const N: usize> {
    arena: Arena<N>,
    /// Bytes consumed so far, padding included. Only ever grows (until
    /// [`BumpAlloc::reset`]).
    offset: AtomicUsize,
    /// Total bytes skipped to align blocks.
    padding: AtomicUsize,
    /// Requests sent to `System`.
    fallbacks: AtomicUsize,
    /// `System` blocks not yet freed.
    fallback_live: AtomicUsize,
}

// SAFETY: the arena bytes are never read or written by `BumpAlloc` itself;
// they are reached only through pointers returned by `alloc`, and the
// compare-and-swap on `offset` gives every such pointer a range no other
// block shares, so two threads never touch the same arena byte through
// their blocks. Bytes are handed out a second time only after `reset`,
// whose contract makes every use of the old blocks happen before it, and it
// before every later allocation. All other fields are atomics.
unsafe impl<const N: usize> Sync for BumpAlloc<N> {}
// ANCHOR_END: types

impl<const N: usize> BumpAlloc<N> {
    /// An empty arena; `const`, so it can initialise a `static`.
    pub const fn new() -> Self {
        Self {
            arena: Arena(UnsafeCell::new([0; N])),
            offset: AtomicUsize::new(0),
            padding: AtomicUsize::new(0),
            fallbacks: AtomicUsize::new(0),
            fallback_live: AtomicUsize::new(0),
        }
    }

    /// The arena's size in bytes.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Arena bytes consumed, alignment padding included.
    pub fn used(&self) -> usize {
        self.offset.load(Ordering::Relaxed)
    }

    /// Arena bytes skipped to satisfy alignments.
    pub fn padding_wasted(&self) -> usize {
        self.padding.load(Ordering::Relaxed)
    }

    /// Requests that went to `System` because they did not fit (failed ones
    /// included).
    pub fn fallback_count(&self) -> usize {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// Blocks obtained from `System` and not yet freed.
    pub fn fallback_live(&self) -> usize {
        self.fallback_live.load(Ordering::Relaxed)
    }

    /// The address of the arena's first byte (guaranteed only to be a
    /// multiple of 16).
    pub fn base_addr(&self) -> usize {
        self.arena_ptr().addr()
    }

    /// A pointer to the arena's first byte, valid for all `N` bytes of it
    /// (its provenance covers the whole arena).
    ///
    /// The allocator never reads or writes these bytes itself, so a program
    /// may write bytes no block holds yet, for instance to take the page
    /// faults of a fresh arena ahead of time. Only bytes past
    /// [`used`](Self::used), while no other thread allocates from this
    /// instance; and the writes must happen before any later allocation
    /// that hands those bytes to another thread (a spawn, a join or a lock
    /// in between), like any reuse of memory.
    pub fn arena_ptr(&self) -> *mut u8 {
        self.arena.0.get().cast::<u8>()
    }

    /// The offset of `ptr` inside the arena, or `None` if `ptr` is not an
    /// arena address (a fallback block or a zero-size allocation).
    pub fn arena_offset(&self, ptr: *const u8) -> Option<usize> {
        let offset = ptr.addr().checked_sub(self.base_addr())?;
        (offset < N).then_some(offset)
    }

    /// Starts the arena over: the whole capacity is free again and the
    /// padding and fallback counters return to zero. `fallback_live` keeps
    /// counting System blocks still out there; `dealloc` still frees them
    /// correctly, since it routes by address.
    ///
    /// # Safety
    ///
    /// New blocks will reuse the bytes of the old ones, so:
    ///
    /// - No arena block handed out before the call may be used after it.
    /// - Every use of those blocks, on any thread, must *happen before* the
    ///   call: the threads that used them have been joined, or handed the
    ///   arena back through a lock, a channel or a Release/Acquire pair.
    ///   Finishing "earlier" by the clock is not enough.
    /// - No other thread may allocate from this instance while it runs, and
    ///   the call must happen before every later allocation on another
    ///   thread (for instance, the threads are spawned after it). The counters
    ///   are updated with `Relaxed` operations, which order nothing.
    ///
    /// A global allocator's arena can therefore never be reset: the runtime
    /// holds blocks in it.
    pub unsafe fn reset(&self) {
        self.offset.store(0, Ordering::Relaxed);
        self.padding.store(0, Ordering::Relaxed);
        self.fallbacks.store(0, Ordering::Relaxed);
    }

    // ANCHOR: fallback
    /// Serves a request the arena cannot hold.
    ///
    /// # Safety
    ///
    /// `layout` must have a non-zero size, as [`System`]'s `alloc` requires.
    unsafe fn fallback(&self, layout: Layout) -> *mut u8 {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        // SAFETY: our caller guarantees `layout.size() != 0`.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            self.fallback_live.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }
    // ANCHOR_END: fallback
}

impl<const N: usize> Default for BumpAlloc<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// How far past the newest block to ask the cache for memory.
const PREFETCH_AHEAD: usize = 512;

/// Asks the CPU to bring the cache line [`PREFETCH_AHEAD`] bytes past `end`
/// in for writing, so it is there by the time a later block is written.
///
/// The arena hands out memory no block has used yet, so every new cache line
/// is a miss. On x86 the compare-and-swap is a full barrier: it waits until
/// the previous block's write has reached the cache, so without a prefetch
/// each allocation waits out one of those misses in turn.
#[inline(always)]
fn prefetch_for_write(end: *const u8) {
    let ahead = end.wrapping_add(PREFETCH_AHEAD);
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_ET0, _mm_prefetch};
        // SAFETY: a prefetch is only a hint: it never faults and changes
        // no memory, whatever the address (past the arena included), and
        // SSE, which it needs, is part of every x86_64 CPU.
        unsafe { _mm_prefetch::<_MM_HINT_ET0>(ahead.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ahead;
}

// ANCHOR: global_alloc
// SAFETY: `alloc` returns either null, a well-aligned dangling pointer for a
// zero-size layout, a `System` block, or an arena range of `layout.size()`
// bytes aligned to `layout.align()` that no other live block overlaps (the
// successful compare-and-swap reserved it for this call alone). `dealloc`
// frees exactly the pointers that came from `System`.
unsafe impl<const N: usize> GlobalAlloc for BumpAlloc<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (size, align) = (layout.size(), layout.align());
        if size == 0 {
            // Nothing to store: a non-null, aligned address is enough.
            return std::ptr::without_provenance_mut(align);
        }
        let base = self.base_addr();
        let mut current = self.offset.load(Ordering::Relaxed);
        loop {
            // Align the ADDRESS: the base is only 16-aligned, so rounding
            // the offset would be wrong for larger alignments.
            let start =
                address_aligned(base, current, align).and_then(|addr| addr.checked_sub(base));
            let Some(start) = start else {
                // SAFETY: `size != 0` (checked above).
                return unsafe { self.fallback(layout) };
            };
            let Some(end) = start.checked_add(size).filter(|&end| end <= N) else {
                // SAFETY: `size != 0` (checked above).
                return unsafe { self.fallback(layout) };
            };
            match self.offset.compare_exchange_weak(
                current,
                end,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // Only pay for a second atomic when alignment skipped bytes.
                    let padding = start.saturating_sub(current);
                    if padding > 0 {
                        self.padding.fetch_add(padding, Ordering::Relaxed);
                    }
                    prefetch_for_write(self.arena_ptr().wrapping_add(end));
                    // SAFETY: `start + size <= N`, so the block lies inside
                    // the arena array and `add` stays in bounds. No other
                    // thread can get these bytes: the compare-and-swap moved
                    // the offset past them for this call alone. (`Relaxed`
                    // is enough because no earlier block shares them;
                    // reusing bytes takes `reset`, whose contract supplies
                    // the happens-before.)
                    return unsafe { self.arena_ptr().add(start) };
                }
                // Another thread moved the offset: retry from its value.
                Err(actual) => current = actual,
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() == 0 || self.arena_offset(ptr).is_some() {
            // Dangling zero-size pointers and arena blocks are not freed.
            return;
        }
        self.fallback_live.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: `ptr` is not an arena address and not zero-sized, so it
        // came from `self.fallback`, i.e. from `System.alloc(layout)`, and the
        // caller promises it is freed once, with the same layout.
        unsafe { System.dealloc(ptr, layout) };
    }
}
// ANCHOR_END: global_alloc

// ANCHOR: under_aligned
/// A [`BumpAlloc`] whose arena starts exactly 16 bytes past a 4096-byte
/// boundary: aligned to 16, but not to 32, 64, ... or 4096.
///
/// Real arenas land wherever the linker or allocator puts them, so a base
/// that happens to be 64-aligned can hide the offset-rounding bug. This one
/// shows it every time.
#[repr(C, align(4096))]
pub struct UnderAligned<const N: usize> {
    skip: [u8; 16],
    /// The arena, at `16 (mod 4096)` because `BumpAlloc` is `#[repr(C)]`
    /// with the arena as its first field.
    pub bump: BumpAlloc<N>,
}
// ANCHOR_END: under_aligned

impl<const N: usize> UnderAligned<N> {
    /// An empty arena, 16 bytes past a page boundary.
    pub const fn new() -> Self {
        Self {
            skip: [0; 16],
            bump: BumpAlloc::new(),
        }
    }
}

impl<const N: usize> Default for UnderAligned<N> {
    fn default() -> Self {
        Self::new()
    }
}

// ANCHOR: grow_in_place
/// A [`BumpAlloc`] that grows the newest block where it is, and takes the
/// newest block back when it is freed.
///
/// The newest block ends exactly at the arena's offset. So `realloc` can
/// grow it by moving the offset from its end to its new end, and `dealloc`
/// can give it back by moving the offset from its end to its start. One
/// compare-and-swap does both the check and the move: it succeeds only if
/// the offset is still the block's end, that is, if no other block was
/// handed out after it, on any thread. Everything else (a block that is not
/// the newest, no room left, a System block) is served as before: `realloc`
/// as the default would (a new block, a copy, a free) and `dealloc` not at
/// all. Shrinking keeps an arena block as it is.
///
/// Giving bytes back means handing them out again, maybe to another
/// thread, so the orderings matter here: the compare-and-swap that gives a
/// block back is `Release`, and every compare-and-swap that hands out bytes
/// is followed by an `Acquire` fence (`alloc`) or is `Acquire` itself
/// (growth). What the freeing thread wrote then happens before what the
/// next owner of those bytes does.
pub struct GrowInPlace<const N: usize> {
    pub arena: BumpAlloc<N>,
}

impl<const N: usize> GrowInPlace<N> {
    pub const fn new() -> Self {
        Self {
            arena: BumpAlloc::new(),
        }
    }

    /// Moves the offset from `end` to `new_end` if `end` is where it is.
    ///
    /// Growing: `Acquire`, because the bytes past `end` may have belonged to
    /// a block another thread gave back (its `Release` is in the history of
    /// the value read). Giving back: `Release`, for the same reason seen
    /// from the other side.
    fn move_end(&self, end: usize, new_end: usize) -> bool {
        let success = if new_end > end {
            Ordering::Acquire
        } else {
            Ordering::Release
        };
        self.arena
            .offset
            .compare_exchange(end, new_end, success, Ordering::Relaxed)
            .is_ok()
    }
}

impl<const N: usize> Default for GrowInPlace<N> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: `alloc` is `BumpAlloc`'s, plus a fence. `dealloc` moves the offset
// back over a block only if it is the newest (the compare-and-swap checks
// that the offset is still its end), so only bytes of a block the caller no
// longer uses become free, and nothing after them. `realloc` returns the
// same pointer only for an arena block that already has `new_size` bytes (a
// shrink) or whose range was extended to `new_size` bytes by a successful
// compare-and-swap, which reserved the added bytes for this call alone; the
// alignment is unchanged. Reused bytes carry a happens-before from the
// thread that gave them back (`Release`) to the next owner (`Acquire`).
// Otherwise `realloc` allocates, copies the smaller size and frees the old
// block, as the default does.
unsafe impl<const N: usize> GlobalAlloc for GrowInPlace<N> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `BumpAlloc::alloc`'s.
        let ptr = unsafe { self.arena.alloc(layout) };
        // The arena's compare-and-swap is `Relaxed`; it read an offset that
        // a `Release` give-back (or a later read-modify-write after it) may
        // have written. This fence makes that give-back happen before every
        // use of the new block.
        fence(Ordering::Acquire);
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(offset) = self.arena.arena_offset(ptr).filter(|_| layout.size() != 0) {
            // The newest block goes back; any other stays (it is a bump
            // arena). Either way the caller no longer uses it.
            let _ = self.move_end(offset + layout.size(), offset);
            return;
        }
        // SAFETY: the caller's contract is `BumpAlloc::dealloc`'s.
        unsafe { self.arena.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if let Some(offset) = self.arena.arena_offset(ptr).filter(|_| layout.size() != 0) {
            if new_size <= layout.size() {
                return ptr;
            }
            let end = offset + layout.size();
            let new_end = offset.checked_add(new_size).filter(|&e| e <= N);
            if let Some(new_end) = new_end
                && self.move_end(end, new_end)
            {
                return ptr;
            }
        }
        // SAFETY: the caller guarantees `new_size` is non-zero and, rounded
        // up to `layout.align()`, does not overflow `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has a non-zero size.
        let new_ptr = unsafe { self.alloc(new_layout) };
        if !new_ptr.is_null() {
            // SAFETY: the old block is live and has `layout.size()` bytes,
            // the new one `new_size`; two live blocks never overlap. Then
            // the old one is freed once, with its layout.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new_ptr
    }
}
// ANCHOR_END: grow_in_place
