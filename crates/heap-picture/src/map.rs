//! The block map: address (y) over event number (x), a bar per block.

use std::fmt::Write as _;

use heap_trace::Trace;

use crate::axis::ticks;
use crate::blocks::{Block, End, Origin, blocks};
use crate::frame::{LEFT, Options, bytes, heading, x_axis, x_scale};
use crate::svg::{PALETTE, Svg};
use crate::text::{escape, group_digits};

/// Empty address ranges longer than this are cut out of the y axis.
pub const GAP_CUT: usize = 1024;
/// Pixels a cut-out range takes.
const GAP_PX: f64 = 9.0;
/// Smallest height of a run of blocks, so small blocks stay visible.
const MIN_RUN_PX: f64 = 4.0;
const MIN_BAR_PX: f64 = 1.5;

/// A stretch of addresses that blocks cover (with gaps of at most
/// [`GAP_CUT`] bytes inside), drawn to scale.
#[derive(Clone, Copy, Debug)]
struct Run {
    start: usize,
    end: usize,
    /// Pixel y of `start` (bottom) and of `end` (top).
    y_start: f64,
    y_end: f64,
}

/// Addresses on the y axis: low at the bottom, each run to scale, the gaps
/// between runs cut down to a few pixels.
struct AddressAxis {
    runs: Vec<Run>,
}

impl AddressAxis {
    fn new(blocks: &[Block], top: f64, bottom: f64) -> AddressAxis {
        let mut spans: Vec<(usize, usize)> = blocks
            .iter()
            .map(|b| (b.addr, b.addr.saturating_add(b.size.max(1))))
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1.saturating_add(GAP_CUT) => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        let gaps = merged.len().saturating_sub(1) as f64;
        let total: f64 = merged.iter().map(|(s, e)| (e - s) as f64).sum();
        let room = (bottom - top) - gaps * GAP_PX - merged.len() as f64 * MIN_RUN_PX;
        let per_byte = room.max(0.0) / total.max(1.0);
        let mut y = bottom;
        let mut runs = Vec::new();
        for (start, end) in merged {
            let height = MIN_RUN_PX + (end - start) as f64 * per_byte;
            runs.push(Run {
                start,
                end,
                y_start: y,
                y_end: y - height,
            });
            y -= height + GAP_PX;
        }
        AddressAxis { runs }
    }

    /// The pixel y of an address inside one of the runs.
    fn y(&self, addr: usize) -> f64 {
        let i = self
            .runs
            .partition_point(|r| r.end < addr)
            .min(self.runs.len() - 1);
        let r = self.runs[i];
        let along = (addr.saturating_sub(r.start)) as f64 / (r.end - r.start).max(1) as f64;
        r.y_start + along.min(1.0) * (r.y_end - r.y_start)
    }
}

/// The block map: time (event number) on x, address on y, one bar per block
/// from the event that made it to the event that freed it. A `realloc` that
/// moved a block starts a new bar at the new address; one that resized in
/// place ends the bar and starts the next at the same address. Blocks still
/// live at the end reach the right edge and are drawn pale with a dashed
/// outline. Colours: by thread when more than one thread allocated, else by
/// how the block was made (alloc, alloc_zeroed, realloc moved, realloc in
/// place).
///
/// The address axis puts low addresses at the bottom, draws the ranges that
/// blocks cover to scale, and cuts empty ranges longer than 1 KiB down to a
/// thin band with a dashed line (the legend says so), so blocks far apart in
/// memory are all visible.
///
/// Each bar is a `<rect class="block">` with `data-seq` (the event that made
/// it), `data-addr` (hex), `data-size`, `data-align`, `data-thread`,
/// `data-kind` (`alloc`, `alloc_zeroed`, `realloc-moved`,
/// `realloc-in-place`), `data-end` (`dealloc`, `realloc` or `live`) and
/// `data-freed` (the `seq` of the event that ended it, or `never`), and a
/// `<title>` for hover.
pub fn block_map_svg(trace: &Trace, options: &Options) -> String {
    let width = options.width();
    let title = options.title_or("Block map");
    let events = trace.events.len();
    let (blocks, unknown_frees) = blocks(trace);

    let mut threads: Vec<u32> = blocks.iter().map(|b| b.thread).collect();
    threads.sort_unstable();
    threads.dedup();
    let by_thread = threads.len() > 1;
    let color = |b: &Block| -> &'static str {
        if by_thread {
            let i = threads.iter().position(|t| *t == b.thread).unwrap_or(0);
            PALETTE[i % PALETTE.len()]
        } else {
            match b.origin {
                Origin::Alloc => PALETTE[0],
                Origin::AllocZeroed => PALETTE[5],
                Origin::ReallocMoved => PALETTE[3],
                Origin::ReallocInPlace => PALETTE[2],
            }
        }
    };

    // Legend entries: colours in use, then the live style.
    let mut legend: Vec<(String, String)> = Vec::new();
    if by_thread {
        for (i, t) in threads.iter().enumerate() {
            legend.push((PALETTE[i % PALETTE.len()].to_owned(), format!("thread {t}")));
        }
    } else {
        for origin in [
            Origin::Alloc,
            Origin::AllocZeroed,
            Origin::ReallocMoved,
            Origin::ReallocInPlace,
        ] {
            if let Some(b) = blocks.iter().find(|b| b.origin == origin) {
                legend.push((color(b).to_owned(), origin.describe().to_owned()));
            }
        }
    }
    let live_count = blocks.iter().filter(|b| b.ended_by == End::Live).count();

    let first_line = 40.0 + if trace.dropped > 0 { 18.0 } else { 0.0 };
    let mut notes = vec![format!(
        "Address: low at the bottom. Empty ranges over {} between blocks are cut out (dashed lines).",
        bytes(GAP_CUT)
    )];
    if unknown_frees > 0 {
        notes.push(format!(
            "{} free(s) or realloc(s) of blocks allocated before recording are not drawn.",
            group_digits(unknown_frees as u64)
        ));
    }
    let top = first_line + 20.0 + notes.len() as f64 * 16.0 + 8.0;
    let plot_height = 300.0;
    let bottom = top + plot_height;
    let mut svg = Svg::new(width, bottom + 46.0, &title);
    heading(&mut svg, &title, trace);
    if blocks.is_empty() {
        let text = if events == 0 {
            "No allocations were recorded: nothing to draw."
        } else {
            "No blocks were allocated while recording: nothing to draw."
        };
        svg.note(LEFT, top + plot_height / 2.0, text);
        return svg.finish();
    }

    let mut lx = 10.0;
    let swatches = legend
        .iter()
        .map(|(c, l)| (format!(r#"<rect x="0" y="-10" width="14" height="12" fill="{c}"/>"#), l.clone()))
        .chain((live_count > 0).then(|| {
            (
                r#"<rect x="0" y="-10" width="14" height="12" fill="currentColor" fill-opacity="0.25" stroke="currentColor" stroke-dasharray="3 2"/>"#.to_owned(),
                "still live at the end".to_owned(),
            )
        }));
    for (mark, label) in swatches {
        let _ = writeln!(
            svg.body,
            r#"<g transform="translate({lx:.1},{first_line:.1})">{mark}<text x="19" y="0">{}</text></g>"#,
            escape(&label)
        );
        lx += 19.0 + 6.3 * label.chars().count() as f64 + 18.0;
    }
    for (i, note) in notes.iter().enumerate() {
        let _ = writeln!(
            svg.body,
            r#"<text x="10" y="{:.1}" font-size="11">{}</text>"#,
            first_line + 20.0 + i as f64 * 16.0,
            escape(note)
        );
    }

    let x = x_scale(width, events);
    let axis = AddressAxis::new(&blocks, top, bottom);
    x_axis(&mut svg, &x, events, top, bottom);
    let _ = writeln!(
        svg.body,
        r#"<line x1="{LEFT:.1}" y1="{top:.1}" x2="{LEFT:.1}" y2="{bottom:.1}" stroke="currentColor"/><text transform="translate(14,{:.1}) rotate(-90)" text-anchor="middle">address</text>"#,
        (top + bottom) / 2.0
    );

    // Address labels at the start of runs (not too close together), and the
    // cut-out gaps.
    let mut last_label = f64::INFINITY;
    for (i, run) in axis.runs.iter().enumerate() {
        let mut labels = vec![(run.y_start, format!("{:#x}", run.start))];
        // Inside a tall run, offsets from its start every 30 px or so.
        let span = run.end - run.start;
        let tall = run.y_start - run.y_end;
        if tall >= 40.0 {
            let steps = ticks(span as f64, true, (tall / 30.0) as usize);
            for t in steps.iter().filter(|t| **t > 0.0 && **t < span as f64) {
                let addr = run.start + *t as usize;
                labels.push((axis.y(addr), format!("+{}", bytes(*t as usize))));
            }
        }
        for (ly, text) in labels {
            if last_label - ly >= 12.0 {
                let _ = writeln!(
                    svg.body,
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10" font-family="monospace">{text}</text>"#,
                    LEFT - 6.0,
                    ly + 3.0,
                );
                last_label = ly;
            }
        }
        if let Some(next) = axis.runs.get(i + 1) {
            let gy = (run.y_end + next.y_start) / 2.0;
            let _ = writeln!(
                svg.body,
                r#"<line class="gap" x1="{:.1}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}" stroke="currentColor" stroke-opacity="0.5" stroke-dasharray="2 4" data-skipped="{}"><title>{} of addresses cut out</title></line>"#,
                LEFT - 4.0,
                x.px_hi,
                next.start - run.end,
                bytes(next.start - run.end)
            );
        }
    }

    for b in &blocks {
        let x0 = x.at(b.start as f64);
        let x1 = x.at(b.end.unwrap_or(events) as f64);
        let y_low = axis.y(b.addr);
        let y_high = axis.y(b.addr.saturating_add(b.size.max(1)));
        let height = (y_low - y_high).max(MIN_BAR_PX);
        let live = b.ended_by == End::Live;
        let style = if live {
            r#" fill-opacity="0.35" stroke="currentColor" stroke-width="0.8" stroke-dasharray="3 2""#
        } else {
            ""
        };
        let ended = match (b.ended_by, b.freed_seq) {
            (End::Live, _) | (_, None) => "still live at the end".to_owned(),
            (End::Dealloc, Some(seq)) => format!("freed at event {seq}"),
            (End::Realloc, Some(seq)) => format!("reallocated at event {seq}"),
        };
        let hover = format!(
            "{:#x}: {} (align {}), thread {}; {} at event {}, {ended}",
            b.addr,
            bytes(b.size),
            b.align,
            b.thread,
            b.origin.describe(),
            b.seq
        );
        let _ = writeln!(
            svg.body,
            r#"<rect class="block{}" x="{x0:.1}" y="{:.1}" width="{:.1}" height="{height:.1}" fill="{}"{style} data-seq="{}" data-addr="{:#x}" data-size="{}" data-align="{}" data-thread="{}" data-kind="{}" data-end="{}" data-freed="{}"><title>{}</title></rect>"#,
            if live { " live" } else { "" },
            y_high.min(y_low - MIN_BAR_PX),
            (x1 - x0).max(MIN_BAR_PX),
            color(b),
            b.seq,
            b.addr,
            b.size,
            b.align,
            b.thread,
            b.origin.name(),
            b.ended_by.name(),
            b.freed_seq.map_or("never".to_owned(), |s| s.to_string()),
            escape(&hover)
        );
    }
    svg.finish()
}
