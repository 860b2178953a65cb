//! Widget 2, the bump arena map: allocations from a small [`BumpAlloc`]
//! instance (not the global allocator), drawn as used, padding and free bytes.

use std::alloc::{GlobalAlloc, Layout};
use std::ptr::NonNull;

use bump::BumpAlloc;
use wasm_bindgen::prelude::*;

use crate::input::{InputError, bounded};

/// The arena's size: small enough to draw byte by byte, big enough for a
/// few dozen blocks.
pub const ARENA_BYTES: usize = 4096;
/// The largest block the widget asks for: bigger than the arena, so the
/// System fallback can be seen, but bounded so a typo cannot claim gigabytes.
pub const MAX_BLOCK: usize = 16 * ARENA_BYTES;
/// The largest alignment offered: the arena's own size.
pub const MAX_ALIGN: usize = ARENA_BYTES;
/// Blocks the map remembers before it asks for a reset.
pub const MAX_BLOCKS: usize = 256;

/// One allocation, as the map draws it.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub size: usize,
    pub align: usize,
    /// Where it starts in the arena; `None` for a System fallback block.
    pub offset: Option<usize>,
    /// Bytes skipped before it to reach an aligned address (0 for fallbacks).
    pub padding_before: usize,
}

/// An arena owned by the page, with the blocks taken from it.
#[wasm_bindgen]
pub struct ArenaMap {
    bump: Box<BumpAlloc<ARENA_BYTES>>,
    blocks: Vec<Block>,
    /// Every non-null pointer handed out, to give fallback blocks back.
    taken: Vec<(NonNull<u8>, Layout)>,
}

#[wasm_bindgen]
impl ArenaMap {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)] // JavaScript calls `new ArenaMap()`.
    pub fn new() -> ArenaMap {
        ArenaMap {
            bump: Box::new(BumpAlloc::new()),
            blocks: Vec::new(),
            taken: Vec::new(),
        }
    }

    /// Allocates `size` bytes aligned to `align` (text from the page).
    pub fn alloc(&mut self, size: &str, align: &str) -> Result<Block, InputError> {
        let size = bounded(
            "size",
            size,
            1,
            MAX_BLOCK,
            "a GlobalAlloc request must not be empty; this page caps blocks at 16 arenas",
        )?;
        let align = bounded(
            "alignment",
            align,
            1,
            MAX_ALIGN,
            "this page caps alignments at the arena size",
        )?;
        // The explorer's wording for a `(size, align)` that is not a `Layout`.
        let layout = crate::layout_rules::explore(size, align)
            .map_err(|problem| InputError::new(problem.to_string()))?
            .to_layout()
            .ok_or_else(|| {
                InputError::new(format!(
                    "size {size} with alignment {align} is not a valid Layout"
                ))
            })?;
        if self.blocks.len() >= MAX_BLOCKS {
            return Err(InputError::new(format!(
                "the map already shows {MAX_BLOCKS} blocks: press reset to start over"
            )));
        }
        let used_before = self.bump.used();
        // SAFETY: `layout` has a non-zero size (checked above). The block is
        // only recorded, never read or written, and goes back to
        // `self.bump.dealloc` with this same layout in `release_all`.
        let ptr = unsafe { self.bump.alloc(layout) };
        let ptr = NonNull::new(ptr).ok_or_else(|| {
            InputError::new(format!(
                "the System fallback could not provide {size} bytes aligned to {align}"
            ))
        })?;
        let offset = self.bump.arena_offset(ptr.as_ptr());
        let block = Block {
            size,
            align,
            offset,
            padding_before: offset.map_or(0, |start| start.saturating_sub(used_before)),
        };
        self.taken.push((ptr, layout));
        self.blocks.push(block);
        Ok(block)
    }

    /// The blocks, oldest first.
    pub fn blocks(&self) -> Vec<Block> {
        self.blocks.clone()
    }

    pub fn capacity(&self) -> usize {
        self.bump.capacity()
    }

    /// Arena bytes consumed, padding included.
    pub fn used(&self) -> usize {
        self.bump.used()
    }

    pub fn padding_wasted(&self) -> usize {
        self.bump.padding_wasted()
    }

    pub fn fallback_count(&self) -> usize {
        self.bump.fallback_count()
    }

    /// The arena base's address modulo 4096: why large alignments can need
    /// padding even at offset 0.
    pub fn base_mod_4096(&self) -> usize {
        self.bump.base_addr() % 4096
    }

    /// Frees the fallback blocks and starts the arena over.
    pub fn reset(&mut self) {
        self.release_all();
        // SAFETY: `release_all` forgot every block taken from this arena,
        // none of them was ever dereferenced, and the page runs one thread.
        unsafe { self.bump.reset() };
    }

    fn release_all(&mut self) {
        self.blocks.clear();
        for (ptr, layout) in self.taken.drain(..) {
            // SAFETY: `ptr` came from `self.bump.alloc(layout)` and is
            // released exactly once (drained from the list).
            unsafe { self.bump.dealloc(ptr.as_ptr(), layout) };
        }
    }
}

impl Drop for ArenaMap {
    fn drop(&mut self) {
        self.release_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_blocks_are_aligned_and_padding_is_counted() {
        let mut map = ArenaMap::new();
        map.alloc("1", "1").expect("one byte fits");
        let block = map.alloc("24", "64").expect("24 bytes fit");
        let offset = block.offset.expect("the block is in the arena");
        assert_eq!((map.bump.base_addr() + offset) % 64, 0);
        assert_eq!(block.padding_before, offset - 1);
        assert_eq!(map.padding_wasted(), block.padding_before);
        assert_eq!(map.used(), offset + 24);
    }

    #[test]
    fn too_big_goes_to_the_fallback_and_reset_frees_it() {
        let mut map = ArenaMap::new();
        let block = map
            .alloc(&(ARENA_BYTES + 1).to_string(), "8")
            .expect("fallback serves it");
        assert_eq!(block.offset, None);
        assert_eq!(map.fallback_count(), 1);
        assert_eq!(map.bump.fallback_live(), 1);
        map.reset();
        assert_eq!(map.bump.fallback_live(), 0);
        assert_eq!(
            (map.used(), map.fallback_count(), map.blocks().len()),
            (0, 0, 0)
        );
    }

    #[test]
    fn bad_input_is_an_error_and_changes_nothing() {
        let mut map = ArenaMap::new();
        for (size, align, expected) in [
            ("8", "3", "not a power of two"),
            ("0", "8", "must not be empty"),
            ("8", "0", "between 1 and"),
            ("99999999999999999999999", "8", "does not fit in a usize"),
            ("x", "8", "whole number"),
        ] {
            let err = map.alloc(size, align).expect_err("bad input");
            assert!(err.to_string().contains(expected), "{size}/{align}: {err}");
        }
        assert_eq!((map.used(), map.blocks().len()), (0, 0));
    }
}
