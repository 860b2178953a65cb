//! With `MiMalloc` as the global allocator, `Box` memory really comes from
//! mimalloc's heap.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_void;

use libmimalloc_sys::mi_is_in_heap_region;
use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn in_mimalloc_heap(ptr: *const u8) -> bool {
    // SAFETY: `mi_is_in_heap_region` only compares the address against
    // mimalloc's segment map; it never dereferences `ptr`.
    unsafe { mi_is_in_heap_region(ptr.cast::<c_void>()) }
}

#[test]
fn box_memory_is_in_mimallocs_heap_and_system_memory_is_not() {
    let boxed = Box::new([7u64; 32]);
    assert!(
        in_mimalloc_heap(boxed.as_ptr().cast()),
        "Box did not come from mimalloc"
    );

    let layout = Layout::new::<[u64; 32]>();
    // SAFETY: the layout has a non-zero size.
    let from_system = unsafe { System.alloc(layout) };
    assert!(!from_system.is_null());
    let owned_by_mimalloc = in_mimalloc_heap(from_system);
    // SAFETY: `from_system` came from `System.alloc(layout)`; freed once.
    unsafe { System.dealloc(from_system, layout) };
    assert!(
        !owned_by_mimalloc,
        "the control pointer from System was claimed by mimalloc"
    );
}
