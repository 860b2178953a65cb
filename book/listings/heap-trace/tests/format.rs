//! The text format: what is written reads back as the same trace, bad lines
//! are refused with their line number and the rule they break, and the live
//! bytes follow the blocks.

use heap_trace::{Event, Kind, ParseError, Trace};

fn event(seq: u64, thread: u32, kind: Kind, addr: usize, size: usize) -> Event {
    Event {
        seq,
        thread,
        kind,
        addr,
        size,
        align: 8,
        old_addr: 0,
        old_size: 0,
    }
}

fn realloc(seq: u64, addr: usize, size: usize, old_addr: usize, old_size: usize) -> Event {
    Event {
        old_addr,
        old_size,
        ..event(seq, 1, Kind::Realloc, addr, size)
    }
}

/// A trace with every kind, a failed call, a gap in `seq`, extreme values.
fn sample() -> Trace {
    Trace {
        events: vec![
            event(0, 1, Kind::Alloc, 0x1000, 16),
            realloc(1, 0x2000, 32, 0x1000, 16),
            event(2, 2, Kind::AllocZeroed, 0x3000, 100),
            Event {
                align: 4096,
                ..event(4, 2, Kind::Alloc, usize::MAX, usize::MAX)
            },
            event(5, 3, Kind::Alloc, 0, 1 << 40), // a failed call
            realloc(6, 0, 64, 0x2000, 32),        // a failed realloc
            event(7, 1, Kind::Dealloc, 0x2000, 32),
            event(u64::MAX, u32::MAX, Kind::Dealloc, 0x3000, 100),
        ],
        dropped: 3,
    }
}

#[test]
fn written_trace_reads_back_the_same() {
    let trace = sample();
    let text = trace.to_json_lines();
    assert_eq!(Trace::parse(&text), Ok(trace.clone()));

    let mut written = Vec::new();
    trace
        .write_json_lines(&mut written)
        .expect("writing to a Vec");
    assert_eq!(written, text.as_bytes(), "both writers write the same text");

    let empty = Trace::default();
    assert_eq!(Trace::parse(&empty.to_json_lines()), Ok(empty));
}

#[test]
fn lines_look_as_documented() {
    let text = sample().to_json_lines();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 9);
    assert_eq!(lines[0], r#"{"heap-trace":1,"events":8,"dropped":3}"#);
    assert_eq!(
        lines[1],
        r#"{"seq":0,"thread":1,"kind":"alloc","addr":"0x1000","size":16,"align":8}"#
    );
    assert_eq!(
        lines[2],
        r#"{"seq":1,"thread":1,"kind":"realloc","addr":"0x2000","size":32,"align":8,"old_addr":"0x1000","old_size":16}"#
    );
    assert_eq!(
        lines[3],
        r#"{"seq":2,"thread":2,"kind":"alloc_zeroed","addr":"0x3000","size":100,"align":8}"#
    );
    assert!(text.ends_with("}\n"));
}

#[test]
fn reader_accepts_spaces_and_any_field_order() {
    let text = "{ \"dropped\" : 0 , \"events\":1, \"heap-trace\":1 }\r\n\
                {\"kind\":\"dealloc\", \"align\":1,\"size\":3,\"addr\":\"0xABc\",\"thread\":7,\"seq\":9}\n";
    let trace = Trace::parse(text).expect("valid");
    assert_eq!(
        trace.events,
        [Event {
            align: 1,
            ..event(9, 7, Kind::Dealloc, 0xabc, 3)
        }]
    );
}

/// Each bad input, the line the error must name and words it must contain.
const BAD: &[(&str, usize, &str)] = &[
    ("", 1, "empty input"),
    ("{\"events\":0,\"dropped\":0}", 1, "header"),
    (
        "{\"heap-trace\":2,\"events\":0,\"dropped\":0}",
        1,
        "version 2",
    ),
    (
        "{\"heap-trace\":1,\"events\":0}",
        1,
        "\"dropped\" is missing",
    ),
    (
        "{\"heap-trace\":1,\"events\":0,\"dropped\":0,\"x\":1}",
        1,
        "unknown field \"x\"",
    ),
    (
        "{\"heap-trace\":1,\"events\":-1,\"dropped\":0}",
        1,
        "unsigned integer",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n",
        2,
        "announces 1 events but 0",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\
         {\"seq\":0,\"thread\":1,\"kind\":\"free\",\"addr\":\"0x10\",\"size\":8,\"align\":8}",
        2,
        "`kind` must be one of alloc, alloc_zeroed, realloc, dealloc; found \"free\"",
    ),
    (
        "{\"heap-trace\":1,\"events\":2,\"dropped\":0}\n\
         {\"seq\":0,\"thread\":1,\"kind\":\"alloc\",\"addr\":\"0x10\",\"size\":8,\"align\":8}\n\
         {\"seq\":1,\"thread\":1,\"kind\":\"alloc\",\"addr\":\"16\",\"size\":8,\"align\":8}",
        3,
        "\"addr\" must start with 0x",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\
         {\"seq\":0,\"thread\":1,\"kind\":\"alloc\",\"addr\":\"0x10\",\"size\":8,\"align\":3}",
        2,
        "power of two",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\
         {\"seq\":0,\"thread\":1,\"kind\":\"realloc\",\"addr\":\"0x10\",\"size\":8,\"align\":8}",
        2,
        "\"old_addr\" is missing",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\
         {\"seq\":0,\"thread\":1,\"kind\":\"alloc\",\"addr\":\"0x10\",\"size\":8,\"align\":8,\"old_size\":8}",
        2,
        "belongs only to realloc",
    ),
    (
        "{\"heap-trace\":1,\"events\":2,\"dropped\":0}\n\
         {\"seq\":5,\"thread\":1,\"kind\":\"alloc\",\"addr\":\"0x10\",\"size\":8,\"align\":8}\n\
         {\"seq\":5,\"thread\":1,\"kind\":\"dealloc\",\"addr\":\"0x10\",\"size\":8,\"align\":8}",
        3,
        "does not follow 5",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\n",
        2,
        "empty line",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\
         {\"seq\":0,\"seq\":1,\"thread\":1,\"kind\":\"alloc\",\"addr\":\"0x10\",\"size\":8,\"align\":8}",
        2,
        "\"seq\" appears twice",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\
         {\"seq\":0,\"thread\":1,\"kind\":\"alloc\",\"addr\":\"0x10\",\"size\":99999999999999999999999,\"align\":8}",
        2,
        "too large",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\
         [\"seq\",0]",
        2,
        "expected one JSON object",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\
         {\"seq\":0,\"thread\":1,\"kind\":\"alloc\",\"addr\":\"0x10\",\"size\":8,\"align\":8",
        2,
        "expected one JSON object",
    ),
    (
        "{\"heap-trace\":1,\"events\":1,\"dropped\":0}\n\
         {\"seq\":0,\"thread\":1,\"kind\":\"alloc\",\"addr\":\"0x1\\u0030\",\"size\":8,\"align\":8}",
        2,
        "escape",
    ),
];

#[test]
fn bad_input_is_refused_naming_the_line_and_the_rule() {
    for &(input, line, words) in BAD {
        let error: ParseError = match Trace::parse(input) {
            Ok(trace) => panic!("accepted {input:?} as {trace:?}"),
            Err(error) => error,
        };
        let shown = error.to_string();
        assert_eq!(error.line, line, "{input:?} gave {shown:?}");
        assert!(
            shown.starts_with(&format!("line {line}: ")),
            "{input:?} gave {shown:?}"
        );
        // The message quotes keys with backquotes in prose, quotes elsewhere:
        // compare without caring which.
        let plain = |s: &str| s.replace('`', "\"");
        assert!(
            plain(&shown).contains(&plain(words)),
            "{input:?} gave {shown:?}, which does not say {words:?}"
        );
    }
}

#[test]
fn live_bytes_follow_the_blocks() {
    let trace = Trace {
        events: vec![
            event(0, 1, Kind::Alloc, 0x10, 16),
            realloc(1, 0x40, 64, 0x10, 16),
            event(2, 1, Kind::AllocZeroed, 0x100, 8),
            realloc(3, 0, 128, 0x40, 64), // failed: the old block stays
            event(4, 1, Kind::Dealloc, 0x9000, 4096), // allocated before the trace
            realloc(5, 0x40, 32, 0x40, 64), // shrunk in place
            event(6, 1, Kind::Alloc, 0, 8), // failed
            event(7, 1, Kind::Dealloc, 0x40, 32),
            event(8, 1, Kind::Dealloc, 0x100, 8),
        ],
        dropped: 0,
    };
    assert_eq!(trace.live_bytes(), [16, 64, 72, 72, 72, 40, 40, 8, 0]);
}
