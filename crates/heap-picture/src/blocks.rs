//! From a list of events to the blocks they made, and the numbers a reader
//! wants first.

use std::collections::HashMap;

use heap_trace::{Kind, Trace};

/// How a block came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Alloc,
    AllocZeroed,
    /// `realloc` gave a new address: the bytes were copied here.
    ReallocMoved,
    /// `realloc` resized the block where it was.
    ReallocInPlace,
}

impl Origin {
    pub fn name(self) -> &'static str {
        match self {
            Origin::Alloc => "alloc",
            Origin::AllocZeroed => "alloc_zeroed",
            Origin::ReallocMoved => "realloc-moved",
            Origin::ReallocInPlace => "realloc-in-place",
        }
    }

    /// What the legend calls it.
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Alloc => "alloc",
            Origin::AllocZeroed => "alloc_zeroed",
            Origin::ReallocMoved => "realloc, moved (copied)",
            Origin::ReallocInPlace => "realloc, resized in place",
        }
    }
}

/// How a block ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Freed by `dealloc`.
    Dealloc,
    /// Replaced by a `realloc`: moved elsewhere, or resized in place (the
    /// next block starts at the same address).
    Realloc,
    /// Still allocated when the recording stopped.
    Live,
}

impl End {
    pub fn name(self) -> &'static str {
        match self {
            End::Dealloc => "dealloc",
            End::Realloc => "realloc",
            End::Live => "live",
        }
    }
}

/// One bar of the block map: a block at one address with one size, from the
/// event that made it to the event that ended it. A `realloc` in place ends
/// one block and starts the next at the same address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// `seq` of the event that made it.
    pub seq: u64,
    /// Index in `trace.events` of that event (the x of the bar's start).
    pub start: usize,
    /// Index of the event that ended it; `None` if still live at the end.
    pub end: Option<usize>,
    /// `seq` of the event that ended it.
    pub freed_seq: Option<u64>,
    pub addr: usize,
    pub size: usize,
    pub align: usize,
    pub thread: u32,
    pub origin: Origin,
    pub ended_by: End,
}

/// The blocks of a trace, in the order they were made, and how many frees
/// the trace has of blocks it never saw allocated (made before recording
/// started; they are not drawn). The rules are those of
/// [`Trace::live_bytes`]: a failed call (address 0) makes no block, and a
/// `realloc` of a block made before recording is not followed.
pub fn blocks(trace: &Trace) -> (Vec<Block>, usize) {
    let mut out: Vec<Block> = Vec::new();
    let mut open: HashMap<usize, usize> = HashMap::new();
    let mut unknown_frees = 0;
    let close = |out: &mut Vec<Block>, index: usize, at: usize, seq: u64, how: End| {
        let block = &mut out[index];
        block.end = Some(at);
        block.freed_seq = Some(seq);
        block.ended_by = how;
    };
    for (i, e) in trace.events.iter().enumerate() {
        let new = |origin| Block {
            seq: e.seq,
            start: i,
            end: None,
            freed_seq: None,
            addr: e.addr,
            size: e.size,
            align: e.align,
            thread: e.thread,
            origin,
            ended_by: End::Live,
        };
        match e.kind {
            Kind::Alloc | Kind::AllocZeroed if e.addr != 0 => {
                let origin = if e.kind == Kind::Alloc {
                    Origin::Alloc
                } else {
                    Origin::AllocZeroed
                };
                if let Some(was) = open.insert(e.addr, out.len()) {
                    // The same address twice without a free between (events
                    // were dropped): the older block ends here.
                    close(&mut out, was, i, e.seq, End::Dealloc);
                }
                out.push(new(origin));
            }
            Kind::Dealloc => match open.remove(&e.addr) {
                Some(index) => close(&mut out, index, i, e.seq, End::Dealloc),
                None => unknown_frees += 1,
            },
            Kind::Realloc if e.addr != 0 => match open.remove(&e.old_addr) {
                Some(index) => {
                    close(&mut out, index, i, e.seq, End::Realloc);
                    let origin = if e.addr == e.old_addr {
                        Origin::ReallocInPlace
                    } else {
                        Origin::ReallocMoved
                    };
                    if let Some(was) = open.insert(e.addr, out.len()) {
                        close(&mut out, was, i, e.seq, End::Dealloc);
                    }
                    out.push(new(origin));
                }
                None => unknown_frees += 1,
            },
            _ => {}
        }
    }
    (out, unknown_frees)
}

/// The numbers the book prints beside the pictures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub events: usize,
    pub dropped: u64,
    /// Threads that made at least one event.
    pub threads: usize,
    /// `alloc` and `alloc_zeroed` calls.
    pub allocs: usize,
    pub reallocs: usize,
    /// `realloc` calls that returned a new address.
    pub reallocs_moved: usize,
    /// `realloc` calls that returned null (the old block stays).
    pub reallocs_failed: usize,
    pub deallocs: usize,
    /// Largest live bytes after any event.
    pub peak_live: usize,
    /// Live bytes after the last event.
    pub final_live: usize,
    /// Bytes moving reallocs had to copy: the smaller of old and new size,
    /// summed (what `realloc` must preserve; an allocator may copy more).
    pub bytes_copied: usize,
    /// Bytes asked for by `alloc`, `alloc_zeroed` and `realloc` together.
    pub bytes_requested: usize,
}

/// Counts and sums over the trace.
pub fn summary(trace: &Trace) -> Summary {
    let live = trace.live_bytes();
    let mut threads: Vec<u32> = trace.events.iter().map(|e| e.thread).collect();
    threads.sort_unstable();
    threads.dedup();
    let mut s = Summary {
        events: trace.events.len(),
        dropped: trace.dropped,
        threads: threads.len(),
        peak_live: live.iter().copied().max().unwrap_or(0),
        final_live: live.last().copied().unwrap_or(0),
        ..Summary::default()
    };
    for e in &trace.events {
        match e.kind {
            Kind::Alloc | Kind::AllocZeroed => {
                s.allocs += 1;
                s.bytes_requested += e.size;
            }
            Kind::Dealloc => s.deallocs += 1,
            Kind::Realloc => {
                s.reallocs += 1;
                s.bytes_requested += e.size;
                if e.addr == 0 {
                    s.reallocs_failed += 1;
                } else if e.addr != e.old_addr {
                    s.reallocs_moved += 1;
                    s.bytes_copied += e.size.min(e.old_size);
                }
            }
        }
    }
    s
}
