//! Chapter: thread-local caches.
//!
//! [`ThreadCache`] is a global allocator over a fixed arena cut into chunks.
//! A thread takes a whole chunk with one atomic `fetch_add` on the arena's
//! chunk cursor ([`ChunkCursor`]) and then bumps inside it with plain
//! arithmetic on its own thread-local cells: no atomic at all, because no
//! other thread ever hands out bytes of that chunk.
//!
//! Built with [`ThreadCache::new`] it also recycles: a block freed by the
//! thread that owns its chunk goes on that thread's free list for its size
//! class and comes back for the next request of the class, again without an
//! atomic. A block freed by another thread goes on the owner's
//! [`RemoteList`], which the owner empties with one atomic swap when its own
//! list runs dry. [`ThreadCache::bump_only`] is the first half alone: it
//! never reuses a block.
//!
//! Requests larger than a size class can hold, threads beyond
//! [`MAX_THREADS`], and everything after the arena's last chunk is handed
//! out go to [`System`].
//!
//! ```
//! use std::alloc::{GlobalAlloc, Layout};
//! use thread_cache::ThreadCache;
//!
//! static CACHE: ThreadCache<{ 64 * 1024 }, 4096> = ThreadCache::new();
//!
//! let layout = Layout::from_size_align(24, 8).unwrap();
//! // SAFETY: the layout has a non-zero size.
//! let first = unsafe { CACHE.alloc(layout) };
//! assert!(CACHE.arena_offset(first).is_some());
//! // SAFETY: `first` came from `CACHE.alloc(layout)` and is not used again.
//! unsafe { CACHE.dealloc(first, layout) };
//! // SAFETY: as above.
//! let again = unsafe { CACHE.alloc(layout) };
//! assert_eq!(again, first, "the freed block comes back");
//! // SAFETY: `again` came from `CACHE.alloc(layout)`.
//! unsafe { CACHE.dealloc(again, layout) };
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, UnsafeCell};
use std::ptr::{self, null_mut};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// The smallest size class, in bytes: a free block must hold two words
/// (the next pointer and the class) while it sits on a list.
pub const MIN_CLASS: usize = 16;
/// Size classes 16, 32, 64, ... 4096 bytes.
pub const CLASSES: usize = 9;
/// The largest class any chunk size allows.
const LARGEST_CLASS: usize = MIN_CLASS << (CLASSES - 1);
/// Threads that can have a record in one arena; later threads use System.
pub const MAX_THREADS: usize = 64;
/// The chunk size of the book's programs: 64 KiB.
pub const DEFAULT_CHUNK: usize = 64 * 1024;
/// Bytes at the start of every chunk that hold its header (the owner).
pub const CHUNK_HEADER: usize = 16;

/// Rounds `addr` up to a multiple of `align` (a power of two), or `None`
/// on overflow.
const fn align_up(addr: usize, align: usize) -> Option<usize> {
    match addr.checked_add(align - 1) {
        Some(bumped) => Some(bumped & !(align - 1)),
        None => None,
    }
}

// ANCHOR: classes
/// The largest class a chunk of `chunk` bytes serves: at most an eighth of
/// the chunk, so the bytes a thread leaves at the end of a chunk when the
/// next block does not fit stay small.
pub const fn largest_class(chunk: usize) -> usize {
    if chunk / 8 < LARGEST_CLASS {
        chunk / 8
    } else {
        LARGEST_CLASS
    }
}

/// The size class of `layout`: the smallest power of two at least as large
/// as its size and its alignment (and [`MIN_CLASS`]), as an index 0, 1, ...
/// `None` when that is larger than `largest`.
///
/// `dealloc` gets the same layout `alloc` got, so it finds the same class:
/// a block needs no header to know its size. Blocks are placed at a
/// multiple of their class size, so a block of a class satisfies every
/// alignment up to that size, recycled or not.
pub const fn size_class(layout: Layout, largest: usize) -> Option<usize> {
    let mut need = layout.size();
    if need < layout.align() {
        need = layout.align();
    }
    if need < MIN_CLASS {
        need = MIN_CLASS;
    }
    if need > largest {
        return None;
    }
    let size = need.next_power_of_two();
    Some((size.trailing_zeros() - MIN_CLASS.trailing_zeros()) as usize)
}

/// The block size of class `class`.
pub const fn class_size(class: usize) -> usize {
    MIN_CLASS << class
}
// ANCHOR_END: classes

// ANCHOR: cursor
/// The arena's only shared allocation state: the offset of the next chunk
/// to hand out. Taking a chunk is one `fetch_add`, which never fails and
/// never retries: every caller gets a different range.
#[derive(Debug)]
pub struct ChunkCursor {
    next: AtomicUsize,
}

impl ChunkCursor {
    pub const fn new() -> Self {
        Self {
            next: AtomicUsize::new(0),
        }
    }

    /// The offset of a fresh chunk of `chunk` bytes inside `capacity`, or
    /// `None` when none is left. No two calls return the same chunk.
    pub fn take(&self, chunk: usize, capacity: usize) -> Option<usize> {
        let last_start = capacity.checked_sub(chunk)?;
        // A plain load first, so an exhausted arena costs no locked
        // instruction (every request of every thread would pay it).
        if self.next.load(Ordering::Relaxed) > last_start {
            return None;
        }
        // `Relaxed`: the chunk's bytes were never handed out before, so no
        // earlier write to them needs to be seen.
        let start = self.next.fetch_add(chunk, Ordering::Relaxed);
        // Threads racing past the end all move the cursor; harmless, it only
        // ever grows, by at most one chunk per thread.
        (start <= last_start).then_some(start)
    }

    /// Bytes handed out as chunks so far (can pass `capacity` by the
    /// chunks that threads racing at the end were refused).
    pub fn taken(&self) -> usize {
        self.next.load(Ordering::Relaxed)
    }
}
// ANCHOR_END: cursor

impl Default for ChunkCursor {
    fn default() -> Self {
        Self::new()
    }
}

// ANCHOR: remote_list
/// What a free block holds while it waits on a list: written into the
/// block's own first 16 bytes, so keeping track of it allocates nothing.
#[repr(C)]
struct FreeBlock {
    next: *mut FreeBlock,
    class: usize,
}

/// Blocks freed by other threads, waiting for the thread that owns them:
/// many threads push, one thread takes them all at once.
///
/// A push is a compare-and-swap loop with `Release`; the take is a single
/// `swap` with `Acquire`. Everything a freeing thread wrote before its push
/// (the block's contents, the list link inside the block) therefore
/// happens before the owner's take, and so before the owner hands the block
/// out again. Because the owner always takes the whole list, it never pops
/// a single node and never reads a `next` pointer that another thread may
/// be changing: the ABA problem of a lock-free stack's pop does not arise.
#[derive(Debug)]
pub struct RemoteList {
    head: AtomicPtr<FreeBlock>,
}

impl RemoteList {
    pub const fn new() -> Self {
        Self {
            head: AtomicPtr::new(null_mut()),
        }
    }

    /// Adds a freed block of class `class`.
    ///
    /// # Safety
    ///
    /// `block` is valid for writes of 16 bytes and aligned to 16, and nobody
    /// reads or writes it after this call until a [`take_all`](Self::take_all)
    /// hands it out again.
    pub unsafe fn push(&self, block: *mut u8, class: usize) {
        let node = block.cast::<FreeBlock>();
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: the caller gives us the block: 16 writable, aligned
            // bytes nobody else uses. Until the compare-and-swap succeeds,
            // no other thread can reach the node.
            unsafe { node.write(FreeBlock { next: head, class }) };
            // `Release` on success: publishes the write above and every
            // earlier write to the block to the thread whose `Acquire` swap
            // takes it.
            match self
                .head
                .compare_exchange_weak(head, node, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }

    /// Takes every block pushed so far, newest first, as (block, class).
    pub fn take_all(&self) -> Taken {
        // `Acquire`: synchronizes with the `Release` push that wrote the head
        // we read, and through the release sequence (every later push is a
        // read-modify-write too) with every push before it.
        Taken {
            next: self.head.swap(null_mut(), Ordering::Acquire),
        }
    }

    /// Whether the list looks empty. A plain load: only a hint, good for
    /// deciding whether a `take_all` is worth it.
    pub fn is_empty(&self) -> bool {
        self.head.load(Ordering::Relaxed).is_null()
    }
}

/// The blocks one [`RemoteList::take_all`] took; they belong to the taker.
#[derive(Debug)]
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
        // SAFETY: `node` was pushed, fully written, before the `Release`
        // compare-and-swap that our `Acquire` swap synchronizes with (see
        // `take_all`), and nobody else has it now: the swap emptied the
        // list. We read its link before handing the block to the caller,
        // who may overwrite it.
        let FreeBlock { next, class } = unsafe { node.read() };
        self.next = next;
        Some((node.cast::<u8>(), class))
    }
}
// ANCHOR_END: remote_list

impl Default for RemoteList {
    fn default() -> Self {
        Self::new()
    }
}

/// What the arena keeps about one thread, where every thread can reach it.
/// Aligned to a cache line, so pushes to one thread's list do not slow
/// another thread's.
#[repr(align(64))]
#[derive(Debug)]
struct Record {
    remote: RemoteList,
    /// Chunks this thread has taken. Written only by the thread itself
    /// (a load and a store, no read-modify-write), read by anyone.
    chunks: AtomicUsize,
}

impl Record {
    const fn new() -> Self {
        Self {
            remote: RemoteList::new(),
            chunks: AtomicUsize::new(0),
        }
    }
}

// ANCHOR: local
/// One thread's state. Only cells, all `const`-initialised, and no `Drop`:
/// so the thread-local needs no lazy initialisation, and no destructor is
/// registered for it. Registering one would allocate on some platforms
/// (inside `alloc`, that is re-entry), and the destructors of other
/// thread-locals that free memory could run after ours.
struct Local {
    /// The arena this state belongs to ([`ThreadCache::id`]); 0: none yet.
    arena: Cell<usize>,
    /// This thread's record in that arena; [`NO_RECORD`] when all were taken.
    record: Cell<usize>,
    /// Arena offsets: the next free byte of the current chunk, and its end
    /// (0 when there is no chunk).
    next: Cell<usize>,
    end: Cell<usize>,
    /// Free blocks per size class, linked through their first word.
    free: [Cell<*mut FreeBlock>; CLASSES],
    // What the chapter's program shows. Plain cells, nearly free.
    chunks: Cell<usize>,
    bumped: Cell<usize>,
    recycled: Cell<usize>,
    remote_frees: Cell<usize>,
    taken_back: Cell<usize>,
    tail_bytes: Cell<usize>,
}

const NO_RECORD: usize = usize::MAX;

impl Local {
    const fn new() -> Self {
        Self {
            arena: Cell::new(0),
            record: Cell::new(NO_RECORD),
            next: Cell::new(0),
            end: Cell::new(0),
            free: [const { Cell::new(null_mut()) }; CLASSES],
            chunks: Cell::new(0),
            bumped: Cell::new(0),
            recycled: Cell::new(0),
            remote_frees: Cell::new(0),
            taken_back: Cell::new(0),
            tail_bytes: Cell::new(0),
        }
    }
}

thread_local! {
    static LOCAL: Local = const { Local::new() };
}
// ANCHOR_END: local

/// Arena ids: every [`ThreadCache`] gets its own the first time a thread
/// binds to it, so a thread's cells never mix blocks of two arenas.
static NEXT_ARENA_ID: AtomicUsize = AtomicUsize::new(1);

// ANCHOR: types
/// The arena bytes, aligned to a page so chunk starts and class-size
/// alignments line up.
#[repr(C, align(4096))]
struct Arena<const N: usize>(UnsafeCell<[u8; N]>);

/// A global allocator with a chunk per thread, over `N` bytes cut into
/// chunks of `CHUNK` bytes, falling back to [`System`].
///
/// Every chunk starts with a header naming the thread (the record) that
/// took it, so `dealloc` can tell a thread's own blocks from another
/// thread's without asking anyone.
pub struct ThreadCache<const N: usize, const CHUNK: usize = DEFAULT_CHUNK> {
    arena: Arena<N>,
    /// `false`: a bump allocator, frees go nowhere.
    recycle: bool,
    /// 0 until a thread first binds (see [`NEXT_ARENA_ID`]).
    id: AtomicUsize,
    cursor: ChunkCursor,
    records: [Record; MAX_THREADS],
    /// Records handed out (can pass `MAX_THREADS`: then they ran out).
    claimed: AtomicUsize,
    /// Requests sent to System.
    fallbacks: AtomicUsize,
}

// SAFETY: the arena's bytes are reached only through blocks and chunk
// headers. `cursor.take` gives every chunk to one thread alone; only that
// thread writes the header (before any block of the chunk exists) and
// bumps inside the chunk, through its own thread-local cells. A block is
// handed out again only after it was freed: by its owner thread (program
// order orders the old use before the new one) or by another thread through
// the owner's `RemoteList` (Release push, Acquire take). A thread that frees
// another thread's block reads the chunk header, which was written before
// the block existed, and the block reached the freeing thread through some
// synchronisation (a channel, a join), which orders that write before the
// read. Everything else is atomics.
unsafe impl<const N: usize, const CHUNK: usize> Sync for ThreadCache<N, CHUNK> {}
// ANCHOR_END: types

/// One thread's view of a [`ThreadCache`], from its thread-local cells.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LocalStats {
    /// This thread's record index in the arena.
    pub record: usize,
    /// Chunks this thread took.
    pub chunks: usize,
    /// Blocks carved fresh from a chunk.
    pub bumped: usize,
    /// Blocks handed out again from this thread's free lists.
    pub recycled: usize,
    /// Blocks this thread freed that belong to another thread.
    pub remote_frees: usize,
    /// Blocks other threads freed that this thread took back.
    pub taken_back: usize,
    /// Blocks waiting on this thread's free lists, and their bytes.
    pub cached_blocks: usize,
    pub cached_bytes: usize,
    /// Bytes of the current chunk not handed out yet.
    pub chunk_left: usize,
    /// Bytes left unused at the ends of earlier chunks.
    pub tail_bytes: usize,
}

impl<const N: usize, const CHUNK: usize> ThreadCache<N, CHUNK> {
    const VALID: () = assert!(
        CHUNK.is_power_of_two() && CHUNK >= 256 && N >= CHUNK,
        "CHUNK must be a power of two of at least 256 bytes, and N at least one chunk"
    );

    /// A recycling cache: per-thread free lists and remote frees.
    pub const fn new() -> Self {
        Self::with_recycling(true)
    }

    /// The thread-cached bump allocator alone: frees go nowhere.
    pub const fn bump_only() -> Self {
        Self::with_recycling(false)
    }

    const fn with_recycling(recycle: bool) -> Self {
        let () = Self::VALID;
        Self {
            arena: Arena(UnsafeCell::new([0; N])),
            recycle,
            id: AtomicUsize::new(0),
            cursor: ChunkCursor::new(),
            records: [const { Record::new() }; MAX_THREADS],
            claimed: AtomicUsize::new(0),
            fallbacks: AtomicUsize::new(0),
        }
    }

    /// Whether frees are recycled ([`new`](Self::new)) or not
    /// ([`bump_only`](Self::bump_only)).
    pub const fn recycles(&self) -> bool {
        self.recycle
    }

    /// The arena's size in bytes.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Bytes handed out as chunks so far (at most `capacity`).
    pub fn used(&self) -> usize {
        self.cursor.taken().min(N)
    }

    /// Chunks handed out so far.
    pub fn chunks_taken(&self) -> usize {
        self.used() / CHUNK
    }

    /// Threads that got a record (at most [`MAX_THREADS`]).
    pub fn threads(&self) -> usize {
        self.claimed.load(Ordering::Relaxed).min(MAX_THREADS)
    }

    /// Chunks the thread with record `record` has taken.
    pub fn thread_chunks(&self, record: usize) -> usize {
        self.records
            .get(record)
            .map_or(0, |r| r.chunks.load(Ordering::Relaxed))
    }

    /// Whether blocks freed by other threads wait for the thread with
    /// record `record`.
    pub fn remote_pending(&self, record: usize) -> bool {
        self.records
            .get(record)
            .is_some_and(|r| !r.remote.is_empty())
    }

    /// Requests that went to System.
    pub fn fallback_count(&self) -> usize {
        self.fallbacks.load(Ordering::Relaxed)
    }

    /// A pointer to the arena's first byte, valid for all `N` bytes.
    ///
    /// A program may write bytes past [`used`](Self::used) (to take their
    /// page faults ahead of time) while no thread allocates from this
    /// instance, if the writes happen before the allocations that hand
    /// those bytes out (a spawn or a join in between).
    pub fn arena_ptr(&self) -> *mut u8 {
        self.arena.0.get().cast::<u8>()
    }

    /// The offset of `ptr` in the arena, or `None` if it is not an arena
    /// address.
    pub fn arena_offset(&self, ptr: *const u8) -> Option<usize> {
        let offset = ptr.addr().checked_sub(self.arena_ptr().addr())?;
        (offset < N).then_some(offset)
    }

    /// The record of the thread whose chunk holds `ptr`, or `None` if `ptr`
    /// is not in a chunk handed out.
    pub fn owner_of(&self, ptr: *const u8) -> Option<usize> {
        let offset = self.arena_offset(ptr)?;
        if offset >= self.used() {
            return None;
        }
        // SAFETY: the chunk was handed out (below `used`), so its owner wrote
        // the header before it handed out any block of it; a caller holding
        // a pointer into the chunk got it after that.
        Some(unsafe { self.chunk_owner(offset) })
    }

    /// The calling thread's statistics for this arena, or `None` if it has
    /// not allocated from it (or has moved on to another arena).
    pub fn local_stats(&self) -> Option<LocalStats> {
        LOCAL
            .try_with(|local| {
                if local.arena.get() != self.id.load(Ordering::Relaxed) || local.arena.get() == 0 {
                    return None;
                }
                let mut stats = LocalStats {
                    record: local.record.get(),
                    chunks: local.chunks.get(),
                    bumped: local.bumped.get(),
                    recycled: local.recycled.get(),
                    remote_frees: local.remote_frees.get(),
                    taken_back: local.taken_back.get(),
                    chunk_left: local.end.get().saturating_sub(local.next.get()),
                    tail_bytes: local.tail_bytes.get(),
                    ..LocalStats::default()
                };
                for (class, head) in local.free.iter().enumerate() {
                    let mut block = head.get();
                    while !block.is_null() {
                        stats.cached_blocks += 1;
                        stats.cached_bytes += class_size(class);
                        // SAFETY: blocks on this thread's lists are this
                        // thread's (see `pop_free`); their first word is
                        // the link this thread wrote.
                        block = unsafe { block.cast::<*mut FreeBlock>().read() };
                    }
                }
                Some(stats)
            })
            .ok()
            .flatten()
    }

    /// This arena's id, assigned on first use.
    fn id(&self) -> usize {
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 { id } else { self.assign_id() }
    }

    #[cold]
    fn assign_id(&self) -> usize {
        let fresh = NEXT_ARENA_ID.fetch_add(1, Ordering::Relaxed);
        match self
            .id
            .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => fresh,
            Err(existing) => existing,
        }
    }

    /// Binds the calling thread's cells to this arena: a record, no chunk
    /// yet, empty lists. Whatever the cells held for another arena stays
    /// there, unreachable (stranded).
    #[cold]
    fn bind(&self, local: &Local) {
        let record = if self.claimed.load(Ordering::Relaxed) < MAX_THREADS {
            self.claimed.fetch_add(1, Ordering::Relaxed)
        } else {
            NO_RECORD
        };
        local.record.set(if record < MAX_THREADS {
            record
        } else {
            NO_RECORD
        });
        local.next.set(0);
        local.end.set(0);
        for head in &local.free {
            head.set(null_mut());
        }
        for counter in [
            &local.chunks,
            &local.bumped,
            &local.recycled,
            &local.remote_frees,
            &local.taken_back,
            &local.tail_bytes,
        ] {
            counter.set(0);
        }
        local.arena.set(self.id());
    }

    /// The owner record written in the header of the chunk holding `offset`.
    ///
    /// # Safety
    ///
    /// The chunk has been handed out, and its header write happens before
    /// this call (the caller holds a block of the chunk, which it got from
    /// the owner after the write).
    unsafe fn chunk_owner(&self, offset: usize) -> usize {
        let chunk = offset - offset % CHUNK;
        // SAFETY: `chunk + 8 <= N` (a chunk is at least 256 bytes and lies
        // in the arena), the arena is 4096-aligned and `chunk` a multiple of
        // CHUNK, so the read is in bounds and aligned; the caller guarantees
        // the write happened before.
        unsafe { self.arena_ptr().add(chunk).cast::<usize>().read() }
    }

    // ANCHOR: take_chunk
    /// Gives the calling thread a fresh chunk: one atomic operation, then
    /// the header. `false` when the arena has no chunk left.
    #[cold]
    fn take_chunk(&self, local: &Local, record: usize) -> bool {
        let Some(start) = self.cursor.take(CHUNK, N) else {
            return false;
        };
        // SAFETY: `take` gave `start..start + CHUNK` (inside the arena) to
        // this call alone, and it is aligned to 8 (see `chunk_owner`). No
        // block of the chunk exists yet, so nobody else reads the header
        // before a block of the chunk reaches them, after this write.
        unsafe { self.arena_ptr().add(start).cast::<usize>().write(record) };
        local
            .tail_bytes
            .set(local.tail_bytes.get() + (local.end.get() - local.next.get()));
        local.next.set(start + CHUNK_HEADER);
        local.end.set(start + CHUNK);
        local.chunks.set(local.chunks.get() + 1);
        // Only this thread writes its count: a load and a store, no lock.
        let chunks = &self.records[record].chunks;
        chunks.store(chunks.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        true
    }
    // ANCHOR_END: take_chunk

    // ANCHOR: bump
    /// Carves a block of class `class` from the thread's chunk, taking a new
    /// chunk when it is full. Null when the arena is exhausted.
    fn bump(&self, local: &Local, record: usize, class: usize) -> *mut u8 {
        let size = class_size(class);
        let base = self.arena_ptr().addr();
        loop {
            let next = local.next.get();
            // Align the address (a block is aligned to its class size).
            // `next` lies inside the arena, so neither step overflows for
            // any arena that fits in memory; a `None` would only mean "does
            // not fit".
            let start = align_up(base + next, size).map(|addr| addr - base);
            if let Some(start) = start.filter(|&s| s + size <= local.end.get()) {
                local.next.set(start + size);
                local.bumped.set(local.bumped.get() + 1);
                // SAFETY: `start + size <= end <= N`: inside the arena, in
                // this thread's chunk, past every block it carved before.
                return unsafe { self.arena_ptr().add(start) };
            }
            if !self.take_chunk(local, record) {
                return null_mut();
            }
        }
    }
    // ANCHOR_END: bump

    // ANCHOR: alloc_small
    /// A block of class `class` for the calling thread, or null (then the
    /// caller falls back to System).
    #[inline]
    fn alloc_small(&self, local: &Local, class: usize) -> *mut u8 {
        if local.arena.get() != self.id() {
            self.bind(local);
        }
        let record = local.record.get();
        if record == NO_RECORD {
            return null_mut();
        }
        if self.recycle {
            if let Some(block) = self.pop_free(local, class) {
                return block;
            }
            // Our own list is empty: take what other threads freed for us,
            // in one swap, if there is anything.
            let remote = &self.records[record].remote;
            if !remote.is_empty() {
                self.take_back(local, remote);
                if let Some(block) = self.pop_free(local, class) {
                    return block;
                }
            }
        }
        self.bump(local, record, class)
    }

    /// The head of this thread's list for `class`, unlinked.
    #[inline]
    fn pop_free(&self, local: &Local, class: usize) -> Option<*mut u8> {
        let head = local.free[class].get();
        if head.is_null() {
            return None;
        }
        // SAFETY: every block on this list is this thread's alone: it was
        // pushed by `dealloc` on this thread (program order puts the free,
        // and the link written then, before this read) or by `take_back`,
        // after the `Acquire` swap that makes the freeing thread's writes
        // visible. Its first word is the link.
        let next = unsafe { head.cast::<*mut FreeBlock>().read() };
        local.free[class].set(next);
        local.recycled.set(local.recycled.get() + 1);
        Some(head.cast::<u8>())
    }

    /// Moves every block of `remote` to this thread's own lists.
    #[cold]
    fn take_back(&self, local: &Local, remote: &RemoteList) {
        for (block, class) in remote.take_all() {
            let head = &local.free[class];
            // SAFETY: `take_all` handed the block to this thread (its
            // `Acquire` swap orders the freeing thread's writes before
            // this one), and it has read the block's old link already.
            unsafe { block.cast::<*mut FreeBlock>().write(head.get()) };
            head.set(block.cast::<FreeBlock>());
            local.taken_back.set(local.taken_back.get() + 1);
        }
    }
    // ANCHOR_END: alloc_small

    /// Serves a request the arena does not.
    ///
    /// # Safety
    ///
    /// `layout` has a non-zero size.
    #[cold]
    unsafe fn fallback(&self, layout: Layout) -> *mut u8 {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller guarantees a non-zero size.
        unsafe { System.alloc(layout) }
    }
}

impl<const N: usize, const CHUNK: usize> Default for ThreadCache<N, CHUNK> {
    fn default() -> Self {
        Self::new()
    }
}

// ANCHOR: global_alloc
// SAFETY: `alloc` returns null, a dangling aligned pointer for a zero-size
// layout, a System block, or a block of the layout's class: at least
// `size` bytes, aligned to the class size (at least `align`), in a chunk
// only the calling thread carves, and either never handed out before or
// freed since (see `Sync` for the happens-before). `dealloc` routes by
// address: System blocks back to System, arena blocks to the list of the
// thread that owns their chunk.
unsafe impl<const N: usize, const CHUNK: usize> GlobalAlloc for ThreadCache<N, CHUNK> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() == 0 {
            return ptr::without_provenance_mut(layout.align());
        }
        if let Some(class) = size_class(layout, largest_class(CHUNK)) {
            // `try_with` cannot fail for a thread-local without destructor;
            // if it ever did, System serves the request.
            let block = LOCAL
                .try_with(|local| self.alloc_small(local, class))
                .unwrap_or(null_mut());
            if !block.is_null() {
                return block;
            }
        }
        // SAFETY: `layout.size() != 0`.
        unsafe { self.fallback(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if layout.size() == 0 {
            return;
        }
        let Some(offset) = self.arena_offset(ptr) else {
            // SAFETY: not an arena address and not zero-sized: it came from
            // `fallback`, i.e. `System.alloc(layout)`, and is freed once.
            unsafe { System.dealloc(ptr, layout) };
            return;
        };
        let Some(class) = size_class(layout, largest_class(CHUNK)) else {
            return; // Not reachable: only class-sized requests get arena blocks.
        };
        if !self.recycle {
            return; // The bump allocator frees nothing.
        }
        // SAFETY: `ptr` is a block of a chunk handed out, which the caller
        // got after the owner wrote the chunk's header.
        let owner = unsafe { self.chunk_owner(offset) };
        let mine = LOCAL
            .try_with(|local| {
                if local.arena.get() != self.id.load(Ordering::Relaxed)
                    || local.record.get() != owner
                {
                    return false;
                }
                let head = &local.free[class];
                // SAFETY: the block is ours (our chunk) and freed: nobody
                // uses it any more, and its first 16 bytes are free to hold
                // the link.
                unsafe { ptr.cast::<*mut FreeBlock>().write(head.get()) };
                head.set(ptr.cast::<FreeBlock>());
                true
            })
            .unwrap_or(false);
        if mine {
            return;
        }
        // Another thread's block: onto its remote list. (Counted for a
        // thread that allocates here too; a thread that only frees has no
        // cells for this arena and needs none.)
        let _ = LOCAL.try_with(|local| {
            if local.arena.get() == self.id.load(Ordering::Relaxed) {
                local.remote_frees.set(local.remote_frees.get() + 1);
            }
        });
        // SAFETY: the block has at least 16 bytes (MIN_CLASS), is aligned to
        // its class size (at least 16), and the caller no longer uses it.
        unsafe { self.records[owner].remote.push(ptr, class) };
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Same class: the block already has room (and its alignment).
        if layout.size() != 0 && self.arena_offset(ptr).is_some() {
            let largest = largest_class(CHUNK);
            let new_class = Layout::from_size_align(new_size, layout.align())
                .ok()
                .and_then(|new| size_class(new, largest));
            if new_class.is_some() && new_class == size_class(layout, largest) {
                return ptr;
            }
        }
        // Otherwise what the default does: a new block, a copy, a free.
        // SAFETY: the caller guarantees `new_size` is non-zero and, rounded
        // up to `layout.align()`, fits in `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has a non-zero size.
        let new_ptr = unsafe { self.alloc(new_layout) };
        if !new_ptr.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not
            // overlap (the old one is still live); then the old one is freed
            // once, with its layout.
            unsafe {
                ptr::copy_nonoverlapping(ptr, new_ptr, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new_ptr
    }
}
// ANCHOR_END: global_alloc
