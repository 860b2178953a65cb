//! Records every call a program makes to its global allocator, and writes the
//! recording as text.
//!
//! - [`Recorder`] is a fixed-capacity buffer of events. It lives in a
//!   `static`, never allocates, never blocks and never panics; when it is full
//!   it counts what it had to drop.
//! - [`TraceAlloc`] is a [`GlobalAlloc`](std::alloc::GlobalAlloc) wrapper that
//!   forwards every call to an inner allocator and records it.
//! - [`Trace`] is a finished recording: its events, how many were dropped,
//!   the JSON-lines text format ([`Trace::to_json_lines`], [`Trace::parse`])
//!   and the live bytes after each event ([`Trace::live_bytes`]).
//!
//! ```
//! use std::alloc::System;
//! use heap_trace::{Kind, TraceAlloc};
//!
//! #[global_allocator]
//! static GLOBAL: TraceAlloc<System, 1024> = TraceAlloc::new(System);
//!
//! fn main() {
//!     let ((), trace) = GLOBAL.record_this_thread(|| {
//!         let v: Vec<u64> = std::hint::black_box(Vec::with_capacity(4));
//!         drop(v);
//!     });
//!     let kinds: Vec<Kind> = trace.events.iter().map(|e| e.kind).collect();
//!     assert_eq!(kinds, [Kind::Alloc, Kind::Dealloc]);
//!     assert_eq!(trace.events[0].size, 32);
//! }
//! ```

pub mod event;
pub mod recorder;

pub use event::{Event, Kind, ParseError, Trace};
pub use recorder::{Recorder, Slot, TraceAlloc};
