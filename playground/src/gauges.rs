//! Widget 1, the heap gauges: actions that allocate, and the counters of
//! the global allocator that watched them.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::input::{InputError, bounded};

/// The most items one action adds, and the most the page holds at once:
/// enough to see growth, few enough that the page stays small.
pub const MAX_ITEMS: usize = 1_000_000;

/// What the page keeps alive between actions.
#[derive(Default)]
struct Held {
    numbers: Vec<u64>,
    strings: Vec<String>,
}

thread_local! {
    static HELD: RefCell<Held> = const {
        RefCell::new(Held { numbers: Vec::new(), strings: Vec::new() })
    };
}

/// The global allocator's counters, and what the page holds.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug)]
pub struct Gauges {
    pub live_bytes: usize,
    pub peak_bytes: usize,
    pub alloc_calls: usize,
    pub dealloc_calls: usize,
    pub realloc_calls: usize,
    /// `u64`s in the held `Vec`, and the capacity its buffer has room for.
    pub held_u64s: usize,
    pub held_u64_capacity: usize,
    pub held_strings: usize,
}

/// Reads the gauges.
#[wasm_bindgen]
pub fn gauges() -> Gauges {
    let (held_u64s, held_u64_capacity, held_strings) = HELD.with_borrow(|held| {
        (
            held.numbers.len(),
            held.numbers.capacity(),
            held.strings.len(),
        )
    });
    let tracker = crate::tracker();
    Gauges {
        live_bytes: tracker.live_bytes(),
        peak_bytes: tracker.peak_bytes(),
        alloc_calls: tracker.alloc_calls(),
        dealloc_calls: tracker.dealloc_calls(),
        realloc_calls: tracker.realloc_calls(),
        held_u64s,
        held_u64_capacity,
        held_strings,
    }
}

/// Pushes `count` `u64`s, one at a time, so the `Vec` grows (and
/// reallocates) the way it does in real code.
#[wasm_bindgen]
pub fn push_u64s(count: &str) -> Result<Gauges, InputError> {
    HELD.with_borrow_mut(|held| {
        let count = item_count(count, held.numbers.len())?;
        let start = held.numbers.len() as u64;
        for n in start..start + count as u64 {
            held.numbers.push(n);
        }
        Ok(())
    })?;
    Ok(gauges())
}

/// Builds `count` strings, each its own heap allocation.
#[wasm_bindgen]
pub fn build_strings(count: &str) -> Result<Gauges, InputError> {
    HELD.with_borrow_mut(|held| {
        let count = item_count(count, held.strings.len())?;
        let start = held.strings.len();
        held.strings
            .extend((start..start + count).map(|n| format!("string number {n}")));
        Ok(())
    })?;
    Ok(gauges())
}

/// Drops everything the page holds, buffers included.
#[wasm_bindgen]
pub fn drop_all() -> Gauges {
    HELD.take();
    gauges()
}

/// Starts the peak over from the current live bytes.
#[wasm_bindgen]
pub fn reset_peak() -> Gauges {
    crate::tracker().reset_peak();
    gauges()
}

/// A count from the page that keeps the total held at most [`MAX_ITEMS`].
fn item_count(text: &str, already_held: usize) -> Result<usize, InputError> {
    let room = MAX_ITEMS.saturating_sub(already_held);
    if room == 0 {
        return Err(InputError::new(format!(
            "the page already holds {already_held} items (its limit is {MAX_ITEMS}): drop them first"
        )));
    }
    let why = format!("the page holds at most {MAX_ITEMS} items of a kind");
    bounded("count", text, 1, room, &why)
}
