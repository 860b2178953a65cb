//! What the live-bytes picture and the block map share: the same margins
//! and the same x axis (event number), so stacked one above the other the
//! same event sits at the same x.

use std::fmt::Write as _;

use heap_trace::Trace;

use crate::axis::{Scale, ticks};
use crate::svg::Svg;
use crate::text::{group_digits, human_bytes};

/// Left of the plot: room for address labels.
pub(crate) const LEFT: f64 = 118.0;
pub(crate) const RIGHT: f64 = 24.0;

/// Options for [`live_bytes_svg`](crate::live_bytes_svg) and
/// [`block_map_svg`](crate::block_map_svg).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Width in pixels (at least 360; the picture scales down in a narrower
    /// page, so text shrinks with it).
    pub width: u32,
    /// The heading; empty for the picture's own ("Live bytes", "Block map").
    pub title: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            width: 720,
            title: String::new(),
        }
    }
}

impl Options {
    pub(crate) fn width(&self) -> f64 {
        f64::from(self.width.max(360))
    }

    pub(crate) fn title_or(&self, fallback: &str) -> String {
        if self.title.trim().is_empty() {
            fallback.to_owned()
        } else {
            self.title.clone()
        }
    }
}

/// The x scale: event number 0..=events over the plot's width.
pub(crate) fn x_scale(width: f64, events: usize) -> Scale {
    Scale {
        lo: 0.0,
        hi: events.max(1) as f64,
        px_lo: LEFT,
        px_hi: width - RIGHT,
    }
}

/// Writes the heading lines: the title, then a warning if events were
/// dropped. Returns the y where the next line goes.
pub(crate) fn heading(svg: &mut Svg, title: &str, trace: &Trace) -> f64 {
    svg.title_text(title);
    let mut y = 40.0;
    if trace.dropped > 0 {
        svg.warning(
            10.0,
            y,
            &format!(
                "Incomplete: {} event(s) were dropped (the recorder's buffer was full).",
                group_digits(trace.dropped)
            ),
        );
        y += 18.0;
    }
    y
}

/// The x axis under a plot that ends at `bottom`, with ticks, grid lines up
/// to `top` and its label.
pub(crate) fn x_axis(svg: &mut Svg, x: &Scale, events: usize, top: f64, bottom: f64) {
    let _ = writeln!(
        svg.body,
        r#"<line x1="{:.1}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="currentColor"/>"#,
        x.px_lo, x.px_hi
    );
    // Whole event numbers only: few events get a tick each.
    let steps = ticks((events.max(1) as f64).max(5.0), false, 8);
    for t in steps.iter().filter(|t| **t <= x.hi + 1e-9) {
        let tx = x.at(*t);
        let _ = writeln!(
            svg.body,
            r#"<line x1="{tx:.1}" y1="{top:.1}" x2="{tx:.1}" y2="{bottom:.1}" stroke="currentColor" stroke-opacity="0.12"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#,
            bottom + 15.0,
            t
        );
    }
    let _ = writeln!(
        svg.body,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">event number (each call to the allocator is one event)</text>"#,
        (x.px_lo + x.px_hi) / 2.0,
        bottom + 33.0
    );
}

/// A byte count for axis labels and titles.
pub(crate) fn bytes(n: usize) -> String {
    human_bytes(n as u64)
}
