//! Live bytes after each event, as a step line, with the reallocs marked.

use std::fmt::Write as _;

use heap_trace::{Kind, Trace};

use crate::axis::{Scale, ticks};
use crate::frame::{LEFT, Options, bytes, heading, x_axis, x_scale};
use crate::svg::Svg;
use crate::text::escape;

const PLOT_HEIGHT: f64 = 220.0;
const MOVED: &str = "#e15759";
const IN_PLACE: &str = "#59a14f";
const LINE: &str = "#4e79a7";
/// Beyond this many reallocs their sizes are left to the hover text.
const MAX_SIZE_LABELS: usize = 24;

/// Live bytes (y) after each event (x, the event number), as a step line:
/// each allocation steps up, each free steps down. Every `realloc` is a
/// marker with its new size beside it (up to 24 of them; beyond that the
/// sizes are in the hover text): a filled dot where it moved the block (and
/// so copied it), a ring where the block was resized in place. A dashed line
/// marks the peak.
///
/// Markers have `class="realloc"` and `data-seq`, `data-addr`,
/// `data-old-addr`, `data-size`, `data-old-size`, `data-moved`
/// (`true`/`false`) and a `<title>`. An empty trace gives a picture that
/// says no allocations were recorded; a trace with dropped events says the
/// picture is incomplete.
pub fn live_bytes_svg(trace: &Trace, options: &Options) -> String {
    let width = options.width();
    let title = options.title_or("Live bytes");
    let events = trace.events.len();
    let live = trace.live_bytes();
    let peak = live.iter().copied().max().unwrap_or(0);

    // Heading, warning, legend, plot, axis.
    let legend_y = 40.0 + if trace.dropped > 0 { 18.0 } else { 0.0 };
    let top = legend_y + 26.0;
    let bottom = top + PLOT_HEIGHT;
    let mut svg = Svg::new(width, bottom + 46.0, &title);
    heading(&mut svg, &title, trace);
    if events == 0 {
        svg.note(
            LEFT,
            top + PLOT_HEIGHT / 2.0,
            "No allocations were recorded: nothing to draw.",
        );
        return svg.finish();
    }

    let legend = [
        (
            format!(r#"<line x1="0" y1="-4" x2="16" y2="-4" stroke="{LINE}" stroke-width="2"/>"#),
            "live bytes",
        ),
        (
            format!(r#"<circle cx="8" cy="-4" r="4" fill="{MOVED}"/>"#),
            "realloc that moved the block (new size beside it)",
        ),
        (
            format!(
                r#"<circle cx="8" cy="-4" r="3.5" fill="none" stroke="{IN_PLACE}" stroke-width="2"/>"#
            ),
            "realloc in place",
        ),
    ];
    let mut lx = 10.0;
    for (mark, label) in &legend {
        let _ = writeln!(
            svg.body,
            r#"<g transform="translate({lx:.1},{legend_y:.1})">{mark}<text x="22" y="0">{}</text></g>"#,
            escape(label)
        );
        lx += 22.0 + 6.3 * label.chars().count() as f64 + 22.0;
    }

    let x = x_scale(width, events);
    let y_ticks = ticks(peak as f64, true, 5);
    let y = Scale {
        lo: 0.0,
        hi: *y_ticks.last().unwrap_or(&1.0),
        px_lo: bottom,
        px_hi: top,
    };
    for t in &y_ticks {
        let ty = y.at(*t);
        let _ = writeln!(
            svg.body,
            r#"<line x1="{LEFT:.1}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="currentColor" stroke-opacity="0.12"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"#,
            x.px_hi,
            LEFT - 6.0,
            ty + 4.0,
            bytes(*t as usize)
        );
    }
    let _ = writeln!(
        svg.body,
        r#"<line x1="{LEFT:.1}" y1="{top:.1}" x2="{LEFT:.1}" y2="{bottom:.1}" stroke="currentColor"/><text transform="translate(18,{:.1}) rotate(-90)" text-anchor="middle">live bytes</text>"#,
        (top + bottom) / 2.0
    );
    x_axis(&mut svg, &x, events, top, bottom);

    // The step line: the value after event i holds from x(i) to x(i + 1).
    let mut path = format!("M{:.1} {:.1}", x.at(0.0), y.at(0.0));
    let mut before = 0usize;
    for (i, after) in live.iter().enumerate() {
        let xi = x.at(i as f64);
        if *after != before {
            let _ = write!(
                path,
                " L{xi:.1} {:.1} L{xi:.1} {:.1}",
                y.at(before as f64),
                y.at(*after as f64)
            );
        }
        before = *after;
    }
    let _ = write!(
        path,
        " L{:.1} {:.1}",
        x.at(events as f64),
        y.at(before as f64)
    );
    let _ = writeln!(
        svg.body,
        r#"<path class="live-line" d="{path}" fill="none" stroke="{LINE}" stroke-width="2" stroke-linejoin="round"/>"#
    );

    // The peak.
    let py = y.at(peak as f64);
    let _ = writeln!(
        svg.body,
        r#"<line class="peak" x1="{LEFT:.1}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="currentColor" stroke-dasharray="4 3" stroke-opacity="0.6"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">peak {}</text>"#,
        x.px_hi,
        x.px_hi,
        py - 4.0,
        bytes(peak)
    );

    let reallocs: Vec<usize> = (0..events)
        .filter(|&i| trace.events[i].kind == Kind::Realloc && trace.events[i].addr != 0)
        .collect();
    let labelled = reallocs.len() <= MAX_SIZE_LABELS;
    // Many markers: smaller, so the line stays visible between them.
    let radius = if labelled {
        4.0
    } else if reallocs.len() <= 100 {
        2.5
    } else {
        1.5
    };
    for &i in &reallocs {
        let e = &trace.events[i];
        let moved = e.addr != e.old_addr;
        let (cx, cy) = (x.at(i as f64), y.at(live[i] as f64));
        let what = if moved {
            format!(
                "moved from {:#x} to {:#x}: {} copied",
                e.old_addr,
                e.addr,
                bytes(e.old_size.min(e.size))
            )
        } else {
            format!("resized in place at {:#x}", e.addr)
        };
        let hover = format!(
            "event {}: realloc {} → {}, {what}; {} live after it",
            e.seq,
            bytes(e.old_size),
            bytes(e.size),
            bytes(live[i])
        );
        let mark = if moved {
            format!(r#"r="{radius}" fill="{MOVED}""#)
        } else {
            format!(
                r#"r="{}" fill="none" stroke="{IN_PLACE}" stroke-width="{}""#,
                radius * 0.875,
                radius / 2.0
            )
        };
        let _ = writeln!(
            svg.body,
            r#"<circle class="realloc" cx="{cx:.1}" cy="{cy:.1}" {mark} data-seq="{}" data-addr="{:#x}" data-old-addr="{:#x}" data-size="{}" data-old-size="{}" data-moved="{moved}"><title>{}</title></circle>"#,
            e.seq,
            e.addr,
            e.old_addr,
            e.size,
            e.old_size,
            escape(&hover)
        );
        if labelled {
            let _ = writeln!(
                svg.body,
                r#"<text class="realloc-size" x="{:.1}" y="{:.1}" text-anchor="end" font-size="10">{}</text>"#,
                cx - 5.0,
                cy - 5.0,
                bytes(e.size)
            );
        }
    }
    if !labelled {
        svg.note(
            LEFT + 8.0,
            top + 14.0,
            &format!("{} reallocs: hover a marker for its sizes", reallocs.len()),
        );
    }
    svg.finish()
}
