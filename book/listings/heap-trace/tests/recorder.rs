//! The recorder on its own, and the wrapper called directly (this test binary
//! keeps the default global allocator): overflow, a second recording, threads,
//! whole events only, and the order of a freed block and its reuse.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::ptr::without_provenance_mut;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use heap_trace::{Kind, Recorder, Trace, TraceAlloc};
use race_rounds::Rounds;

/// Rounds of the half-event race. Under Miri, eight: with fewer, a recorder
/// whose publishing store is `Relaxed` went unreported in half the seeds.
const ROUNDS: usize = if cfg!(miri) { 8 } else { 1000 };

/// Records one made-up event whose fields all derive from `value`, so a
/// reader can tell a whole event from a half-written one.
fn record_value<const N: usize>(recorder: &Recorder<N>, thread: u32, value: usize) -> bool {
    let Some(slot) = recorder.reserve() else {
        return false;
    };
    recorder.fill(
        slot,
        thread,
        Kind::Realloc,
        without_provenance_mut(value * 16),
        value,
        8,
        without_provenance_mut(value * 16 + 8),
        value + 1,
    );
    true
}

/// The `value` an event was recorded with, or why it is not a whole event.
fn value_of(trace: &Trace, index: usize) -> Result<usize, String> {
    let e = trace.events[index];
    let value = e.size;
    let whole = value != 0
        && e.kind == Kind::Realloc
        && e.align == 8
        && Some(e.addr) == value.checked_mul(16)
        && Some(e.old_addr) == value.checked_mul(16).and_then(|a| a.checked_add(8))
        && Some(e.old_size) == value.checked_add(1);
    if whole {
        Ok(value)
    } else {
        Err(format!(
            "seq {}: a half-written event {e:?}: the reader was shown the slot before \
             its event was written",
            e.seq
        ))
    }
}

#[test]
fn full_recorder_counts_what_it_drops() {
    let recorder = Recorder::<4>::new();
    recorder.start();
    let kept = (1..=10).filter(|&v| record_value(&recorder, 7, v)).count();
    assert_eq!(kept, 4);
    assert_eq!(recorder.dropped(), 6);
    let trace = recorder.trace();
    assert!(
        !recorder.is_recording(),
        "taking the trace stops the recording"
    );
    let seqs: Vec<u64> = trace.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
    let values: Vec<usize> = (0..4).map(|i| value_of(&trace, i).unwrap()).collect();
    assert_eq!(values, [1, 2, 3, 4]);
    assert!(
        trace.events.iter().all(|e| e.thread == 1),
        "renumbered from 1"
    );
    assert_eq!(trace.dropped, 6);
    let text = trace.to_json_lines();
    assert!(
        text.starts_with("{\"heap-trace\":1,\"events\":4,\"dropped\":6}\n"),
        "{text}"
    );
}

#[test]
fn start_again_begins_a_fresh_recording() {
    let recorder = Recorder::<4>::new();
    assert!(!recorder.is_recording(), "a new recorder waits for start");
    assert!(recorder.reserve().is_none());
    assert_eq!(recorder.trace(), Trace::default());

    recorder.start();
    for v in 1..=6 {
        record_value(&recorder, 1, v);
    }
    assert_eq!(recorder.trace().events.len(), 4);

    recorder.start();
    assert!(recorder.is_recording());
    assert_eq!(recorder.dropped(), 0, "start clears the drop count");
    assert!(record_value(&recorder, 9, 100));
    assert!(record_value(&recorder, 5, 200));
    recorder.stop();
    assert!(
        !record_value(&recorder, 9, 300),
        "nothing is recorded after stop"
    );
    let trace = recorder.trace();
    assert_eq!(trace.dropped, 0);
    assert_eq!(trace.events.len(), 2);
    assert_eq!((trace.events[0].seq, trace.events[1].seq), (0, 1));
    assert_eq!(
        (value_of(&trace, 0), value_of(&trace, 1)),
        (Ok(100), Ok(200))
    );
    assert_eq!(
        (trace.events[0].thread, trace.events[1].thread),
        (1, 2),
        "threads are renumbered in order of first appearance"
    );
}

#[test]
fn reserved_slot_never_filled_is_counted_as_dropped() {
    let recorder = Recorder::<8>::new();
    recorder.start();
    assert!(record_value(&recorder, 1, 1));
    let lost = recorder.reserve().expect("room left");
    assert_eq!(lost.seq(), 1);
    // `lost` is never given to `fill`.
    assert!(record_value(&recorder, 1, 3));
    let trace = recorder.trace();
    let seqs: Vec<u64> = trace.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [0, 2], "the unfilled slot leaves a gap");
    assert_eq!(trace.dropped, 1);
}

/// A few allocations and frees through the wrapper, called directly.
fn alloc_and_free<A: GlobalAlloc>(alloc: &A, pairs: usize, size: usize) {
    let layout = Layout::from_size_align(size, 8).expect("valid layout");
    for _ in 0..pairs {
        // SAFETY: `size` is not zero.
        let ptr = unsafe { alloc.alloc(layout) };
        assert!(!ptr.is_null());
        // SAFETY: allocated just above with `layout`, freed once.
        unsafe { alloc.dealloc(ptr, layout) };
    }
}

#[test]
fn wrapper_overflow_is_counted_and_reported() {
    let traced: TraceAlloc<System, 8> = TraceAlloc::new(System);
    let ((), trace) = traced.record(|| alloc_and_free(&traced, 20, 24));
    assert_eq!(trace.events.len(), 8);
    assert_eq!(trace.dropped, 32, "40 calls, 8 kept");
    let kinds: Vec<Kind> = trace.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [Kind::Alloc, Kind::Dealloc].repeat(4));
    assert!(
        trace
            .to_json_lines()
            .starts_with("{\"heap-trace\":1,\"events\":8,\"dropped\":32}")
    );
    assert!(!traced.recorder().is_recording());
    alloc_and_free(&traced, 1, 24);
    assert_eq!(traced.recorder().trace(), trace, "nothing recorded after");
}

/// Threads, sizes that tell them apart, and how many pairs each makes.
const THREADS: usize = if cfg!(miri) { 3 } else { 4 };
const PAIRS: usize = if cfg!(miri) { 4 } else { 200 };

/// Runs `THREADS` threads through one wrapper; thread `t` allocates blocks
/// of `8 * (t + 1)` bytes, so every event names its thread by its size.
fn threads_through<const CAP: usize>(traced: &TraceAlloc<System, CAP>) -> Trace {
    let ((), trace) = traced.record(|| {
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                scope.spawn(move || alloc_and_free(traced, PAIRS, 8 * (t + 1)));
            }
        });
    });
    trace
}

/// Every event of `trace` is accounted for: each thread number stands for
/// one worker (one size), and each worker's alloc/dealloc pairs are whole and
/// in order. Returns the number of events per worker.
fn check_threads(trace: &Trace) -> Vec<usize> {
    let mut worker_of: HashMap<u32, usize> = HashMap::new();
    let mut per_worker = vec![0usize; THREADS];
    let mut open: HashMap<u32, usize> = HashMap::new();
    for e in &trace.events {
        let worker = e.size / 8 - 1;
        assert!(
            worker < THREADS && e.size % 8 == 0,
            "seq {}: size {}",
            e.seq,
            e.size
        );
        let known = *worker_of.entry(e.thread).or_insert(worker);
        assert_eq!(
            known, worker,
            "seq {}: thread {} recorded blocks of two workers",
            e.seq, e.thread
        );
        per_worker[worker] += 1;
        match e.kind {
            Kind::Alloc => {
                assert!(e.addr != 0);
                let before = open.insert(e.thread, e.addr);
                assert!(
                    before.is_none() || trace.dropped > 0,
                    "seq {}: two allocs",
                    e.seq
                );
            }
            Kind::Dealloc => {
                let allocated = open.remove(&e.thread);
                assert!(
                    allocated == Some(e.addr) || trace.dropped > 0,
                    "seq {}: thread {} frees {:#x}, but allocated {allocated:x?}",
                    e.seq,
                    e.thread,
                    e.addr
                );
            }
            other => panic!("seq {}: unexpected {other}", e.seq),
        }
    }
    let mut numbers: Vec<u32> = worker_of.keys().copied().collect();
    numbers.sort_unstable();
    let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
    assert_eq!(numbers, expected, "threads are numbered 1, 2, ...");
    per_worker
}

#[test]
fn threads_get_distinct_ids_and_every_event_is_accounted_for() {
    const CAP: usize = 2 * THREADS * PAIRS;
    let traced: TraceAlloc<System, CAP> = TraceAlloc::new(System);
    let trace = threads_through(&traced);
    assert_eq!(trace.dropped, 0);
    assert_eq!(check_threads(&trace), vec![2 * PAIRS; THREADS]);
    let seqs: Vec<u64> = trace.events.iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (0..CAP as u64).collect();
    assert_eq!(seqs, expected, "no gaps");
}

#[test]
fn threads_overflowing_the_recorder_count_every_drop() {
    const CAP: usize = 16;
    let traced: TraceAlloc<System, CAP> = TraceAlloc::new(System);
    let trace = threads_through(&traced);
    assert_eq!(trace.events.len(), CAP);
    assert_eq!(trace.dropped, (2 * THREADS * PAIRS - CAP) as u64);
    assert_eq!(check_threads(&trace).iter().sum::<usize>(), CAP);
}

/// What the half-event race test needs from an event buffer, so the same
/// routine runs against [`Recorder`] and the wrong [`PublishFirst`].
trait EventLog: Sync {
    fn fresh() -> Self;
    /// Records an event derived from `value`; false if it was not taken.
    fn write(&self, thread: u32, value: usize) -> bool;
    /// What a reader gets while writers may still be writing.
    fn snapshot(&self) -> Trace;
    /// Events refused because the log was full.
    fn refused(&self) -> u64;
}

const LOG: usize = 16;
/// Per writer: more than half the log, so the log fills up too.
const WRITES: usize = 12;

impl EventLog for Recorder<LOG> {
    fn fresh() -> Self {
        let recorder = Recorder::new();
        recorder.start();
        recorder
    }
    fn write(&self, thread: u32, value: usize) -> bool {
        record_value(self, thread, value)
    }
    fn snapshot(&self) -> Trace {
        self.trace()
    }
    fn refused(&self) -> u64 {
        self.dropped()
    }
}

/// One round's state: the log and how many writers are done.
struct HalfRound<L> {
    log: L,
    writers_done: AtomicUsize,
}

/// Threads 0 and 1 write, thread 2 takes snapshots until both are done and
/// checks each; the writers return how many events the log took.
fn half_event_race<L: EventLog>(rounds: usize) -> race_rounds::Report {
    Rounds::new(3, rounds).run(
        |_round| HalfRound {
            log: L::fresh(),
            writers_done: AtomicUsize::new(0),
        },
        |state, thread| {
            if thread < 2 {
                let taken = (1..=WRITES)
                    .filter(|i| state.log.write(thread as u32 + 1, (thread + 1) << 20 | i))
                    .count();
                state.writers_done.fetch_add(1, Ordering::Release);
                return (taken, Vec::new());
            }
            let mut snapshots = Vec::new();
            loop {
                let finished = state.writers_done.load(Ordering::Acquire) == 2;
                snapshots.push(state.log.snapshot());
                if finished {
                    return (0, snapshots);
                }
                std::thread::yield_now();
            }
        },
        |round, state, results| {
            let taken: usize = results.iter().map(|r| r.0).sum();
            let (_, snapshots) = &results[2];
            for trace in snapshots {
                let mut last = [0usize; 2];
                for index in 0..trace.events.len() {
                    let value =
                        value_of(trace, index).unwrap_or_else(|e| panic!("round {round}: {e}"));
                    let (writer, i) = ((value >> 20) - 1, value & 0xfffff);
                    assert!(
                        i > last[writer],
                        "round {round}: writer {writer}'s events out of order"
                    );
                    last[writer] = i;
                }
            }
            // Taken after both writers returned, so every slot they got is
            // filled: the last snapshot holds exactly what the log took.
            let last = snapshots.last().expect("at least one snapshot");
            assert_eq!(
                last.events.len(),
                taken,
                "round {round}: an event the log took is missing from the trace"
            );
            assert_eq!(
                last.dropped,
                state.log.refused(),
                "round {round}: the trace's dropped count is not the log's"
            );
        },
    )
}

#[test]
fn threads_reader_sees_only_whole_events() {
    let report = half_event_race::<Recorder<LOG>>(ROUNDS);
    eprintln!("{report}");
}

/// The mistake the test above must reject: a log that marks a slot ready
/// BEFORE it writes the event. A reader that sees the flag can read the slot
/// while its bytes are still being written.
struct PublishFirst {
    next: AtomicUsize,
    ready: [AtomicBool; LOG],
    /// size, addr, old_addr, old_size of each event.
    events: [UnsafeCell<[usize; 4]>; LOG],
}

// SAFETY: deliberately wrong (this type exists to be rejected): a reader may
// read a slot while its writer writes it. Only the test below shares it.
unsafe impl Sync for PublishFirst {}

impl EventLog for PublishFirst {
    fn fresh() -> Self {
        PublishFirst {
            next: AtomicUsize::new(0),
            ready: [const { AtomicBool::new(false) }; LOG],
            events: [const { UnsafeCell::new([0; 4]) }; LOG],
        }
    }

    fn write(&self, _thread: u32, value: usize) -> bool {
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        let (Some(ready), Some(event)) = (self.ready.get(index), self.events.get(index)) else {
            return false;
        };
        // THE MISTAKE: published first, written second.
        ready.store(true, Ordering::Release);
        // SAFETY: none, see `Sync` above: a reader may already be reading.
        unsafe {
            event
                .get()
                .write([value, value * 16, value * 16 + 8, value + 1])
        };
        true
    }

    fn snapshot(&self) -> Trace {
        let reserved = self.next.load(Ordering::Relaxed).min(LOG);
        let mut trace = Trace {
            events: Vec::new(),
            dropped: (self.next.load(Ordering::Relaxed) - reserved) as u64,
        };
        for index in 0..reserved {
            if !self.ready[index].load(Ordering::Acquire) {
                trace.dropped += 1;
                continue;
            }
            // SAFETY: none (the slot may still be being written): the point.
            let [size, addr, old_addr, old_size] = unsafe { self.events[index].get().read() };
            trace.events.push(heap_trace::Event {
                seq: index as u64,
                thread: 1,
                kind: Kind::Realloc,
                addr,
                size,
                align: 8,
                old_addr,
                old_size,
            });
        }
        trace
    }

    fn refused(&self) -> u64 {
        self.next.load(Ordering::Relaxed).saturating_sub(LOG) as u64
    }
}

/// The panic message of a failed run, as text.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else {
        String::from("(no message)")
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the wrong log reads a slot while it is written: Miri stops the whole run at that \
              data race, as undefined behaviour"
)]
fn threads_test_rejects_a_log_that_publishes_before_writing() {
    let rounds = 20 * ROUNDS;
    let outcome = std::panic::catch_unwind(|| half_event_race::<PublishFirst>(rounds));
    let Err(payload) = outcome else {
        panic!(
            "the half-event test passed a log that publishes before writing in {rounds} \
             rounds: it cannot catch a reader that sees half an event"
        );
    };
    let message = message(&*payload);
    eprintln!("rejected: {message}");
    assert!(
        message.contains("half-written"),
        "the wrong log failed for another reason: {message}"
    );
}

/// An inner allocator with one 64-byte block and a handshake: its `dealloc`
/// gives the block back, then waits until another thread has taken it again
/// through the wrapper (its whole `alloc` call, recording included).
/// That is the moment where a wrapper must already have reserved the
/// dealloc's place in the trace.
struct OneBlock {
    block: UnsafeCell<[u64; 8]>,
    taken: AtomicBool,
    /// Set by `dealloc` once the block is free again.
    freed: AtomicBool,
    /// Set by the thread that takes the freed block, once its whole `alloc`
    /// call through the wrapper has returned; `dealloc` waits for it.
    taken_again: AtomicBool,
}

// SAFETY: the block's bytes are never touched by `OneBlock` itself; who owns
// them is decided by the `taken` flag (CAS in alloc, Release in dealloc).
unsafe impl Sync for OneBlock {}

impl OneBlock {
    const fn new() -> Self {
        OneBlock {
            block: UnsafeCell::new([0; 8]),
            taken: AtomicBool::new(false),
            freed: AtomicBool::new(false),
            taken_again: AtomicBool::new(false),
        }
    }
}

fn wait_for(flag: &AtomicBool) {
    while !flag.load(Ordering::Acquire) {
        std::thread::yield_now();
    }
}

// SAFETY: hands out its one block to one owner at a time (CAS on `taken`),
// and null when it is taken or the layout does not fit.
unsafe impl GlobalAlloc for OneBlock {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let fits = layout.size() <= 64 && layout.align() <= 8;
        if !fits
            || self
                .taken
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return std::ptr::null_mut();
        }
        self.block.get().cast()
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        self.taken.store(false, Ordering::Release);
        self.freed.store(true, Ordering::Release);
        wait_for(&self.taken_again);
    }
}

/// A wrapper around [`OneBlock`] that records into a recorder.
trait Traced: GlobalAlloc + Sync {
    fn fresh() -> Self;
    fn trace(&self) -> Trace;
    fn start(&self);
    fn one_block(&self) -> &OneBlock;
}

impl Traced for TraceAlloc<OneBlock, 8> {
    fn fresh() -> Self {
        TraceAlloc::new(OneBlock::new())
    }
    fn trace(&self) -> Trace {
        self.recorder().trace()
    }
    fn start(&self) {
        self.recorder().start();
    }
    fn one_block(&self) -> &OneBlock {
        self.inner()
    }
}

/// Thread A allocates the block and frees it; thread B waits until the
/// block is back in the inner allocator and takes it, while A's `dealloc` is
/// still running.
fn hand_over<T: Traced>() -> Trace {
    let traced = T::fresh();
    traced.start();
    let layout = Layout::new::<[u64; 4]>();
    std::thread::scope(|scope| {
        let traced = &traced;
        scope.spawn(move || {
            // SAFETY: a non-zero size.
            let ptr = unsafe { traced.alloc(layout) };
            assert!(!ptr.is_null());
            // SAFETY: allocated above with `layout`.
            unsafe { traced.dealloc(ptr, layout) };
        });
        scope.spawn(move || {
            wait_for(&traced.one_block().freed);
            // SAFETY: a non-zero size.
            let ptr = unsafe { traced.alloc(layout) };
            assert!(!ptr.is_null(), "thread B gets the block A freed");
            traced
                .one_block()
                .taken_again
                .store(true, Ordering::Release);
        });
    });
    traced.trace()
}

/// The trace never shows a block allocated while it is still live.
fn check_lifetimes(trace: &Trace) -> Result<(), String> {
    let mut live: HashMap<usize, (u64, u32)> = HashMap::new();
    for e in &trace.events {
        let (freed, born) = match e.kind {
            Kind::Alloc | Kind::AllocZeroed => (None, Some(e.addr)),
            Kind::Dealloc => (Some(e.addr), None),
            Kind::Realloc => (Some(e.old_addr), Some(e.addr)),
        };
        if let Some(addr) = freed {
            live.remove(&addr);
        }
        if let Some(addr) = born.filter(|&a| a != 0)
            && let Some((seq, thread)) = live.insert(addr, (e.seq, e.thread))
        {
            return Err(format!(
                "seq {}: thread {} got block {addr:#x}, which thread {thread} allocated at seq \
                 {seq} and the trace has not freed: a dealloc was placed after the alloc that \
                 reused its block",
                e.seq, e.thread
            ));
        }
    }
    Ok(())
}

#[test]
fn threads_freed_block_comes_before_its_reuse_in_the_trace() {
    let trace = hand_over::<TraceAlloc<OneBlock, 8>>();
    let kinds: Vec<(u32, Kind)> = trace.events.iter().map(|e| (e.thread, e.kind)).collect();
    assert_eq!(
        kinds,
        [(1, Kind::Alloc), (1, Kind::Dealloc), (2, Kind::Alloc)]
    );
    assert!(trace.events.iter().all(|e| e.addr == trace.events[0].addr));
    check_lifetimes(&trace).unwrap();
}

/// The mistake the test above must reject: a wrapper whose `dealloc`
/// reserves its slot AFTER the inner call, when the block may already be
/// another thread's.
struct ReserveAfterDealloc {
    inner: OneBlock,
    recorder: Recorder<8>,
}

// SAFETY: forwards to `OneBlock`; the recording is only in the wrong order.
unsafe impl GlobalAlloc for ReserveAfterDealloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { self.inner.alloc(layout) };
        if let Some(slot) = self.recorder.reserve() {
            let (size, align, null) = (layout.size(), layout.align(), std::ptr::null_mut());
            let thread = thread_number();
            self.recorder
                .fill(slot, thread, Kind::Alloc, ptr, size, align, null, 0);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { self.inner.dealloc(ptr, layout) };
        // THE MISTAKE: the block was already someone else's.
        if let Some(slot) = self.recorder.reserve() {
            let (size, align, null) = (layout.size(), layout.align(), std::ptr::null_mut());
            let thread = thread_number();
            self.recorder
                .fill(slot, thread, Kind::Dealloc, ptr, size, align, null, 0);
        }
    }
}

/// A distinct number per thread, for the wrong wrapper.
fn thread_number() -> u32 {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    thread_local!(static ID: usize = NEXT.fetch_add(1, Ordering::Relaxed));
    ID.with(|id| *id as u32)
}

impl Traced for ReserveAfterDealloc {
    fn fresh() -> Self {
        ReserveAfterDealloc {
            inner: OneBlock::new(),
            recorder: Recorder::new(),
        }
    }
    fn trace(&self) -> Trace {
        self.recorder.trace()
    }
    fn start(&self) {
        self.recorder.start();
    }
    fn one_block(&self) -> &OneBlock {
        &self.inner
    }
}

#[test]
fn threads_test_rejects_a_wrapper_that_reserves_after_dealloc() {
    let trace = hand_over::<ReserveAfterDealloc>();
    let error = check_lifetimes(&trace).expect_err("the wrong order must be rejected");
    eprintln!("rejected: {error}");
    assert!(error.starts_with("seq 1: thread 2 got block"), "{error}");
}
