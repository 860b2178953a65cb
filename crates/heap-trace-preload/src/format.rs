//! heap-trace's JSON-lines format, written without allocating: each line is
//! formatted with [`core::fmt`] into a caller's fixed buffer.
//!
//! The text must equal what [`heap_trace::Trace::to_json_lines`] writes for
//! the same events (the tests below compare them), so that
//! [`heap_trace::Trace::parse`] reads it back.

use core::fmt::{self, Write};

use heap_trace::{Event, Kind};

/// The first line: format version, number of events, calls not recorded.
pub fn write_header(out: &mut impl Write, events: u64, dropped: u64) -> fmt::Result {
    writeln!(
        out,
        "{{\"heap-trace\":1,\"events\":{events},\"dropped\":{dropped}}}"
    )
}

/// One event's line, ending in a newline.
pub fn write_event(out: &mut impl Write, event: &Event) -> fmt::Result {
    write!(
        out,
        "{{\"seq\":{},\"thread\":{},\"kind\":\"{}\",\"addr\":\"{:#x}\",\"size\":{},\"align\":{}",
        event.seq,
        event.thread,
        event.kind.name(),
        event.addr,
        event.size,
        event.align
    )?;
    if event.kind == Kind::Realloc {
        write!(
            out,
            ",\"old_addr\":\"{:#x}\",\"old_size\":{}",
            event.old_addr, event.old_size
        )?;
    }
    out.write_str("}\n")
}

/// Text written into a fixed byte buffer. A write that does not fit fails
/// with [`fmt::Error`] and leaves the buffer as it was.
pub struct Buffer<'a> {
    bytes: &'a mut [u8],
    len: usize,
}

impl<'a> Buffer<'a> {
    pub fn new(bytes: &'a mut [u8]) -> Self {
        Self { bytes, len: 0 }
    }

    /// What has been written so far.
    pub fn filled(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Forgets everything after the first `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }
}

impl Write for Buffer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let free = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        // Same length by construction: `free` is `s.len()` bytes long.
        free.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heap_trace::Trace;

    fn event(seq: u64, kind: Kind, addr: usize, size: usize) -> Event {
        Event {
            seq,
            thread: 1,
            kind,
            addr,
            size,
            align: 16,
            old_addr: 0,
            old_size: 0,
        }
    }

    /// One of each kind, with the extremes of every number: a null address
    /// (a failed realloc), the largest address and size, a second thread.
    fn sample() -> Trace {
        Trace {
            events: vec![
                event(0, Kind::Alloc, 0x55d0_c0a0, 8000),
                event(1, Kind::AllocZeroed, 0x7f00_0000_1000, 0),
                Event {
                    thread: 4_000_000_000,
                    old_addr: 0x55d0_c0a0,
                    old_size: 8000,
                    ..event(2, Kind::Realloc, 0x7fff_ffff_f000, 16000)
                },
                Event {
                    old_addr: usize::MAX,
                    old_size: usize::MAX,
                    ..event(3, Kind::Realloc, 0, usize::MAX)
                },
                event(4, Kind::Dealloc, 0x7fff_ffff_f000, 16000),
                Event {
                    align: 4096,
                    ..event(u64::MAX, Kind::Alloc, usize::MAX, 1)
                },
            ],
            dropped: 17,
        }
    }

    /// The file as the preload writes it: header, then each event.
    fn written(trace: &Trace) -> String {
        let mut text = String::new();
        write_header(&mut text, trace.events.len() as u64, trace.dropped).unwrap();
        for event in &trace.events {
            write_event(&mut text, event).unwrap();
        }
        text
    }

    #[test]
    fn lines_equal_what_heap_trace_writes() {
        let trace = sample();
        assert_eq!(written(&trace), trace.to_json_lines());
    }

    #[test]
    fn an_empty_trace_is_its_header() {
        let trace = Trace::default();
        assert_eq!(written(&trace), trace.to_json_lines());
    }

    #[test]
    fn what_is_written_parses_back_to_the_same_events() {
        let trace = sample();
        assert_eq!(Trace::parse(&written(&trace)), Ok(trace));
    }

    #[test]
    fn a_line_goes_through_the_fixed_buffer_unchanged() {
        let trace = sample();
        let mut storage = [0u8; 512];
        let mut text = String::new();
        for event in &trace.events {
            let mut buffer = Buffer::new(&mut storage);
            write_event(&mut buffer, event).unwrap();
            text.push_str(core::str::from_utf8(buffer.filled()).unwrap());
        }
        assert_eq!(text, written(&trace).split_once('\n').unwrap().1);
    }

    #[test]
    fn a_line_that_does_not_fit_fails_and_keeps_what_was_there() {
        let mut storage = [0u8; 40];
        let mut buffer = Buffer::new(&mut storage);
        buffer.write_str("kept").unwrap();
        // Formatting writes piece by piece: the caller cuts back to the mark.
        let mark = buffer.len();
        assert_eq!(
            write_event(&mut buffer, &event(0, Kind::Alloc, 1, 2)),
            Err(fmt::Error)
        );
        buffer.truncate(mark);
        assert_eq!(buffer.filled(), b"kept");
        // A piece that would overflow is refused whole.
        assert_eq!(buffer.write_str(&"x".repeat(37)), Err(fmt::Error));
        assert_eq!(buffer.filled(), b"kept");
    }
}
