//~ ERROR E0277 the trait bound `Arena: GlobalAlloc` is not satisfied
// An arena type that was never taught to be an allocator.
struct Arena {
    _capacity: usize,
}

#[global_allocator]
static ARENA: Arena = Arena { _capacity: 4096 };

fn main() {}
