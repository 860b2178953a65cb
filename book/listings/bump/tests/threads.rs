//! Two threads bumping one shared arena at the same time. Alone in its test
//! binary because it uses a `static` instance.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::Barrier;
use std::thread;

use bump::BumpAlloc;

const PER_THREAD: usize = 100_000;
/// Too small for everything, so both threads also hit the fallback.
const ARENA: usize = 2 << 20;

static SHARED: BumpAlloc<ARENA> = BumpAlloc::new();

/// A block as seen by the thread that got it. The address is exposed so the
/// main thread can turn it back into a pointer to free it.
struct Got {
    addr: usize,
    layout: Layout,
}

/// A deterministic spread of sizes 1..=24 and alignments 1..=32.
fn layout_for(thread: usize, i: usize) -> Layout {
    let mixed = (i.wrapping_mul(2_654_435_761) ^ thread.wrapping_mul(40_503)) >> 3;
    Layout::from_size_align(1 + mixed % 24, 1 << ((mixed >> 5) % 6)).unwrap()
}

#[test]
fn two_threads_get_disjoint_aligned_blocks() {
    let start = Barrier::new(2);
    let per_thread: Vec<Vec<Got>> = thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let start = &start;
                scope.spawn(move || {
                    let mut got = Vec::with_capacity(PER_THREAD);
                    start.wait();
                    for i in 0..PER_THREAD {
                        let layout = layout_for(t, i);
                        // SAFETY: every layout above has a non-zero size.
                        let ptr = unsafe { SHARED.alloc(layout) };
                        assert!(!ptr.is_null());
                        got.push(Got {
                            addr: ptr.expose_provenance(),
                            layout,
                        });
                    }
                    got
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });

    let all: Vec<&Got> = per_thread.iter().flatten().collect();
    assert_eq!(all.len(), 2 * PER_THREAD);
    assert!(
        all.iter().all(|g| g.addr % g.layout.align() == 0),
        "misaligned block"
    );

    let mut arena: Vec<(usize, usize)> = Vec::new();
    let mut fallbacks = 0;
    for got in &all {
        match SHARED.arena_offset(std::ptr::without_provenance(got.addr)) {
            Some(offset) => {
                assert!(offset + got.layout.size() <= ARENA);
                arena.push((offset, offset + got.layout.size()));
            }
            None => fallbacks += 1,
        }
    }
    assert!(arena.len() > 10_000, "the arena served too few blocks");
    assert!(fallbacks > 0, "the arena never ran out; make it smaller");
    arena.sort_unstable();
    for pair in arena.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "blocks {pair:?} overlap");
    }
    assert_eq!(SHARED.fallback_count(), fallbacks);
    assert_eq!(SHARED.fallback_live(), fallbacks);
    let arena_bytes: usize = arena.iter().map(|(start, end)| end - start).sum();
    assert_eq!(SHARED.used(), arena_bytes + SHARED.padding_wasted());

    for got in all {
        if SHARED
            .arena_offset(std::ptr::without_provenance(got.addr))
            .is_none()
        {
            // SAFETY: `got` came from `SHARED.alloc(got.layout)`, is freed
            // once, and is not used again.
            unsafe { SHARED.dealloc(std::ptr::with_exposed_provenance_mut(got.addr), got.layout) };
        }
    }
    assert_eq!(SHARED.fallback_live(), 0);
}
