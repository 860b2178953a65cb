//~ ERROR conflicts with global allocator in: chooser
// The application picks its own allocator, as it should.
use std::alloc::System;

#[global_allocator]
static APPLICATION_CHOICE: System = System;

fn main() {
    println!("{:?}", chooser::helper());
}
