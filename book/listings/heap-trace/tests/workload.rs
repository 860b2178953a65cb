//! The wrapper as the global allocator, around a counting allocator: the
//! trace of a known workload is exactly its calls, and the counting allocator
//! underneath sees exactly those calls and nothing from the recorder.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicPtr, Ordering};

use alloc_measure::{AllocStats, PerThread, measure};
use heap_trace::{Event, Kind, Trace, TraceAlloc};
use race_rounds::Rounds;

#[global_allocator]
static GLOBAL: TraceAlloc<PerThread<System>, 1024> = TraceAlloc::new(PerThread(System));

/// The (kind, size, align) of each event.
fn shapes(trace: &Trace) -> Vec<(Kind, usize, usize)> {
    trace
        .events
        .iter()
        .map(|e| (e.kind, e.size, e.align))
        .collect()
}

#[test]
fn vector_pushed_past_its_capacity_is_traced_call_by_call() {
    let ((), trace) = GLOBAL.record_this_thread(|| {
        let mut numbers: Vec<u64> = Vec::with_capacity(2);
        for n in 0..5 {
            numbers.push(black_box(n));
        }
        black_box(&numbers);
    });
    assert_eq!(trace.dropped, 0);
    assert_eq!(
        shapes(&trace),
        [
            (Kind::Alloc, 16, 8),
            (Kind::Realloc, 32, 8),
            (Kind::Realloc, 64, 8),
            (Kind::Dealloc, 64, 8),
        ]
    );
    let e = &trace.events;
    assert!(e[0].addr != 0);
    // Each realloc starts from the block before it, wherever it moved.
    assert_eq!((e[1].old_addr, e[1].old_size), (e[0].addr, 16));
    assert_eq!((e[2].old_addr, e[2].old_size), (e[1].addr, 32));
    assert!(e[1].addr != 0 && e[2].addr != 0);
    // And the vector's last block is the one freed.
    assert_eq!(e[3].addr, e[2].addr);
    assert!(e.iter().all(|e| e.thread == 1));
    let seqs: Vec<u64> = e.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
    assert_eq!(trace.live_bytes(), [16, 32, 64, 0]);
    assert_eq!(Trace::parse(&trace.to_json_lines()), Ok(trace.clone()));
}

#[test]
fn zeroed_vector_and_box_are_traced() {
    let (kept, trace) = GLOBAL.record_this_thread(|| {
        let zeros = black_box(vec![0u32; 100]);
        drop(zeros);
        black_box(Box::new([7u16; 3]))
    });
    assert_eq!(
        shapes(&trace),
        [
            (Kind::AllocZeroed, 400, 4),
            (Kind::Dealloc, 400, 4),
            (Kind::Alloc, 6, 2),
        ]
    );
    assert_eq!(trace.events[1].addr, trace.events[0].addr);
    assert_eq!(
        trace.events[2].addr,
        std::ptr::from_ref::<[u16; 3]>(&*kept).addr(),
        "the box still alive is the block recorded"
    );
    assert_eq!(trace.live_bytes(), [400, 0, 6]);
}

/// The calls of the workload below, as a counting allocator sees them.
const WORKLOAD: AllocStats = AllocStats {
    allocs: 2,
    deallocs: 2,
    reallocs: 2,
    bytes_allocated: 16 + 16 + 32 + 24,
    bytes_freed: 64 + 24,
    peak_live: 88,
};

/// A fixed sequence of calls straight to an allocator: a block grown twice,
/// a zeroed block, both freed.
fn workload(alloc: &impl GlobalAlloc) {
    let small = Layout::from_size_align(16, 8).expect("valid layout");
    let zeroed = Layout::from_size_align(24, 8).expect("valid layout");
    // SAFETY: non-zero sizes; every block is freed once with the layout (and
    // size) it has at that moment; `realloc` gets valid sizes.
    unsafe {
        let a = alloc.alloc(small);
        assert!(!a.is_null());
        let b = alloc.realloc(a, small, 32);
        assert!(!b.is_null());
        let c = alloc.realloc(b, Layout::from_size_align_unchecked(32, 8), 64);
        assert!(!c.is_null());
        let z = alloc.alloc_zeroed(zeroed);
        assert!(!z.is_null());
        alloc.dealloc(c, Layout::from_size_align_unchecked(64, 8));
        alloc.dealloc(z, zeroed);
    }
}

/// The check: the allocator under the recorder saw the workload's calls
/// and no more (a recorder that allocates would add calls of its own).
fn check_inner_saw_only_the_workload(seen: AllocStats) -> Result<(), String> {
    if seen == WORKLOAD {
        Ok(())
    } else {
        Err(format!(
            "the inner allocator saw {seen:?}, but the workload makes only {WORKLOAD:?}: \
             the recorder allocated"
        ))
    }
}

#[test]
fn recording_adds_no_calls_to_the_inner_allocator() {
    // Not recording: the baseline.
    let plain = measure(|| workload(&GLOBAL));
    assert_eq!(check_inner_saw_only_the_workload(plain), Ok(()));
    // Recording: still the same calls underneath.
    let (seen, trace) = GLOBAL.record_this_thread(|| measure(|| workload(&GLOBAL)));
    assert_eq!(check_inner_saw_only_the_workload(seen), Ok(()));
    assert_eq!(
        shapes(&trace),
        [
            (Kind::Alloc, 16, 8),
            (Kind::Realloc, 32, 8),
            (Kind::Realloc, 64, 8),
            (Kind::AllocZeroed, 24, 8),
            (Kind::Dealloc, 64, 8),
            (Kind::Dealloc, 24, 8),
        ]
    );
}

/// The mistake the check above must reject: a recorder that keeps its
/// events in nodes it allocates from the allocator it wraps.
struct AllocatingRecorder<A: GlobalAlloc> {
    inner: A,
    newest: AtomicPtr<Node>,
}

/// One recorded event of the wrong recorder, linked to the one before.
struct Node {
    previous: *mut Node,
    kind: Kind,
    addr: usize,
}

impl<A: GlobalAlloc> AllocatingRecorder<A> {
    fn record(&self, kind: Kind, addr: *mut u8) {
        // THE MISTAKE: an allocation for every event.
        // SAFETY: a non-zero size.
        let node = unsafe { self.inner.alloc(Layout::new::<Node>()) }.cast::<Node>();
        if node.is_null() {
            return;
        }
        let previous = self.newest.swap(node, Ordering::AcqRel);
        let addr = addr.addr();
        // SAFETY: a fresh, aligned node of the right size, ours alone.
        unsafe {
            node.write(Node {
                previous,
                kind,
                addr,
            })
        };
    }

    /// Frees every node; returns how many there were.
    fn clear(&self) -> usize {
        let mut count = 0;
        let mut node = self.newest.swap(std::ptr::null_mut(), Ordering::AcqRel);
        while !node.is_null() {
            // SAFETY: every node was written by `record` before it was
            // linked, and is read and freed once here.
            let Node {
                previous,
                kind,
                addr,
            } = unsafe { node.read() };
            black_box((kind, addr));
            // SAFETY: allocated by `record` with this layout.
            unsafe { self.inner.dealloc(node.cast(), Layout::new::<Node>()) };
            node = previous;
            count += 1;
        }
        count
    }
}

// SAFETY: forwards every call to `A` unchanged; the extra nodes are its own.
unsafe impl<A: GlobalAlloc> GlobalAlloc for AllocatingRecorder<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { self.inner.alloc(layout) };
        self.record(Kind::Alloc, ptr);
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        self.record(Kind::AllocZeroed, ptr);
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.record(Kind::Dealloc, ptr);
        // SAFETY: forwarded unchanged.
        unsafe { self.inner.dealloc(ptr, layout) };
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        self.record(Kind::Realloc, new);
        new
    }
}

#[test]
fn no_allocation_check_rejects_a_recorder_that_allocates() {
    let wrong = AllocatingRecorder {
        inner: PerThread(System),
        newest: AtomicPtr::new(std::ptr::null_mut()),
    };
    let seen = measure(|| workload(&wrong));
    assert_eq!(wrong.clear(), 6, "one node per call");
    let error = check_inner_saw_only_the_workload(seen).expect_err("must be rejected");
    eprintln!("rejected: {error}");
    assert_eq!(seen.allocs, WORKLOAD.allocs + 6, "one node per call");
}

#[test]
fn threads_started_inside_record_are_recorded_with_their_own_number() {
    // `record` (not `record_this_thread`) takes every thread's calls, the
    // test harness's included: find the workers by the sizes they use.
    const SIZES: [usize; 3] = [1001, 1002, 1003];
    let ((), trace) = GLOBAL.record(|| {
        std::thread::scope(|scope| {
            for size in SIZES {
                scope.spawn(move || drop(black_box(Vec::<u8>::with_capacity(size))));
            }
        });
    });
    assert_eq!(trace.dropped, 0);
    let mut numbers = Vec::new();
    for size in SIZES {
        let of_size: Vec<&Event> = trace.events.iter().filter(|e| e.size == size).collect();
        let kinds: Vec<Kind> = of_size.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [Kind::Alloc, Kind::Dealloc], "size {size}");
        assert_eq!(of_size[0].addr, of_size[1].addr);
        assert_eq!(of_size[0].thread, of_size[1].thread);
        numbers.push(of_size[0].thread);
    }
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), SIZES.len(), "each worker has its own number");
    let most = trace.events.iter().map(|e| e.thread).max().unwrap_or(0);
    assert!(
        numbers.iter().all(|&n| n >= 1 && n <= most),
        "numbers are 1..={most}"
    );
}

#[test]
fn record_calls_do_not_nest() {
    let (outcome, _) =
        GLOBAL.record_this_thread(|| std::panic::catch_unwind(|| GLOBAL.record(|| ())));
    let payload = outcome.expect_err("a nested record must panic, not wait for itself");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("do not nest"), "{message}");
    // The allocator records again afterwards.
    let ((), trace) = GLOBAL.record_this_thread(|| drop(black_box(Box::new(1u8))));
    assert_eq!(shapes(&trace), [(Kind::Alloc, 1, 1), (Kind::Dealloc, 1, 1)]);
}

/// Two threads record at once, each its own small workload, round after
/// round; `record` is how a thread gets its trace.
fn concurrent_recordings(rounds: usize, record: impl Fn(&dyn Fn()) -> Trace + Sync) {
    Rounds::new(2, rounds).run(
        |_round| (),
        |(), thread| {
            let size = 24 + 16 * thread;
            record(&|| drop(black_box(vec![0u8; size].into_boxed_slice())))
        },
        |round, (), traces| {
            for (thread, trace) in traces.iter().enumerate() {
                let size = 24 + 16 * thread;
                assert_eq!(
                    shapes(trace),
                    [(Kind::AllocZeroed, size, 1), (Kind::Dealloc, size, 1)],
                    "round {round}: thread {thread} got a trace that is not its own recording: {:?}", trace.events
                );
            }
        },
    );
}

#[test]
fn threads_recording_at_once_each_get_their_own_trace() {
    concurrent_recordings(if cfg!(miri) { 4 } else { 500 }, |f| {
        GLOBAL.record_this_thread(f).1
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the mistake shows only in an unlucky schedule, which takes more rounds than Miri \
              runs in time"
)]
fn threads_test_rejects_taking_the_trace_after_the_turn_ends() {
    // The mistake: the trace is read once the recording has given up its
    // turn, so the other thread's recording may already have started over.
    let wrong = |f: &dyn Fn()| {
        let _ = GLOBAL.record_this_thread(f);
        GLOBAL.recorder().trace()
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        concurrent_recordings(20_000, wrong)
    }));
    let payload = outcome.expect_err("the test must reject a trace taken after the turn");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or_default();
    eprintln!("rejected: {message}");
    assert!(message.contains("not its own recording"), "{message}");
}
