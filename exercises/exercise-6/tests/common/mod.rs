//! What the pool tests share: a region to build pools over, layouts, and
//! allocation helpers that explain an unsolved stub.

// Each test file uses some of these helpers, not all.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::ptr::NonNull;

use exercise_6::Pool;

pub const NOT_SOLVED: &str = "not solved yet (or a bug): a small block did not come from the \
     pool's region — see the chapter \"Reusing memory: size classes and free lists\", or run \
     `cargo workbook hint 6`";

/// Backing memory for one pool, aligned to the largest class so a region of
/// `n * 128` bytes holds exactly `n` blocks of 128. Freed when dropped.
pub struct Region {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Region {
    pub fn new(len: usize) -> Self {
        let layout = layout(len, 128);
        // SAFETY: `len` is never zero in these tests. (The test binary's
        // global allocator is `System`, not a pool under test.)
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(ptr) else {
            std::alloc::handle_alloc_error(layout)
        };
        Self { ptr, layout }
    }

    /// A pool over the whole region. Keep the region alive while the pool
    /// or any of its blocks is in use.
    pub fn pool(&self) -> Pool {
        // SAFETY: the region is `layout.size()` writable bytes used by
        // nothing but this pool, and every test drops its pool (and stops
        // using its blocks) before the region.
        unsafe { Pool::new(self.ptr.as_ptr(), self.layout.size()) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

// SAFETY: `Region` only hands out its pointer to build a pool; the bytes are
// reached through the pool's blocks, whose tests synchronise them.
unsafe impl Send for Region {}
// SAFETY: as for `Send`: `&Region` gives no access to the bytes.
unsafe impl Sync for Region {}

/// A fresh region and a pool over it, for one round of a race test. The
/// pool is declared first, so it is dropped before its region.
pub struct Fresh {
    pub pool: Pool,
    _region: Region,
}

impl Fresh {
    pub fn new(len: usize) -> Self {
        let region = Region::new(len);
        Self {
            pool: region.pool(),
            _region: region,
        }
    }
}

pub fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).expect("a valid layout")
}

/// Allocates from `pool`; the pool falls back to `System`, so never null.
pub fn alloc(pool: &Pool, layout: Layout) -> *mut u8 {
    // SAFETY: every layout in these tests has a non-zero size.
    let ptr = unsafe { pool.alloc(layout) };
    assert!(
        !ptr.is_null(),
        "the pool falls back to System, so it never returns null here"
    );
    ptr
}

/// Allocates a block that must come from the pool's region.
pub fn alloc_small(pool: &Pool, layout: Layout) -> *mut u8 {
    let ptr = alloc(pool, layout);
    assert!(pool.owns(ptr), "{NOT_SOLVED}");
    ptr
}
