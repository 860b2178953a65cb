mod common;

use common::{Element, check_picture};
use heap_picture::{Options, block_map_svg, blocks, live_bytes_svg, summary};
use heap_trace::{Event, Kind, Trace};

const A: usize = 0x1000;
const B: usize = 0x1100;
const C: usize = 0x9000_0000;

fn event(seq: u64, kind: Kind, addr: usize, size: usize) -> Event {
    Event {
        seq,
        thread: 1,
        kind,
        addr,
        size,
        align: 8,
        old_addr: 0,
        old_size: 0,
    }
}

fn realloc(seq: u64, old_addr: usize, old_size: usize, addr: usize, size: usize) -> Event {
    Event {
        old_addr,
        old_size,
        ..event(seq, Kind::Realloc, addr, size)
    }
}

/// alloc A (32 B); realloc A in place to 64 B; realloc A to B (moved, 128 B);
/// alloc C (16 B) far away; free B. C stays live.
fn small() -> Trace {
    Trace {
        events: vec![
            event(0, Kind::Alloc, A, 32),
            realloc(1, A, 32, A, 64),
            realloc(2, A, 64, B, 128),
            event(3, Kind::AllocZeroed, C, 16),
            event(4, Kind::Dealloc, B, 128),
        ],
        dropped: 0,
    }
}

fn options() -> Options {
    Options::default()
}

fn attr<'a>(e: &'a Element, name: &str) -> &'a str {
    e.attr(name)
        .unwrap_or_else(|| panic!("<{}> has no {name}", e.name))
}

#[test]
fn live_bytes_marks_each_realloc_where_it_happened() {
    let trace = small();
    assert_eq!(trace.live_bytes(), [32, 64, 128, 144, 16]);
    let root = check_picture(&live_bytes_svg(&trace, &options()));
    assert_eq!(root.title(), Some("Live bytes"));

    let marks = root.with_class("realloc");
    assert_eq!(marks.len(), 2);
    let data: Vec<_> = marks
        .iter()
        .map(|m| {
            (
                attr(m, "data-seq"),
                attr(m, "data-old-size"),
                attr(m, "data-size"),
                attr(m, "data-moved"),
            )
        })
        .collect();
    assert_eq!(
        data,
        [("1", "32", "64", "false"), ("2", "64", "128", "true")]
    );
    assert_eq!(attr(marks[1], "data-addr"), "0x1100");
    assert_eq!(attr(marks[1], "data-old-addr"), "0x1000");
    // Event 2 is twice as far along as event 1, and 128 live bytes sit
    // twice as high above the axis as 64.
    let (x1, x2) = (marks[0].num("cx"), marks[1].num("cx"));
    let x0 = x1 - (x2 - x1);
    assert!(x0 > 100.0 && x2 > x1, "x grows with the event number");
    let peak_line = root.with_class("peak")[0];
    assert!(
        marks[1].num("cy") < marks[0].num("cy"),
        "more bytes is higher"
    );
    assert!(
        peak_line.num("y1") < marks[1].num("cy"),
        "the peak (144 B) is above 128 B"
    );
    let title = marks[1].title().unwrap();
    assert!(
        title.contains("64 B → 128 B") && title.contains("moved") && title.contains("64 B copied"),
        "{title}"
    );

    let sizes: Vec<String> = root
        .with_class("realloc-size")
        .iter()
        .map(|t| t.text.clone())
        .collect();
    assert_eq!(sizes, ["64 B", "128 B"]);
    let text = root.all_text();
    assert!(text.contains("peak 144 B"), "{text}");
    assert!(
        text.contains("live bytes") && text.contains("event number"),
        "axes are labelled: {text}"
    );

    // The step line: a start, one vertical step per change (5 changes, two
    // points each), and the end.
    let line = root.with_class("live-line")[0];
    let points = attr(line, "d").matches(['M', 'L']).count();
    assert_eq!(points, 1 + 5 * 2 + 1);
}

#[test]
fn block_map_has_one_bar_per_block_with_its_data() {
    let trace = small();
    let root = check_picture(&block_map_svg(&trace, &options()));
    let bars = root.with_class("block");
    let data: Vec<_> = bars
        .iter()
        .map(|b| {
            (
                attr(b, "data-seq"),
                attr(b, "data-addr"),
                attr(b, "data-size"),
                attr(b, "data-align"),
                attr(b, "data-thread"),
                attr(b, "data-kind"),
                attr(b, "data-end"),
                attr(b, "data-freed"),
            )
        })
        .collect();
    assert_eq!(
        data,
        [
            ("0", "0x1000", "32", "8", "1", "alloc", "realloc", "1"),
            (
                "1",
                "0x1000",
                "64",
                "8",
                "1",
                "realloc-in-place",
                "realloc",
                "2"
            ),
            (
                "2",
                "0x1100",
                "128",
                "8",
                "1",
                "realloc-moved",
                "dealloc",
                "4"
            ),
            (
                "3",
                "0x90000000",
                "16",
                "8",
                "1",
                "alloc_zeroed",
                "live",
                "never"
            ),
        ]
    );
    assert_eq!(
        root.with_class("live").len(),
        1,
        "only C is live at the end"
    );

    // Bars run from the event that made the block to the one that ended it:
    // one event apart for the first two, two for B.
    let step = bars[1].num("x") - bars[0].num("x");
    assert!(step > 0.0);
    assert!((bars[0].num("width") - step).abs() < 0.2);
    assert!((bars[2].num("width") - 2.0 * step).abs() < 0.2);
    // C is made at event 3 and reaches the end of the axis (event 5).
    assert!((bars[3].num("x") - (bars[0].num("x") + 3.0 * step)).abs() < 0.2);
    assert!((bars[3].num("width") - 2.0 * step).abs() < 0.2);

    // Same address, same bottom edge; the 64 B block is twice as tall as the
    // 32 B one; B (higher address) sits above A; C above both.
    let bottom = |b: &Element| b.num("y") + b.num("height");
    assert!((bottom(bars[0]) - bottom(bars[1])).abs() < 0.01);
    assert!((bars[1].num("height") / bars[0].num("height") - 2.0).abs() < 0.05);
    assert!(bottom(bars[2]) < bars[1].num("y"), "B is above A");
    assert!(bottom(bars[3]) < bars[2].num("y"), "C is above B");

    // A and B are 256 B apart: one run. C is far away: one cut, which says
    // how much it skipped.
    let gaps = root.with_class("gap");
    assert_eq!(gaps.len(), 1);
    assert_eq!(attr(gaps[0], "data-skipped"), (C - (B + 128)).to_string());
    let text = root.all_text();
    assert!(
        text.contains("cut out"),
        "the legend says the axis is cut: {text}"
    );
    assert!(text.contains("still live at the end"), "{text}");
    let hover = bars[2].title().unwrap();
    assert_eq!(
        hover,
        "0x1100: 128 B (align 8), thread 1; realloc, moved (copied) at event 2, freed at event 4"
    );
}

#[test]
fn blocks_of_several_threads_are_coloured_by_thread() {
    let mut trace = small();
    trace.events[3].thread = 2;
    let root = check_picture(&block_map_svg(&trace, &options()));
    let bars = root.with_class("block");
    let fill = |i: usize| attr(bars[i], "fill");
    assert_eq!(fill(0), fill(2), "same thread, same colour");
    assert_ne!(fill(0), fill(3));
    let text = root.all_text();
    assert!(
        text.contains("thread 1") && text.contains("thread 2"),
        "{text}"
    );
    // One thread: coloured by how the block was made.
    let single = check_picture(&block_map_svg(&small(), &options()));
    let bars = single.with_class("block");
    assert_ne!(attr(bars[0], "fill"), attr(bars[2], "fill"));
}

#[test]
fn an_empty_trace_says_no_allocations() {
    let empty = Trace::default();
    for svg in [
        live_bytes_svg(&empty, &options()),
        block_map_svg(&empty, &options()),
    ] {
        let root = check_picture(&svg);
        assert!(root.with_class("block").is_empty() && root.with_class("realloc").is_empty());
        assert!(
            root.all_text().contains("No allocations were recorded"),
            "{}",
            root.all_text()
        );
    }
}

#[test]
fn dropped_events_are_said_in_the_picture() {
    let mut trace = small();
    trace.dropped = 3;
    for svg in [
        live_bytes_svg(&trace, &options()),
        block_map_svg(&trace, &options()),
    ] {
        let root = check_picture(&svg);
        let warning = root.with_class("warning");
        assert_eq!(warning.len(), 1);
        assert!(
            warning[0].text.contains("3 event(s) were dropped"),
            "{}",
            warning[0].text
        );
    }
    // And a trace with no drops has no warning.
    let root = check_picture(&live_bytes_svg(&small(), &options()));
    assert!(root.with_class("warning").is_empty());
}

#[test]
fn titles_are_escaped() {
    let options = Options {
        width: 500,
        title: r#"Vec<u8> & "friends""#.into(),
    };
    for svg in [
        live_bytes_svg(&small(), &options),
        block_map_svg(&small(), &options),
    ] {
        let root = check_picture(&svg);
        assert_eq!(root.title(), Some(r#"Vec<u8> & "friends""#));
        assert_eq!(root.attr("width"), Some("500"));
    }
}

#[test]
fn frees_of_blocks_from_before_recording_are_counted_not_drawn() {
    let trace = Trace {
        events: vec![
            event(0, Kind::Dealloc, 0x5000, 8),
            event(1, Kind::Alloc, A, 8),
        ],
        dropped: 0,
    };
    let (made, unknown) = blocks(&trace);
    assert_eq!((made.len(), unknown), (1, 1));
    let root = check_picture(&block_map_svg(&trace, &options()));
    assert_eq!(root.with_class("block").len(), 1);
    assert!(root.all_text().contains("allocated before recording"));
}

#[test]
fn many_reallocs_leave_their_sizes_to_the_hover_text() {
    let mut events = vec![event(0, Kind::Alloc, A, 8)];
    for i in 1..=30u64 {
        let i_usize = i as usize;
        events.push(realloc(i, A, 8 * i_usize, A, 8 * (i_usize + 1)));
    }
    let root = check_picture(&live_bytes_svg(&Trace { events, dropped: 0 }, &options()));
    assert_eq!(root.with_class("realloc").len(), 30);
    assert!(root.with_class("realloc-size").is_empty());
    assert!(root.all_text().contains("30 reallocs: hover"));
}

#[test]
fn summary_counts_and_sums() {
    let s = summary(&small());
    assert_eq!(
        (
            s.events,
            s.allocs,
            s.reallocs,
            s.reallocs_moved,
            s.deallocs,
            s.threads
        ),
        (5, 2, 2, 1, 1, 1)
    );
    assert_eq!((s.peak_live, s.final_live, s.bytes_copied), (144, 16, 64));
    assert_eq!(s.bytes_requested, 32 + 64 + 128 + 16);
}
