//! The thread-cache chapter's program: chunks handed to threads, blocks
//! recycled on one thread, a block freed by another thread coming home, and
//! what a thread that exits leaves behind.
//!
//! The cache here is a plain `static`, not the global allocator, so the
//! numbers count only the program's own requests, not the runtime's.

use std::alloc::{GlobalAlloc, Layout};
use std::thread;

use thread_cache::{DEFAULT_CHUNK, LocalStats, ThreadCache};

const ARENA: usize = 1 << 20;

// ANCHOR: static
static CACHE: ThreadCache<ARENA> = ThreadCache::new();
// ANCHOR_END: static

/// A pointer moved to another thread by `spawn` or `join`, which order
/// everything before the move before everything after it.
struct Sent(*mut u8);
// SAFETY: see above.
unsafe impl Send for Sent {}

impl Sent {
    /// Taking the pointer out by a method moves the whole `Sent` into a
    /// closure (a closure that named only the field would capture the bare
    /// pointer, which is not `Send`).
    fn into_ptr(self) -> *mut u8 {
        self.0
    }
}

fn block(size: usize) -> Layout {
    Layout::from_size_align(size, 8).expect("a valid layout")
}

fn alloc(layout: Layout) -> *mut u8 {
    // SAFETY: every layout here has a non-zero size.
    let ptr = unsafe { CACHE.alloc(layout) };
    assert!(!ptr.is_null(), "the arena and System both failed");
    ptr
}

/// # Safety
/// `ptr` came from `alloc(layout)` and is not used again.
unsafe fn free(ptr: *mut u8, layout: Layout) {
    // SAFETY: the caller's guarantee.
    unsafe { CACHE.dealloc(ptr, layout) }
}

fn stats() -> LocalStats {
    CACHE.local_stats().expect("this thread has allocated")
}

fn main() {
    chunks_per_thread();
    recycling();
    remote_free();
    stranded();
}

// ANCHOR: chunks
/// Three threads allocate 5000 blocks of 32 bytes each, at the same time.
fn chunks_per_thread() {
    println!(
        "Part 1: a chunk per thread ({} KiB chunks)",
        DEFAULT_CHUNK / 1024
    );
    let per_thread: Vec<LocalStats> = thread::scope(|s| {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let layout = block(32);
                    let blocks: Vec<Sent> = (0..5000).map(|_| Sent(alloc(layout))).collect();
                    let stats = stats();
                    for Sent(ptr) in blocks {
                        // SAFETY: from `alloc(layout)`, freed once.
                        unsafe { free(ptr, layout) };
                    }
                    stats
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect()
    });
    for (i, s) in per_thread.iter().enumerate() {
        println!(
            "  thread {}: {} blocks carved, {} chunks taken: {} atomic operations",
            i + 1,
            s.bumped,
            s.chunks,
            s.chunks
        );
    }
    println!(
        "  the arena handed out {} of its {} chunks",
        CACHE.chunks_taken(),
        ARENA / DEFAULT_CHUNK
    );
}
// ANCHOR_END: chunks

// ANCHOR: recycling
/// On this thread: 1000 blocks, all freed, then 1000 again.
fn recycling() {
    println!("Part 2: recycling on one thread");
    let layout = block(32);
    let first: Vec<*mut u8> = (0..1000).map(|_| alloc(layout)).collect();
    for &ptr in &first {
        // SAFETY: from `alloc(layout)`, freed once.
        unsafe { free(ptr, layout) };
    }
    let before = stats();
    println!(
        "  after 1000 allocations and 1000 frees: {} blocks ({} bytes) on this thread's free lists",
        before.cached_blocks, before.cached_bytes
    );
    let second: Vec<*mut u8> = (0..1000).map(|_| alloc(layout)).collect();
    let after = stats();
    let reused = second.iter().filter(|p| first.contains(p)).count();
    println!(
        "  1000 more: {} recycled, {} carved fresh; {reused} of them are addresses of the first 1000",
        after.recycled - before.recycled,
        after.bumped - before.bumped
    );
    for ptr in second {
        // SAFETY: from `alloc(layout)`, freed once.
        unsafe { free(ptr, layout) };
    }
}
// ANCHOR_END: recycling

// ANCHOR: remote
/// A block of this thread, freed by another one.
fn remote_free() {
    println!("Part 3: a free from another thread");
    let layout = block(48);
    let ptr = alloc(layout);
    let me = stats().record;
    let sent = Sent(ptr);
    thread::spawn(move || {
        let ptr = sent.into_ptr();
        // SAFETY: from `alloc(layout)` on the main thread, moved here by
        // `spawn`; freed once.
        unsafe { free(ptr, layout) };
    })
    .join()
    .expect("the freeing thread");
    println!(
        "  another thread freed it; blocks wait on the owner's remote list: {}",
        CACHE.remote_pending(me)
    );
    let before = stats();
    let again = alloc(layout);
    let after = stats();
    println!(
        "  the owner's next 48-byte request took back {} block: the same address: {}",
        after.taken_back - before.taken_back,
        again == ptr
    );
    // SAFETY: from `alloc(layout)`, freed once.
    unsafe { free(again, layout) };
}
// ANCHOR_END: remote

// ANCHOR: stranded
/// A thread that allocates, frees everything and exits.
fn stranded() {
    println!("Part 4: a thread exits");
    let chunks_before = CACHE.chunks_taken();
    let gone = thread::spawn(|| {
        let layout = block(32);
        let blocks: Vec<Sent> = (0..1000).map(|_| Sent(alloc(layout))).collect();
        for Sent(ptr) in blocks {
            // SAFETY: from `alloc(layout)`, freed once.
            unsafe { free(ptr, layout) };
        }
        stats()
    })
    .join()
    .expect("the exiting thread");
    println!(
        "  it held {} chunk: {} bytes on its free lists, {} bytes never carved",
        gone.chunks, gone.cached_bytes, gone.chunk_left
    );
    let next = thread::spawn(|| {
        let ptr = alloc(block(32));
        let stats = stats();
        let offset = CACHE.arena_offset(ptr).expect("an arena block");
        // SAFETY: from `alloc`, freed once.
        unsafe { free(ptr, block(32)) };
        (stats, offset / DEFAULT_CHUNK)
    })
    .join()
    .expect("the next thread");
    println!(
        "  the next thread got record {} (the exited one had {}) and chunk {}: a fresh one",
        next.0.record, gone.record, next.1
    );
    println!(
        "  chunks taken: {} before, {} now; stranded: {} bytes",
        chunks_before,
        CACHE.chunks_taken(),
        gone.chunks * DEFAULT_CHUNK
    );
}
// ANCHOR_END: stranded
