//! Page faults: counting them, and taking them ahead of time.
//!
//! The first write to a page of fresh memory traps into the kernel, which
//! finds a zeroed page and maps it (a minor fault: no disk involved). Every
//! allocator pays that once per page it hands out for the first time; the
//! one that reuses freed memory pays it once, an arena that never reuses
//! pays it on every run. [`minor_faults`] lets the report show how many
//! faults each timed run took, and [`touch_pages`] lets an arena take them
//! before the clock starts.

/// The page size the kernel maps memory in on the platforms we measure on.
/// Writing one byte every `PAGE_SIZE` bytes touches every page, and still
/// every page where pages are larger.
pub const PAGE_SIZE: usize = 4096;

/// Minor page faults this process has taken so far (all threads), or `None`
/// where we cannot ask.
#[cfg(unix)]
pub fn minor_faults() -> Option<u64> {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` points to writable memory the size and alignment of a
    // `struct rusage`, which `getrusage` fills in; `RUSAGE_SELF` is a valid
    // `who`.
    let status = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if status != 0 {
        return None;
    }
    // SAFETY: `getrusage` returned 0, so it wrote the whole struct (and it
    // was zeroed before, so every field was initialised either way).
    let usage = unsafe { usage.assume_init() };
    u64::try_from(usage.ru_minflt).ok()
}

/// Minor page faults this process has taken so far, or `None` where we
/// cannot ask.
#[cfg(not(unix))]
pub fn minor_faults() -> Option<u64> {
    None
}

/// Writes a zero byte at `start` and at every page boundary after it below
/// `start + len`, so the kernel maps every page of the range now. Bytes
/// before `start` on its page are left alone.
///
/// # Safety
///
/// `start..start + len` must be valid for writes, and no other thread may
/// read or write it during the call. The bytes written become zero.
pub unsafe fn touch_pages(start: *mut u8, len: usize) {
    let mut offset = 0;
    while offset < len {
        // SAFETY: `offset < len`, so the byte is inside the range the
        // caller promised is ours to write.
        unsafe { start.add(offset).write_volatile(0) };
        let addr = start.addr().wrapping_add(offset);
        // The next page boundary after `addr`.
        offset += PAGE_SIZE - addr % PAGE_SIZE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touches_each_page_once_and_nothing_outside() {
        let mut bytes = vec![7u8; 3 * PAGE_SIZE];
        let base = bytes.as_mut_ptr();
        // Start 100 bytes past a page boundary, end 1 byte into a later page.
        let first = PAGE_SIZE - base.addr() % PAGE_SIZE + 100;
        let len = PAGE_SIZE - 100 + 1;
        // SAFETY: `first + len` is at most `3 * PAGE_SIZE`: inside `bytes`,
        // which nothing else uses.
        unsafe { touch_pages(base.wrapping_add(first), len) };
        let zeroed: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == 0).collect();
        // The start, then the next page boundary (the range's last byte).
        assert_eq!(zeroed, [first, first + len - 1]);
    }

    #[test]
    fn an_empty_range_is_not_written() {
        let mut byte = 7u8;
        // SAFETY: a zero-length range writes nothing.
        unsafe { touch_pages(&mut byte, 0) };
        assert_eq!(byte, 7);
    }

    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    #[test]
    fn writing_fresh_memory_takes_minor_faults() {
        use std::sync::atomic::AtomicU8;
        // Zero-initialised, so it lives in pages nobody has written yet
        // (malloc could hand out memory it had touched before).
        static FRESH: [AtomicU8; 64 * PAGE_SIZE] = [const { AtomicU8::new(0) }; 64 * PAGE_SIZE];
        let before = minor_faults().expect("getrusage works on Linux");
        // SAFETY: the pointer covers all of `FRESH`, whose bytes are atomics
        // (interior mutability), and only this test uses it.
        unsafe { touch_pages((&raw const FRESH).cast::<u8>().cast_mut(), 64 * PAGE_SIZE) };
        let after = minor_faults().expect("getrusage works on Linux");
        assert!(after > before, "{before} -> {after}");
    }
}
