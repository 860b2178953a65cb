//! Records the heap of a program that was not written to be recorded.
//!
//! Built as a shared library and loaded before the C library with
//! `LD_PRELOAD`, it defines `malloc`, `free`, `calloc`, `realloc`,
//! `reallocarray`, `posix_memalign`, `aligned_alloc`, `memalign`, `valloc` and
//! `pvalloc`. The dynamic loader binds every call to those names to these
//! definitions: calls from Rust's [`System`] allocator, and calls from C code
//! such as `strdup`, which a Rust `#[global_allocator]` never sees. Each one
//! forwards to glibc's own allocator under its second name (`__libc_malloc`,
//! `__libc_free`, …) and records the call into a fixed-capacity
//! [`heap_trace::Recorder`].
//!
//! ```sh
//! HEAP_TRACE_OUT=trace.jsonl LD_PRELOAD=target/release/libheap_trace_preload.so ./program
//! ```
//!
//! Recording starts when the library is loaded, if `HEAP_TRACE_OUT` is set;
//! the variable is then removed from the environment, so the programs this
//! one starts do not record over the same file. When the process exits
//! normally (returning from `main` or calling `exit`, which is also how the
//! Rust test harness ends, passing or failing) the events are written to
//! that file in heap-trace's JSON-lines format
//! ([`heap_trace::Trace::to_json_lines`]). A process killed by a signal, or
//! ended with `_exit` or `abort`, writes nothing.
//!
//! What the recording cannot know: C's `free(p)` and `realloc(p, n)` do not
//! say how big `p` was, so a `dealloc` event's `size` and a `realloc` event's
//! `old_size` are written as 0 (and `dealloc`'s `align` as `malloc`'s); the
//! reader fills them in from the block's allocation (`cargo workbook trace`
//! does). Plain `malloc`, `calloc` and `realloc` blocks are recorded with
//! the alignment `malloc` guarantees (16 on x86-64 glibc), the aligned
//! functions' with the alignment asked for. Failed calls are not recorded,
//! except a failed `realloc` (address 0), as heap-trace records it.
//! Threads are tagged with the kernel's thread id (`gettid`), not with
//! numbers 1, 2, …: the reader renumbers them. A program whose global
//! allocator does not call `malloc` (mimalloc, jemalloc, a static arena)
//! shows only the calls the runtime and the C library make.
//!
//! Nothing on the allocation path allocates, locks, panics or unwinds: the
//! recorder is a preallocated array claimed with atomics, and the trace is
//! written at exit through a buffer on the stack with plain `write` calls.
//!
//! Linux with glibc only (the `__libc_*` entry points are glibc's). On any
//! other target this library is empty, so the workspace still builds there
//! (and for wasm32). It is not run under Miri: its whole job is foreign
//! function interposition, which Miri does not model.
//!
//! [`System`]: https://doc.rust-lang.org/std/alloc/struct.System.html

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod format;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod interpose;
