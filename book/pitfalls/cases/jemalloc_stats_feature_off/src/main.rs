//~ ERROR E0432 unresolved import `tikv_jemalloc_ctl::stats`
use tikv_jemalloc_ctl::{epoch, stats};
use tikv_jemallocator::Jemalloc;

#[global_allocator]
static GLOBAL: Jemalloc = Jemalloc;

fn main() {
    let _big = vec![0_u8; 1 << 20];
    epoch::advance().expect("jemalloc refreshes its statistics");
    let allocated = stats::allocated::read().expect("jemalloc reports allocated bytes");
    println!("allocated: {allocated} bytes");
}
