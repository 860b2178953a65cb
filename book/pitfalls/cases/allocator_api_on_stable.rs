//~ ERROR E0658 use of unstable library feature `allocator_api`
// A per-collection allocator, as seen in nightly-only examples.
use std::alloc::System;

fn main() {
    let mut scratch = Vec::new_in(System);
    scratch.push(1_u8);
}
