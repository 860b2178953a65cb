//~ ERROR cannot define multiple global allocators
// A snippet pasted into a crate that already chose its allocator.
use std::alloc::System;

#[global_allocator]
static CHOSEN_FIRST: System = System;

#[global_allocator]
static PASTED_LATER: System = System;

fn main() {}
