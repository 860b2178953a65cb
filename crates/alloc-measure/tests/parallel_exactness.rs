//! `measure` must be exact while other threads allocate at the same time,
//! which is what the default parallel `cargo test` runner does.

use std::alloc::System;
use std::hint::black_box;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use alloc_measure::{PerThread, measure, measure_with};

#[global_allocator]
static GLOBAL: PerThread<System> = PerThread(System);

#[test]
fn a_vec_of_1000_u64_is_exactly_8000_bytes() {
    let stats = measure(|| {
        let v: Vec<u64> = black_box((0..1000).collect());
        drop(v);
    });
    assert_eq!(stats.allocs, 1);
    assert_eq!(stats.deallocs, 1);
    assert_eq!(stats.bytes_allocated, 8000);
    assert_eq!(stats.bytes_freed, 8000);
    assert_eq!(stats.peak_live, 8000);
    assert_eq!(stats.net_bytes(), 0);
}

#[test]
fn returned_value_is_still_live() {
    let (v, stats) = measure_with(|| black_box(vec![1u32; 250]));
    assert_eq!(v.len(), 250);
    assert_eq!(stats.bytes_allocated, 1000);
    assert_eq!(stats.net_bytes(), 1000);
}

#[test]
fn growth_goes_through_realloc_and_stays_exact() {
    let stats = measure(|| {
        let mut v: Vec<u8> = Vec::with_capacity(16);
        for i in 0..100u8 {
            v.push(black_box(i));
        }
        v.shrink_to_fit();
        assert_eq!(v.capacity(), 100);
        drop(v);
    });
    assert_eq!(stats.allocs, 1);
    assert!(
        stats.reallocs >= 3,
        "16 -> 32 -> 64 -> 128 -> 100: {stats:?}"
    );
    assert_eq!(stats.net_bytes(), 0);
    assert_eq!(stats.peak_live, 128);
}

#[test]
fn peak_counts_from_the_start_of_the_measurement() {
    let already_live = vec![0u8; 4096];
    let stats = measure(|| {
        let a = black_box(vec![0u8; 100]);
        let b = black_box(vec![0u8; 300]);
        drop(a);
        drop(b);
        let c = black_box(vec![0u8; 50]);
        drop(c);
    });
    assert_eq!(stats.peak_live, 400);
    drop(already_live);
}

#[test]
fn nested_measurements_are_independent() {
    let outer = measure(|| {
        let _big = black_box(vec![0u8; 1000]);
        let inner = measure(|| drop(black_box(vec![0u8; 10])));
        assert_eq!(inner.bytes_allocated, 10);
        assert_eq!(inner.peak_live, 10);
    });
    assert_eq!(outer.bytes_allocated, 1010);
    assert_eq!(outer.peak_live, 1010);
}

#[test]
fn a_panicking_inner_measurement_leaves_the_outer_peak_intact() {
    let outer = measure(|| {
        // The outer high-water mark: 1000 bytes, already freed again.
        drop(black_box(vec![0u8; 1000]));
        let unwound = panic::catch_unwind(AssertUnwindSafe(|| {
            measure(|| {
                drop(black_box(vec![0u8; 10]));
                // `resume_unwind` skips the panic hook: no message, no
                // allocation for one.
                panic::resume_unwind(Box::new(()));
            })
        }));
        assert!(unwound.is_err(), "the inner closure panicked");
    });
    // Unwinding allocates a little (the exception object), well under
    // 1000 bytes. Without the restore the outer peak would be the inner
    // window's: 10 bytes plus that.
    assert!(
        outer.peak_live >= 1000,
        "the outer peak was lost to the panicking inner measurement: {outer:?}"
    );
}

/// Threads that allocate all the time while the test measures.
const NOISE_THREADS: usize = if cfg!(miri) { 2 } else { 8 };
/// Measurements taken while they do.
const MEASUREMENTS: usize = if cfg!(miri) { 4 } else { 2000 };

#[test]
fn exact_while_eight_threads_allocate_at_once() {
    let stop = Arc::new(AtomicBool::new(false));
    let running = Arc::new(AtomicUsize::new(0));
    let noise: Vec<_> = (0..NOISE_THREADS)
        .map(|t| {
            let stop = Arc::clone(&stop);
            let running = Arc::clone(&running);
            thread::spawn(move || {
                let mut churn = 0usize;
                running.fetch_add(1, Ordering::SeqCst);
                while !stop.load(Ordering::Relaxed) {
                    let s = black_box(format!("noise {t} {churn}"));
                    let v: Vec<u64> = black_box((0..(churn % 512) as u64).collect());
                    if cfg!(miri) {
                        // Miri runs one thread at a time: let the measuring
                        // thread have its turn.
                        thread::yield_now();
                    }
                    churn += s.len() + v.len();
                }
                churn
            })
        })
        .collect();

    // Measure only once every noise thread is allocating.
    while running.load(Ordering::SeqCst) < NOISE_THREADS {
        thread::yield_now();
    }
    for round in 0..MEASUREMENTS {
        let stats = measure(|| {
            let v: Vec<u64> = black_box((0..1000).collect());
            let boxed = black_box(Box::new([0u8; 24]));
            drop(boxed);
            drop(v);
        });
        assert_eq!(stats.allocs, 2, "round {round}: {stats:?}");
        assert_eq!(stats.bytes_allocated, 8024, "round {round}: {stats:?}");
        assert_eq!(stats.bytes_freed, 8024, "round {round}: {stats:?}");
    }

    stop.store(true, Ordering::Relaxed);
    for handle in noise {
        handle.join().unwrap();
    }
}

#[test]
fn other_threads_are_not_counted() {
    let stats = measure(|| {
        thread::scope(|s| {
            s.spawn(|| drop(black_box(vec![0u8; 1 << 20])));
        });
    });
    // Spawning a thread allocates a little on this thread, but the
    // mebibyte belongs to the spawned thread.
    assert!(stats.bytes_allocated < 1 << 20, "{stats:?}");
}
