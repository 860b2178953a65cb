//! The recorder: a fixed buffer of event slots that allocator code can write
//! into without allocating, blocking or panicking, and the `GlobalAlloc`
//! wrapper that feeds it.
//!
//! # How a slot changes hands
//!
//! One atomic word holds the recording's number (its *epoch*), whether it is
//! recording, and how many slots were reserved. A writer takes the next slot
//! with one `fetch_add` on that word. Every slot then has a state word of its
//! own, `epoch << 2 | phase`, and the phase says who may touch its bytes:
//!
//! | phase     | who owns the event bytes                              |
//! |-----------|-------------------------------------------------------|
//! | `EMPTY`   | nobody (never written)                                 |
//! | `WRITING` | the one writer whose compare-and-swap set it           |
//! | `READY`   | nobody; anyone may claim it                            |
//! | `READING` | the one reader whose compare-and-swap set it           |
//!
//! Every claim is a compare-and-swap with `Acquire` and every hand-back a
//! store with `Release`, so whatever the previous owner did to the bytes
//! happens before what the next owner does. A writer only claims a slot whose
//! epoch is older than its own, so a slot is written once per recording, and
//! a reader only reads slots marked `READY` in the current epoch: it never
//! sees half an event.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::event::{Event, Kind, Trace};

/// Bits of the reservation word: `epoch << 32 | RECORDING | reserved`.
const RECORDING: u64 = 1 << 31;
const RESERVED_MASK: u64 = RECORDING - 1;
const EPOCH_SHIFT: u32 = 32;

/// Phases of a slot's state word (`epoch << 2 | phase`).
const EMPTY: u64 = 0;
const WRITING: u64 = 1;
const READY: u64 = 2;
const READING: u64 = 3;
const PHASE_MASK: u64 = 3;

/// How many times [`Recorder::trace`] yields to let writers that already
/// reserved a slot finish it, before it counts the rest as dropped.
const FINISH_PATIENCE: u32 = if cfg!(miri) { 64 } else { 10_000 };

const fn slot_state(epoch: u32, phase: u64) -> u64 {
    ((epoch as u64) << 2) | phase
}

const fn state_epoch(state: u64) -> u32 {
    (state >> 2) as u32
}

/// An event as it sits in a slot: an [`Event`] without `seq` (the slot's
/// index is the sequence number) and with the thread id as the caller gave it.
#[derive(Clone, Copy)]
struct RawEvent {
    /// False for a slot given back unused ([`Recorder::cancel`]).
    recorded: bool,
    thread: u32,
    kind: Kind,
    addr: usize,
    size: usize,
    align: usize,
    old_addr: usize,
    old_size: usize,
}

impl RawEvent {
    const ZERO: RawEvent = RawEvent {
        recorded: false,
        thread: 0,
        kind: Kind::Alloc,
        addr: 0,
        size: 0,
        align: 0,
        old_addr: 0,
        old_size: 0,
    };
}

struct SlotCell {
    state: AtomicU64,
    event: UnsafeCell<RawEvent>,
}

impl SlotCell {
    const fn new() -> SlotCell {
        SlotCell {
            state: AtomicU64::new(slot_state(0, EMPTY)),
            event: UnsafeCell::new(RawEvent::ZERO),
        }
    }
}

/// A reserved slot: the right to record one event. Give it back to
/// [`Recorder::fill`]; a slot that is never filled is reported as dropped.
#[derive(Debug)]
pub struct Slot {
    index: usize,
    epoch: u32,
}

impl Slot {
    /// The event's sequence number in its recording.
    pub fn seq(&self) -> u64 {
        self.index as u64
    }
}

/// A fixed-capacity event buffer for allocator code.
///
/// Never allocates, never blocks, never panics. When all `CAP` slots are
/// taken, further events are counted in [`dropped`](Self::dropped) and the
/// trace says how many.
pub struct Recorder<const CAP: usize> {
    /// `epoch << 32 | RECORDING | reserved` (see the module docs).
    word: AtomicU64,
    /// Events refused because every slot was taken.
    dropped: AtomicU64,
    /// `word` at the moment recording last stopped: reservations that come
    /// after it (a writer that saw the recorder running and then lost the
    /// race with `stop`) still count the word up, but hold no slot.
    stopped_at: AtomicU64,
    /// The slots, behind one `UnsafeCell` and reached one at a time
    /// through [`slot`](Self::slot). Only for Miri's sake: a `&Recorder`
    /// whose `UnsafeCell`s are spread over `CAP` slots costs Miri a walk over
    /// all of them on every call that passes `&self`, while one cell around
    /// the whole array is a single range.
    slots: UnsafeCell<[SlotCell; CAP]>,
}

// SAFETY: the only non-`Sync` part is each slot's `UnsafeCell`, and its bytes
// are touched only by the single owner that won the slot's compare-and-swap
// (WRITING or READING), with every hand-over ordered by Release/Acquire on
// the slot's state word (see the module docs).
unsafe impl<const CAP: usize> Sync for Recorder<CAP> {}

impl<const CAP: usize> Default for Recorder<CAP> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CAP: usize> Recorder<CAP> {
    /// Compile-time check: the reservation count has 31 bits, and may run a
    /// little past `CAP` (by the number of threads racing for the last slot).
    const CAP_FITS: () = assert!(CAP <= 1 << 30, "a Recorder holds at most 2^30 events");

    /// An empty recorder, not recording. `const`, so it can be a `static`.
    pub const fn new() -> Self {
        let () = Self::CAP_FITS;
        Recorder {
            word: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            stopped_at: AtomicU64::new(0),
            slots: UnsafeCell::new([const { SlotCell::new() }; CAP]),
        }
    }

    /// How many events fit.
    pub const fn capacity(&self) -> usize {
        CAP
    }

    /// Starts a new recording, forgetting the previous one.
    ///
    /// May be called again for each recording, once the previous one's trace
    /// has been taken. It is always memory-safe; for an exact recording, call
    /// it when no other thread is in the middle of recording an event of the
    /// previous recording (such a late event takes its slot, and the new
    /// recording then counts that slot as dropped).
    ///
    /// After 2^32 - 1 recordings the epoch counter is spent and `start` no
    /// longer starts anything.
    pub fn start(&self) {
        let mut word = self.word.load(Ordering::Relaxed);
        loop {
            let epoch = (word >> EPOCH_SHIFT) as u32;
            let Some(next) = epoch.checked_add(1) else {
                return;
            };
            self.dropped.store(0, Ordering::Relaxed);
            let new = (u64::from(next) << EPOCH_SHIFT) | RECORDING;
            match self
                .word
                .compare_exchange_weak(word, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(now) => word = now,
            }
        }
    }

    /// Stops recording. Events whose slot is already reserved are still
    /// completed by their writers.
    pub fn stop(&self) {
        let word = self.word.fetch_and(!RECORDING, Ordering::Relaxed);
        if word & RECORDING != 0 {
            // Only the thread that cleared the bit writes this, once per
            // recording; reservations counted after `word` hold no slot.
            self.stopped_at.store(word, Ordering::Release);
        }
    }

    /// The current recording's number (0 before the first `start`) and
    /// whether it is running.
    #[inline]
    fn epoch_now(&self) -> (u32, bool) {
        let word = self.word.load(Ordering::Relaxed);
        ((word >> EPOCH_SHIFT) as u32, word & RECORDING != 0)
    }

    /// Whether events are being recorded.
    pub fn is_recording(&self) -> bool {
        self.word.load(Ordering::Relaxed) & RECORDING != 0
    }

    /// Events refused in this recording because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    // ANCHOR: reserve
    /// Reserves the next slot: `None` when not recording, or when full (then
    /// the event is counted as dropped).
    #[inline]
    pub fn reserve(&self) -> Option<Slot> {
        // A plain load first, so that a full or stopped recorder does not
        // keep counting up (the count must never reach the RECORDING bit).
        let word = self.word.load(Ordering::Relaxed);
        if word & RECORDING == 0 {
            return None;
        }
        if (word & RESERVED_MASK) as usize >= CAP {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // The one read-modify-write that hands out slots. It only picks an
        // index: who may touch the slot's bytes is settled by the slot's own
        // state word in `fill`. Acquire pairs with `start`'s Release, so a
        // writer sees whatever was set up before the recording started.
        let word = self.word.fetch_add(1, Ordering::Acquire);
        if word & RECORDING == 0 {
            return None; // stopped in between
        }
        let index = (word & RESERVED_MASK) as usize;
        if index >= CAP {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(Slot {
            index,
            epoch: (word >> EPOCH_SHIFT) as u32,
        })
    }
    // ANCHOR_END: reserve

    // ANCHOR: fill
    /// Writes the event into its slot and publishes it.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn fill(
        &self,
        slot: Slot,
        thread: u32,
        kind: Kind,
        addr: *mut u8,
        size: usize,
        align: usize,
        old_addr: *mut u8,
        old_size: usize,
    ) {
        let event = RawEvent {
            recorded: true,
            thread,
            kind,
            addr: addr.addr(),
            size,
            align,
            old_addr: old_addr.addr(),
            old_size,
        };
        self.publish(slot, event);
    }

    /// Gives a reserved slot back unused: the trace skips it (its `seq` is
    /// missing) without counting it as dropped.
    #[inline]
    pub fn cancel(&self, slot: Slot) {
        self.publish(slot, RawEvent::ZERO);
    }

    /// Claims the slot, writes `event` into it and publishes it.
    #[inline]
    fn publish(&self, slot: Slot, event: RawEvent) {
        let Some(cell) = self.slot(slot.index) else {
            return;
        };
        let state = cell.state.load(Ordering::Relaxed);
        let phase = state & PHASE_MASK;
        // Claim only a slot left by an older recording and not being read or
        // written right now; anything else (a writer from another recording
        // got here first) leaves this event out, and the trace counts it.
        if state_epoch(state) >= slot.epoch || phase == WRITING || phase == READING {
            return;
        }
        let writing = slot_state(slot.epoch, WRITING);
        if cell
            .state
            .compare_exchange(state, writing, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        // ANCHOR: publish
        // SAFETY: our compare-and-swap moved the slot to WRITING, so we are
        // its only owner: writers claim only from READY/EMPTY and readers
        // only from READY. Its Acquire pairs with the Release that handed the
        // slot back last time, so the previous owner's accesses happen before
        // this write.
        unsafe { cell.event.get().write(event) };
        // Publish: the Release makes the write above visible to whoever
        // claims the slot next with Acquire.
        cell.state
            .store(slot_state(slot.epoch, READY), Ordering::Release);
        // ANCHOR_END: publish
    }
    // ANCHOR_END: fill

    /// Stops recording and copies the completed events of this recording.
    ///
    /// Allocates (the trace's `Vec`): call it outside the recording, never
    /// from allocator code. Writers that reserved a slot before the stop get
    /// a moment to finish it; slots still unfinished after that are counted
    /// in the trace's `dropped`. Threads are renumbered 1, 2, ... in the
    /// order they first appear.
    pub fn trace(&self) -> Trace {
        let mut events = Vec::new();
        let mut threads: Vec<(u32, u32)> = Vec::new();
        let missing = self.for_each_event(|mut event| {
            event.thread = match threads.iter().find(|(id, _)| *id == event.thread) {
                Some(&(_, number)) => number,
                None => {
                    let number = threads.len() as u32 + 1;
                    threads.push((event.thread, number));
                    number
                }
            };
            events.push(event);
        });
        Trace {
            events,
            dropped: self.dropped().saturating_add(missing),
        }
    }

    /// Stops recording and hands each completed event of this recording to
    /// `f`, in `seq` order, with the thread id as its writer gave it (not
    /// renumbered). Returns how many reserved slots were never completed
    /// (writers get the same moment to finish as in [`trace`](Self::trace)).
    ///
    /// Never allocates, so code that must not allocate can write a trace out
    /// (the exit handler of a preloaded `malloc`). A second call hands out
    /// the same events again.
    pub fn for_each_event(&self, mut f: impl FnMut(Event)) -> u64 {
        self.stop();
        let epoch = (self.word.load(Ordering::Relaxed) >> EPOCH_SHIFT) as u32;
        let mut patience = FINISH_PATIENCE;
        let stopped_at = loop {
            let stopped_at = self.stopped_at.load(Ordering::Acquire);
            // Epoch 0 was never started. Otherwise, if another thread
            // stopped this recording, its note of where it stopped may be
            // a moment late.
            if epoch == 0 || (stopped_at >> EPOCH_SHIFT) as u32 == epoch || patience == 0 {
                break stopped_at;
            }
            patience -= 1;
            std::thread::yield_now();
        };
        let reserved = if (stopped_at >> EPOCH_SHIFT) as u32 == epoch {
            ((stopped_at & RESERVED_MASK) as usize).min(CAP)
        } else {
            0 // never started, or stopped by a thread that did not say where
        };
        let mut missing = 0u64;
        for (index, cell) in (0..reserved).filter_map(|i| Some((i, self.slot(i)?))) {
            let raw = loop {
                match self.read_slot(cell, epoch) {
                    Some(raw) => break Some(raw),
                    None if patience > 0 => {
                        patience -= 1;
                        std::thread::yield_now();
                    }
                    None => break None,
                }
            };
            let Some(raw) = raw else {
                missing += 1;
                continue;
            };
            if !raw.recorded {
                continue; // given back unused
            }
            f(Event {
                seq: index as u64,
                thread: raw.thread,
                kind: raw.kind,
                addr: raw.addr,
                size: raw.size,
                align: raw.align,
                old_addr: raw.old_addr,
                old_size: raw.old_size,
            });
        }
        missing
    }

    /// Slot `index`, if there is one.
    #[inline]
    fn slot(&self, index: usize) -> Option<&SlotCell> {
        if index >= CAP {
            return None;
        }
        // SAFETY: `index < CAP`, so the pointer stays inside the array. Only
        // shared references to single slots are ever made from it (never a
        // `&mut`), and a slot is made for shared use: its state is atomic and
        // its event bytes are guarded by that state (see the module docs).
        Some(unsafe { &*self.slots.get().cast::<SlotCell>().add(index) })
    }

    /// Copies a slot's event if it is complete in recording `epoch`.
    fn read_slot(&self, cell: &SlotCell, epoch: u32) -> Option<RawEvent> {
        let ready = slot_state(epoch, READY);
        cell.state
            .compare_exchange(
                ready,
                slot_state(epoch, READING),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .ok()?;
        // SAFETY: our compare-and-swap moved the slot from READY to READING,
        // so no writer may claim it until we hand it back; its Acquire pairs
        // with the writer's Release store of READY, so the whole event was
        // written before this read.
        let raw = unsafe { cell.event.get().read() };
        cell.state.store(ready, Ordering::Release);
        Some(raw)
    }
}

// ANCHOR: thread_id
thread_local! {
    /// This thread's id for [`TraceAlloc`]: 0 until it first records. A
    /// `const` initialiser and a type without destructor: using it from
    /// inside `alloc` never allocates and never registers a destructor.
    static THREAD_ID: Cell<u32> = const { Cell::new(0) };
    /// Whether this thread is inside [`TraceAlloc::record_this_thread`].
    static RECORDS_THIS_THREAD: Cell<bool> = const { Cell::new(false) };
    /// Whether this thread is inside `record` or `record_this_thread`.
    static INSIDE_RECORD: Cell<bool> = const { Cell::new(false) };
}

/// The next thread id to hand out (0 means "not yet assigned").
static NEXT_THREAD_ID: AtomicU32 = AtomicU32::new(1);

/// The calling thread's id: 1, 2, ... in the order threads first record.
/// 0 if the thread-local is gone (never, for a type without destructor).
fn thread_id() -> u32 {
    THREAD_ID
        .try_with(|id| {
            if id.get() == 0 {
                id.set(NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed));
            }
            id.get()
        })
        .unwrap_or(0)
}
// ANCHOR_END: thread_id

/// A global allocator that forwards every call to `A` and records it into
/// its own [`Recorder<CAP>`](Recorder).
///
/// Takes `CAP` event slots of memory (56 bytes each on 64-bit targets) wherever it lives;
/// as a `static`, that memory is zero-initialised and costs nothing until
/// touched.
pub struct TraceAlloc<A, const CAP: usize = 65536> {
    inner: A,
    recorder: Recorder<CAP>,
    /// When set, only threads inside `record_this_thread` are recorded.
    /// The recording that takes only the calls of threads inside
    /// `record_this_thread` (0: none). Set before that recording starts.
    this_thread_epoch: AtomicU32,
    /// Recordings on one allocator take turns.
    turn: Mutex<()>,
}

impl<A, const CAP: usize> TraceAlloc<A, CAP> {
    /// Wraps `inner`. Not recording until asked.
    pub const fn new(inner: A) -> Self {
        TraceAlloc {
            inner,
            recorder: Recorder::new(),
            this_thread_epoch: AtomicU32::new(0),
            turn: Mutex::new(()),
        }
    }

    /// The recorder, to start and stop by hand.
    pub fn recorder(&self) -> &Recorder<CAP> {
        &self.recorder
    }

    /// The wrapped allocator.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Records every allocator call made while `f` runs, by every thread, and
    /// returns `f`'s result with the trace.
    ///
    /// Recordings on the same allocator wait for each other. They do not
    /// nest: calling `record` inside `f` panics. In a test binary the harness's other threads allocate too: use
    /// [`record_this_thread`](Self::record_this_thread) there.
    pub fn record<R>(&self, f: impl FnOnce() -> R) -> (R, Trace) {
        self.record_with(false, f)
    }

    /// Like [`record`](Self::record), but records only the calls made by the
    /// calling thread (threads `f` starts are not recorded either).
    pub fn record_this_thread<R>(&self, f: impl FnOnce() -> R) -> (R, Trace) {
        self.record_with(true, f)
    }

    fn record_with<R>(&self, this_thread_only: bool, f: impl FnOnce() -> R) -> (R, Trace) {
        // Waiting for our own turn would never end: say so instead.
        assert!(
            !INSIDE_RECORD.with(Cell::get),
            "TraceAlloc::record and record_this_thread do not nest: this thread is already recording"
        );
        let turn = self
            .turn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Stops the recording and clears the flags even if `f` panics.
        let guard = RecordGuard {
            alloc: self,
            _turn: turn,
        };
        // While it is our turn, nobody else starts this recorder, so the
        // next recording is `epoch + 1`. Said before `start`, whose Release
        // publishes it to every writer that reserves in that recording.
        let next = self.recorder.epoch_now().0.wrapping_add(1);
        let only = if this_thread_only { next } else { 0 };
        self.this_thread_epoch.store(only, Ordering::Relaxed);
        RECORDS_THIS_THREAD.with(|flag| flag.set(this_thread_only));
        INSIDE_RECORD.with(|flag| flag.set(true));
        self.recorder.start();
        let result = f();
        // Taken while it is still our turn: the next recording's `start`
        // would replace these events.
        let trace = self.recorder.trace();
        drop(guard);
        (result, trace)
    }

    /// Whether the calling thread's calls are recorded in recording `epoch`.
    #[inline]
    fn records_in(&self, epoch: u32) -> bool {
        self.this_thread_epoch.load(Ordering::Relaxed) != epoch
            || RECORDS_THIS_THREAD.try_with(Cell::get).unwrap_or(false)
    }

    /// A slot for this call, if it is to be recorded.
    #[inline]
    fn reserve(&self) -> Option<Slot> {
        // A quick look first, so that threads that are not recorded do not
        // use up slots.
        let (epoch, recording) = self.recorder.epoch_now();
        if !recording || !self.records_in(epoch) {
            return None;
        }
        let slot = self.recorder.reserve()?;
        // Ask again, for the recording the slot belongs to: the look above
        // may have seen an older recording, or a stale `this_thread_epoch`.
        // Now the reservation's Acquire makes the value set before `start`
        // visible.
        if !self.records_in(slot.epoch) {
            self.recorder.cancel(slot);
            return None;
        }
        Some(slot)
    }

    /// Fills a slot reserved earlier, if there is one, with a call that is
    /// not a `realloc`.
    #[inline]
    fn log(&self, slot: Option<Slot>, kind: Kind, ptr: *mut u8, layout: Layout) {
        if let Some(slot) = slot {
            let (size, align, none) = (layout.size(), layout.align(), std::ptr::null_mut());
            self.recorder
                .fill(slot, thread_id(), kind, ptr, size, align, none, 0);
        }
    }
}

/// The end of a recording, run on return and on unwind.
struct RecordGuard<'a, A, const CAP: usize> {
    alloc: &'a TraceAlloc<A, CAP>,
    _turn: MutexGuard<'a, ()>,
}

impl<A, const CAP: usize> Drop for RecordGuard<'_, A, CAP> {
    fn drop(&mut self) {
        self.alloc.recorder.stop();
        let _ = RECORDS_THIS_THREAD.try_with(|flag| flag.set(false));
        let _ = INSIDE_RECORD.try_with(|flag| flag.set(false));
    }
}

// ANCHOR: global_alloc
// SAFETY: every method forwards to `A` with the caller's arguments unchanged
// and returns `A`'s result, so `A`'s guarantees are ours. Recording touches
// only atomics, thread-locals without destructors and the preallocated
// slots: it neither allocates, nor blocks, nor panics.
unsafe impl<A: GlobalAlloc, const CAP: usize> GlobalAlloc for TraceAlloc<A, CAP> {
    // ANCHOR: alloc
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc(layout) };
        // Reserved after the call: the block exists only now.
        self.log(self.reserve(), Kind::Alloc, ptr, layout);
        ptr
    }
    // ANCHOR_END: alloc

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract for `layout`.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        self.log(self.reserve(), Kind::AllocZeroed, ptr, layout);
        ptr
    }

    // ANCHOR: dealloc
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Reserved BEFORE the call: once `A` has the block back, another
        // thread may get it, and that alloc must come after this dealloc.
        let slot = self.reserve();
        // SAFETY: `ptr` was returned by this allocator (hence by `A`) with
        // `layout`, as the caller guarantees.
        unsafe { self.inner.dealloc(ptr, layout) };
        self.log(slot, Kind::Dealloc, ptr, layout);
    }
    // ANCHOR_END: dealloc

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Before the call, as in `dealloc`: the old block may go to another
        // thread as soon as `A` has moved away from it.
        let slot = self.reserve();
        // SAFETY: the caller guarantees `ptr`/`layout` came from this
        // allocator (hence from `A`) and `new_size` is valid for `layout`.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if let Some(slot) = slot {
            let (kind, align, old_size) = (Kind::Realloc, layout.align(), layout.size());
            let thread = thread_id();
            self.recorder
                .fill(slot, thread, kind, new, new_size, align, ptr, old_size);
        }
        new
    }
}
// ANCHOR_END: global_alloc
