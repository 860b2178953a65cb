//! The C allocation functions, forwarding to glibc and recording each call.
//!
//! Order of recording (heap-trace's rule): an allocation takes its slot
//! after glibc returns the block; a free or a realloc takes its slot before
//! glibc gets the block back, because from that moment glibc may hand the
//! same address to another thread, whose allocation must come later in the
//! trace than this free.

use core::ffi::{c_char, c_int, c_void};
use core::ptr::null_mut;
use core::sync::atomic::{AtomicI32, AtomicU8, AtomicUsize, Ordering};

use heap_trace::{Kind, Recorder};

use crate::format::{self, Buffer};

/// Events one run can hold; calls past it are counted as dropped. About
/// 56 bytes each, in zero-initialised memory (`.bss`) that the kernel maps
/// only when touched, so a short program pays for what it uses.
const CAPACITY: usize = 1 << 18;

static RECORDER: Recorder<CAPACITY> = Recorder::new();

/// The alignment plain `malloc`, `calloc` and `realloc` guarantee: glibc's
/// `MALLOC_ALIGNMENT`, twice the size of a pointer but at least the
/// alignment of `long double` — 16 on x86-64, aarch64 and i386. Recorded as
/// the `align` of their blocks.
const MALLOC_ALIGN: usize = if cfg!(target_arch = "x86") {
    16
} else {
    2 * size_of::<usize>()
};

/// The environment variable naming the trace file.
const OUT_VAR: &core::ffi::CStr = c"HEAP_TRACE_OUT";

/// The trace file's path, copied at load (the environment entry is removed)
/// with room for its terminating NUL.
static PATH: [AtomicU8; 4096] = [const { AtomicU8::new(0) }; 4096];
/// Bytes of `PATH` in use; 0 when not recording.
///
/// `PATH`, `PATH_LEN` and `RECORDING_PID` are written once, in `start`, and
/// read in `finish`, with `Relaxed` atomics: `start` runs before the program
/// has a second thread, and starting a thread orders everything before it
/// with everything in that thread, so whichever thread ends up calling
/// `exit` sees the values `start` stored.
static PATH_LEN: AtomicUsize = AtomicUsize::new(0);
/// The process that started recording: a child made by `fork` inherits the
/// recording but must not write its copy over the parent's file.
static RECORDING_PID: AtomicI32 = AtomicI32::new(0);

unsafe extern "C" {
    // glibc's allocator under the names it keeps for programs that replace
    // `malloc`: calling these never comes back here.
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_free(ptr: *mut c_void);
    fn __libc_calloc(count: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    fn __libc_valloc(size: usize) -> *mut c_void;
    fn __libc_pvalloc(size: usize) -> *mut c_void;
}

/// The calling thread's kernel id. A preloaded library's thread-locals are
/// not something `malloc` may touch (the first touch can allocate), and the
/// kernel id costs one system call, which never allocates.
fn thread() -> u32 {
    // SAFETY: `gettid` has no preconditions and cannot fail.
    let tid = unsafe { libc::gettid() };
    tid.unsigned_abs()
}

/// Records a new block (nothing for a failed call: no block exists).
fn record_new(kind: Kind, block: *mut c_void, size: usize, align: usize) {
    if block.is_null() {
        return;
    }
    if let Some(slot) = RECORDER.reserve() {
        RECORDER.fill(
            slot,
            thread(),
            kind,
            block.cast(),
            size,
            align,
            null_mut(),
            0,
        );
    }
}

/// # Safety
/// As C's `malloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    // SAFETY: glibc's malloc, with the caller's argument.
    let block = unsafe { __libc_malloc(size) };
    record_new(Kind::Alloc, block, size, MALLOC_ALIGN);
    block
}

/// # Safety
/// As C's `calloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    // SAFETY: glibc's calloc, with the caller's arguments (it checks the
    // product for overflow and returns null then).
    let block = unsafe { __libc_calloc(count, size) };
    // Non-null means the product did not overflow.
    record_new(
        Kind::AllocZeroed,
        block,
        count.saturating_mul(size),
        MALLOC_ALIGN,
    );
    block
}

/// # Safety
/// As C's `free`: `ptr` is null or a live block from this allocator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        // `free(NULL)` does nothing; nothing to record.
        return;
    }
    // Before glibc has the block back (see the module's note on order).
    let slot = RECORDER.reserve();
    // SAFETY: the caller passes a live block of this allocator, which is
    // glibc's: every block we return came from a `__libc_*` call.
    unsafe { __libc_free(ptr) };
    if let Some(slot) = slot {
        // `free` is not told the size: 0 here, filled in by the reader
        // (and the alignment as malloc's, the format wants a power of two).
        RECORDER.fill(
            slot,
            thread(),
            Kind::Dealloc,
            ptr.cast(),
            0,
            MALLOC_ALIGN,
            null_mut(),
            0,
        );
    }
}

/// # Safety
/// As C's `realloc`: `ptr` is null or a live block from this allocator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    if ptr.is_null() {
        // `realloc(NULL, n)` is `malloc(n)`.
        // SAFETY: as for `malloc`, which has no preconditions.
        return unsafe { malloc(size) };
    }
    let slot = RECORDER.reserve();
    // SAFETY: the caller passes a live block of glibc's allocator.
    let block = unsafe { __libc_realloc(ptr, size) };
    if let Some(slot) = slot {
        if size == 0 {
            // glibc frees the block and returns null: a free.
            RECORDER.fill(
                slot,
                thread(),
                Kind::Dealloc,
                ptr.cast(),
                0,
                MALLOC_ALIGN,
                null_mut(),
                0,
            );
        } else {
            // A null `block` means the call failed and `ptr` is still live:
            // heap-trace's failed realloc. The old size is the reader's.
            RECORDER.fill(
                slot,
                thread(),
                Kind::Realloc,
                block.cast(),
                size,
                MALLOC_ALIGN,
                ptr.cast(),
                0,
            );
        }
    }
    block
}

/// # Safety
/// As C's `reallocarray`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn reallocarray(ptr: *mut c_void, count: usize, size: usize) -> *mut c_void {
    match count.checked_mul(size) {
        // SAFETY: as `realloc`, with the caller's block.
        Some(total) => unsafe { realloc(ptr, total) },
        None => {
            // SAFETY: `__errno_location` returns the calling thread's errno.
            unsafe { *libc::__errno_location() = libc::ENOMEM };
            null_mut()
        }
    }
}

/// Aligned allocation, recorded with the alignment asked for.
fn aligned(align: usize, size: usize) -> *mut c_void {
    // SAFETY: glibc's memalign accepts any alignment (it rounds one that is
    // not a power of two up) and returns null when it cannot comply.
    let block = unsafe { __libc_memalign(align, size) };
    record_new(Kind::Alloc, block, size, align);
    block
}

/// # Safety
/// As C's `posix_memalign`: `out` is valid for a pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    if !align.is_power_of_two() || !align.is_multiple_of(size_of::<*mut c_void>()) {
        return libc::EINVAL;
    }
    let block = aligned(align, size);
    if block.is_null() {
        return libc::ENOMEM;
    }
    // SAFETY: the caller passes `out` valid for a write of a pointer.
    unsafe { out.write(block) };
    0
}

/// # Safety
/// As C's `aligned_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    aligned(align, size)
}

/// # Safety
/// As C's `memalign`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    aligned(align, size)
}

fn page_size() -> usize {
    // SAFETY: `sysconf` only reads a value; it does not allocate.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page)
        .ok()
        .filter(|&page| page > 0)
        .unwrap_or(4096)
}

/// # Safety
/// As C's `valloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
    // SAFETY: glibc's valloc, with the caller's argument.
    let block = unsafe { __libc_valloc(size) };
    record_new(Kind::Alloc, block, size, page_size());
    block
}

/// # Safety
/// As C's `pvalloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pvalloc(size: usize) -> *mut c_void {
    // SAFETY: glibc's pvalloc, with the caller's argument.
    let block = unsafe { __libc_pvalloc(size) };
    // pvalloc rounds the size up to whole pages (non-null: no overflow).
    let page = page_size();
    let rounded = size.div_ceil(page).saturating_mul(page).max(page);
    record_new(Kind::Alloc, block, rounded, page);
    block
}

/// Runs when the library is loaded, before the program's `main`.
#[used]
#[unsafe(link_section = ".init_array")]
static START: extern "C" fn() = start;

/// Runs at a normal exit, after the program's own exit handlers and the
/// destructors of the libraries loaded after this one.
#[used]
#[unsafe(link_section = ".fini_array")]
static FINISH: extern "C" fn() = finish;

extern "C" fn start() {
    // SAFETY: a NUL-terminated name; the loader runs this before any thread
    // of the program exists, so nothing changes the environment meanwhile.
    let value = unsafe { libc::getenv(OUT_VAR.as_ptr()) };
    if value.is_null() {
        return;
    }
    let mut len = 0;
    loop {
        // SAFETY: `value` is a NUL-terminated string and we stop at its NUL.
        let byte = unsafe { value.add(len).read() } as u8;
        if byte == 0 {
            break;
        }
        // The last byte of `PATH` stays 0, the path's terminator.
        match PATH.get(..PATH.len() - 1).and_then(|room| room.get(len)) {
            Some(slot) => slot.store(byte, Ordering::Relaxed),
            None => {
                say(b"heap-trace-preload: HEAP_TRACE_OUT is longer than 4095 bytes: not recording\n");
                return;
            }
        }
        len += 1;
    }
    if len == 0 {
        say(b"heap-trace-preload: HEAP_TRACE_OUT is empty: not recording\n");
        return;
    }
    PATH_LEN.store(len, Ordering::Relaxed);
    // SAFETY: `getpid` has no preconditions.
    RECORDING_PID.store(unsafe { libc::getpid() }, Ordering::Relaxed);
    // Programs this one starts inherit LD_PRELOAD but not the file name.
    // SAFETY: a NUL-terminated name; no other thread exists yet (see above);
    // glibc's unsetenv only moves pointers, it does not allocate.
    unsafe { libc::unsetenv(OUT_VAR.as_ptr()) };
    RECORDER.start();
}

extern "C" fn finish() {
    let len = PATH_LEN.load(Ordering::Relaxed);
    // SAFETY: `getpid` has no preconditions.
    if len == 0 || RECORDING_PID.load(Ordering::Relaxed) != unsafe { libc::getpid() } {
        return;
    }
    // Threads still running may allocate on: those calls are not recorded,
    // and the ones that already hold a slot finish filling it.
    RECORDER.stop();
    let mut path = [0u8; 4096];
    for (to, from) in path.iter_mut().zip(&PATH).take(len) {
        *to = from.load(Ordering::Relaxed);
    }
    // SAFETY: `path` is NUL-terminated (`len` < 4096 and the rest is 0).
    let fd = unsafe {
        libc::open(
            path.as_ptr().cast::<c_char>(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
            0o644,
        )
    };
    if fd < 0 {
        say(b"heap-trace-preload: cannot create the file HEAP_TRACE_OUT names: no trace written\n");
        return;
    }
    if write_trace(fd).is_err() {
        say(b"heap-trace-preload: writing the trace failed: the file is incomplete\n");
    }
    // SAFETY: `fd` is the descriptor opened above, closed once.
    unsafe { libc::close(fd) };
}

/// Writes the header and every completed event to `fd`, through a buffer
/// on the stack.
fn write_trace(fd: c_int) -> Result<(), ()> {
    // The header counts the events, so a first pass counts them (and waits
    // for threads that reserved a slot to finish it); the second writes at
    // most that many, so the count is right even if a late event completes
    // in between.
    let mut events = 0u64;
    let missing = RECORDER.for_each_event(|_| events += 1);
    let dropped = RECORDER.dropped().saturating_add(missing);

    let mut storage = [0u8; 16 * 1024];
    let mut out = Buffer::new(&mut storage);
    format::write_header(&mut out, events, dropped).map_err(drop)?;
    let mut written = 0u64;
    let mut result = Ok(());
    RECORDER.for_each_event(|event| {
        if result.is_err() || written == events {
            return;
        }
        written += 1;
        let mark = out.len();
        if format::write_event(&mut out, &event).is_ok() {
            return;
        }
        // Full: send what is there, then the line again into the empty buffer.
        out.truncate(mark);
        result = write_all(fd, out.filled()).and_then(|()| {
            out.truncate(0);
            format::write_event(&mut out, &event).map_err(drop)
        });
    });
    result?;
    write_all(fd, out.filled())
}

/// `write` until every byte is out, retrying when interrupted.
fn write_all(fd: c_int, mut bytes: &[u8]) -> Result<(), ()> {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is valid for reads of its length.
        let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        match usize::try_from(written) {
            Ok(n) if n > 0 => bytes = bytes.get(n..).unwrap_or_default(),
            // SAFETY: `__errno_location` returns the calling thread's errno.
            _ if written < 0 && unsafe { *libc::__errno_location() } == libc::EINTR => continue,
            _ => return Err(()),
        }
    }
    Ok(())
}

/// A message on standard error (no allocation, no formatting).
fn say(message: &[u8]) {
    let _ = write_all(libc::STDERR_FILENO, message);
}
