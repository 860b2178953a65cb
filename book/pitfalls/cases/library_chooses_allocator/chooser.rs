// A library that picks the process allocator for everyone who links it.
use std::alloc::System;

#[global_allocator]
static LIBRARY_CHOICE: System = System;

pub fn helper() -> Vec<u8> {
    vec![1, 2, 3]
}
