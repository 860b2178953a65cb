//! A grouped horizontal bar chart.

use std::fmt::Write as _;

use crate::axis::{Scale, ticks};
use crate::svg::{PALETTE, Svg};
use crate::text::{escape, with_unit};

/// One group of bars: a label on the left and one value per series.
#[derive(Clone, Debug, PartialEq)]
pub struct BarGroup {
    pub label: String,
    /// One value per series, in the order of `series`; a missing or
    /// non-finite value is drawn as "—" with no bar.
    pub values: Vec<f64>,
}

const WIDTH: f64 = 720.0;
const BAR: f64 = 14.0;
const BAR_GAP: f64 = 3.0;
const GROUP_GAP: f64 = 12.0;
const TOP: f64 = 62.0;
/// Room right of the longest bar for its value.
const VALUE_ROOM: f64 = 70.0;

/// A grouped horizontal bar chart: a row of bars per group, one bar per
/// series (coloured as in the legend), the value printed after each bar, and
/// an axis with `unit` under them. `unit` `"B"` or `"bytes"` prints values
/// in B/KiB/MiB and steps the axis in powers of two.
///
/// Every bar has a `<title>` (shown on hover) and `data-group`,
/// `data-series` and `data-value` attributes. An empty `groups` gives a
/// picture that says there is nothing to show.
pub fn bar_chart(title: &str, series: &[&str], groups: &[BarGroup], unit: &str) -> String {
    let bytes = matches!(unit, "B" | "bytes");
    let rows = series.len().max(1) as f64;
    let group_height = rows * BAR + (rows - 1.0) * BAR_GAP;
    let plot_height = if groups.is_empty() {
        40.0
    } else {
        groups.len() as f64 * (group_height + GROUP_GAP) - GROUP_GAP
    };
    let height = TOP + plot_height + 50.0;
    let mut svg = Svg::new(WIDTH, height, title);
    svg.title_text(title);

    if groups.is_empty() || series.is_empty() {
        svg.note(20.0, TOP + 20.0, "No data: nothing to draw.");
        return svg.finish();
    }

    // Legend: a swatch and the name of each series, left to right.
    let mut x = 20.0;
    for (i, name) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let _ = writeln!(
            svg.body,
            r#"<rect x="{x:.1}" y="34" width="12" height="12" fill="{color}"/><text x="{:.1}" y="44">{}</text>"#,
            x + 16.0,
            escape(name)
        );
        x += 16.0 + 7.0 * name.chars().count() as f64 + 24.0;
    }

    let label_width = groups
        .iter()
        .map(|g| g.label.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(6, 34) as f64
        * 7.0
        + 16.0;
    let finite = || {
        groups
            .iter()
            .flat_map(|g| g.values.iter().copied())
            .filter(|v| v.is_finite())
    };
    let max = finite().fold(0.0_f64, f64::max);
    let min = finite().fold(0.0_f64, f64::min);
    let span = max.max(-min);
    let steps = ticks(span, bytes, 6);
    let axis_end = *steps.last().unwrap_or(&1.0);
    let lo = if min < 0.0 { -axis_end } else { 0.0 };
    let scale = Scale {
        lo,
        hi: axis_end,
        px_lo: label_width,
        px_hi: WIDTH - VALUE_ROOM,
    };
    let bottom = TOP + plot_height;

    // Grid and axis.
    let mut tick_values: Vec<f64> = steps.clone();
    if lo < 0.0 {
        tick_values.extend(steps.iter().skip(1).map(|t| -t));
    }
    for t in &tick_values {
        let tx = scale.at(*t);
        let _ = writeln!(
            svg.body,
            r#"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{bottom:.1}" stroke="currentColor" stroke-opacity="0.15"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#,
            TOP - 4.0,
            bottom + 16.0,
            escape(&with_unit(*t, unit))
        );
    }
    let zero = scale.at(0.0);
    let _ = writeln!(
        svg.body,
        r#"<line x1="{zero:.1}" y1="{:.1}" x2="{zero:.1}" y2="{bottom:.1}" stroke="currentColor"/>"#,
        TOP - 4.0
    );
    let axis_label = if unit.is_empty() {
        "value".to_owned()
    } else if bytes {
        "bytes".to_owned()
    } else {
        unit.to_owned()
    };
    let _ = writeln!(
        svg.body,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        (scale.px_lo + scale.px_hi) / 2.0,
        bottom + 36.0,
        escape(&axis_label)
    );

    for (g, group) in groups.iter().enumerate() {
        let top = TOP + g as f64 * (group_height + GROUP_GAP);
        let _ = writeln!(
            svg.body,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_width - 8.0,
            top + group_height / 2.0 + 4.0,
            escape(&group.label)
        );
        for (i, name) in series.iter().enumerate() {
            let y = top + i as f64 * (BAR + BAR_GAP);
            let value = group.values.get(i).copied().unwrap_or(f64::NAN);
            let text = with_unit(value, unit);
            if !value.is_finite() {
                let _ = writeln!(
                    svg.body,
                    r#"<text x="{:.1}" y="{:.1}" font-size="11">—</text>"#,
                    zero + 4.0,
                    y + BAR - 3.0
                );
                continue;
            }
            let end = scale.at(value);
            let (left, width) = (end.min(zero), (end - zero).abs());
            let color = PALETTE[i % PALETTE.len()];
            let _ = writeln!(
                svg.body,
                r#"<rect class="bar" x="{left:.1}" y="{y:.1}" width="{width:.1}" height="{BAR:.1}" fill="{color}" data-group="{}" data-series="{}" data-value="{value}"><title>{}, {}: {}</title></rect>"#,
                escape(&group.label),
                escape(name),
                escape(&group.label),
                escape(name),
                escape(&text)
            );
            let (value_x, anchor) = if value < 0.0 {
                (left - 4.0, "end")
            } else {
                (left + width + 4.0, "start")
            };
            let _ = writeln!(
                svg.body,
                r#"<text x="{value_x:.1}" y="{:.1}" text-anchor="{anchor}" font-size="11">{}</text>"#,
                y + BAR - 3.0,
                escape(&text)
            );
        }
    }
    svg.finish()
}
