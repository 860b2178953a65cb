//! Turning the children's measurements into the report: ratios against
//! `System` from the same run, the targets, Markdown, and an SVG chart.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::{ALLOCATORS, ArenaUse, BASELINE, Cell, Mode, Workload, harness};

/// Where and how the numbers were measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// `std::thread::available_parallelism`.
    pub cores: usize,
    pub rustc: String,
    /// `release` or `debug`: a debug build's numbers mean little.
    pub profile: String,
    pub os: String,
    pub arch: String,
    pub mode: Mode,
}

impl Machine {
    /// This machine and build.
    pub fn current(mode: Mode) -> Machine {
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            rustc: env!("BENCH_RUSTC_VERSION").to_owned(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_owned(),
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            mode,
        }
    }
}

/// One allocator's median time on one workload divided by System's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    pub allocator: String,
    pub workload: String,
    /// Below 1 is faster than System.
    pub time_ratio: f64,
}

/// A goal from the issue and how this run did against it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub goal: String,
    pub observed: String,
    /// `None` for an information line that has no threshold, or when a
    /// number it needs was not measured.
    pub pass: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub machine: Machine,
    pub cells: Vec<Cell>,
    /// Every measured cell except System's own, in table order.
    pub ratios: Vec<Ratio>,
    pub targets: Vec<Target>,
}

impl Report {
    pub fn new(machine: Machine, cells: Vec<Cell>) -> Report {
        let ratios = ratios(&cells);
        let mut report = Report {
            machine,
            cells,
            ratios,
            targets: Vec::new(),
        };
        report.targets = targets(&report);
        report
    }

    pub fn cell(&self, allocator: &str, workload: Workload) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.allocator == allocator && c.workload == workload.name())
    }

    pub fn ratio(&self, allocator: &str, workload: Workload) -> Option<f64> {
        self.ratios
            .iter()
            .find(|r| r.allocator == allocator && r.workload == workload.name())
            .map(|r| r.time_ratio)
    }
}

fn ratios(cells: &[Cell]) -> Vec<Ratio> {
    let mut out = Vec::new();
    for workload in Workload::ALL {
        let of = |name: &str| {
            cells
                .iter()
                .find(|c| c.allocator == name && c.workload == workload.name())
        };
        let Some(base) = of(BASELINE).filter(|c| c.timing.median_ns > 0.0) else {
            continue;
        };
        for spec in ALLOCATORS.iter().filter(|a| a.name != BASELINE) {
            if let Some(cell) = of(spec.name) {
                out.push(Ratio {
                    allocator: spec.name.to_owned(),
                    workload: workload.name().to_owned(),
                    time_ratio: cell.timing.median_ns / base.timing.median_ns,
                });
            }
        }
    }
    out
}

// ANCHOR: targets
/// How many times faster than System (the inverse of the time ratio).
fn speedup(ratio: f64) -> f64 {
    1.0 / ratio
}

/// "2.10× faster" or "1.40× slower": never "0.71× faster".
fn faster_or_slower(ratio: f64) -> String {
    if ratio <= 1.0 {
        format!("{:.2}× faster", speedup(ratio))
    } else {
        format!("{ratio:.2}× slower")
    }
}

fn targets(report: &Report) -> Vec<Target> {
    let batch = Workload::Batch;
    let mut out = Vec::new();
    for (allocator, at_least) in [("bump", 1.5), ("bumpalo", 3.0)] {
        let ratio = report.ratio(allocator, batch);
        out.push(Target {
            goal: format!("batch: {allocator} at least {at_least}× faster than System"),
            observed: ratio.map_or("not measured".into(), faster_or_slower),
            pass: ratio.map(|r| speedup(r) >= at_least),
        });
    }
    let per_thread = report.ratio("counting-per-thread", batch);
    let global = report.ratio("counting-global", batch);
    out.push(Target {
        goal: "batch: per-thread counting shim takes at most 1.25× System's time".into(),
        observed: format!(
            "{} (the global-atomic shim: {})",
            per_thread.map_or("not measured".into(), |r| format!("{r:.2}×")),
            global.map_or("not measured".into(), |r| format!("{r:.2}×")),
        ),
        pass: per_thread.map(|r| r <= 1.25),
    });
    // A claim often made for the two allocators is "double-digit-percent
    // gains": at least 10 % faster, i.e. a time ratio of 1/1.1 or less.
    for allocator in ["mimalloc", "jemalloc"] {
        let measured: Vec<(Workload, f64)> = Workload::ALL
            .into_iter()
            .filter_map(|w| report.ratio(allocator, w).map(|r| (w, r)))
            .collect();
        let gains = measured.iter().filter(|(_, r)| speedup(*r) >= 1.1).count();
        let each: Vec<String> = measured
            .iter()
            .map(|(w, r)| format!("{} {}", w.name(), faster_or_slower(*r)))
            .collect();
        out.push(Target {
            goal: format!(
                "{allocator} vs System on every workload (the claim to test: ≥ 10 % gains)"
            ),
            observed: format!(
                "{}; ≥ 10 % faster on {gains} of {}",
                each.join(", "),
                measured.len()
            ),
            pass: None,
        });
    }
    // The thread caches, and the arena that grows its newest block in place.
    for (workload, allocator, at_most, what) in [
        (
            Workload::Batch,
            "thread-cache-bump",
            0.5,
            "the thread-cached bump",
        ),
        (
            Workload::Churn,
            "thread-cache",
            0.7,
            "the recycling thread cache",
        ),
        (
            Workload::VecGrowth,
            "bump-grow",
            1.0,
            "the bump arena growing in place",
        ),
    ] {
        let ratio = report.ratio(allocator, workload);
        out.push(Target {
            goal: format!(
                "{}: {what} ({allocator}) takes at most {at_most:.1}× System's time",
                workload.name()
            ),
            observed: ratio.map_or("not measured".into(), |r| {
                format!("{r:.2}× ({})", faster_or_slower(r))
            }),
            pass: ratio.map(|r| r <= at_most),
        });
    }
    out
}
// ANCHOR_END: targets

fn allocators_in(report: &Report) -> Vec<&'static str> {
    ALLOCATORS
        .iter()
        .map(|a| a.name)
        .filter(|name| report.cells.iter().any(|c| c.allocator == *name))
        .collect()
}

/// The report as Markdown (what the program prints).
pub fn markdown(report: &Report) -> String {
    render(report, false)
}

/// The report as Markdown with the chart inline, as an `<svg>` element in a
/// `<figure>` after the ratio table: what the book shows. Table and chart
/// come from the same `report`, so from the same run.
pub fn markdown_with_chart(report: &Report) -> String {
    render(report, true)
}

fn render(report: &Report, with_chart: bool) -> String {
    let m = &report.machine;
    let names = allocators_in(report);
    let mut s = String::new();
    let sizes = m.mode.sizes();
    let _ = writeln!(s, "### Allocator benchmark ({} mode)\n", m.mode.name());
    let _ = writeln!(
        s,
        "Measured here: {} core(s), {}, {} build, {}/{}. Each allocator runs in its own \
         process, one workload at a time, in {} interleaved round(s) of {} timed run(s) after {} \
         warm-up run(s). Each number is the median of all timed runs; ± is half their \
         interquartile range.\n",
        m.cores, m.rustc, m.profile, m.os, m.arch, sizes.rounds, sizes.reps, sizes.warmup
    );
    if m.profile != "release" {
        let _ = writeln!(
            s,
            "*A debug build: optimisations are off, so these numbers say little. \
             Use `cargo workbook bench` for a release build.*\n"
        );
    }

    let _ = writeln!(s, "**Median time per operation (ns)**\n");
    workload_table(&mut s, &names, true, |name, workload| {
        report.cell(name, workload).map(|c| {
            format!(
                "{:.1} ±{:.0}%",
                c.timing.median_ns,
                c.timing.spread_percent()
            )
        })
    });

    let others: Vec<&str> = names.iter().copied().filter(|n| *n != BASELINE).collect();
    let _ = writeln!(
        s,
        "\n**Time relative to System in the same run** (below 1.00 is faster)\n"
    );
    workload_table(&mut s, &others, false, |name, workload| {
        report.ratio(name, workload).map(|r| format!("{r:.2}"))
    });
    if with_chart {
        // An HTML block in Markdown ends at the first blank line; the SVG
        // has none, so the whole figure stays HTML.
        let _ = write!(
            s,
            "\n<figure>\n{}<figcaption>The ratios above as bars, on a log scale: \
             left of the dashed line (System) is faster, right is slower.</figcaption>\n\
             </figure>\n",
            svg(report)
        );
    }

    if report.cells.iter().any(|c| !c.minor_faults.is_empty()) {
        let _ = writeln!(
            s,
            "\n**Minor page faults per 1000 operations** (median of the timed runs; \
             the first write to a fresh 4 KiB page is one fault)\n"
        );
        workload_table(&mut s, &names, false, |name, workload| {
            report
                .cell(name, workload)
                .and_then(faults_per_thousand_ops)
                .map(|f| format!("{f:.1}"))
        });
    }

    let _ = writeln!(s, "\n**Targets** (goals to compare with, not tests)\n");
    for t in &report.targets {
        let mark = match t.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "INFO",
        };
        let _ = writeln!(s, "- {mark} — {}: {}", t.goal, t.observed);
    }

    let _ = writeln!(s, "\n**The allocators**\n");
    for spec in ALLOCATORS.iter().filter(|a| names.contains(&a.name)) {
        let _ = writeln!(s, "- {}: {}", spec.name, spec.about);
    }
    if let Some(notes) = arena_notes(report) {
        s.push_str(&notes);
    }
    if let Some(notes) = thread_cache_notes(report) {
        s.push_str(&notes);
    }
    s
}

/// What a reader needs to read the thread caches' numbers: which requests
/// they pass to System, and how much of their arena they used.
fn thread_cache_notes(report: &Report) -> Option<String> {
    let cells: Vec<String> = report
        .cells
        .iter()
        .filter(|c| c.allocator.starts_with("thread-cache") || c.allocator == "bump-grow")
        .filter_map(|c| {
            c.arena.map(|a| {
                format!(
                    "{} on {} {} ({} used)",
                    c.allocator,
                    c.workload,
                    a.fallbacks,
                    human_bytes(a.used_bytes)
                )
            })
        })
        .collect();
    if cells.is_empty() {
        return None;
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n**Reading the thread-cache numbers**\n\n\
         - thread-cache-bump and thread-cache take a 64 KiB chunk of their 512 MiB arena per \
         thread with one `fetch_add` and then carve blocks with no atomic at all. \
         thread-cache also puts freed blocks on per-thread free lists, so churn and batch \
         recycle the same blocks run after run; blocks freed by another thread (cross-thread) \
         travel back to their owner through a lock-free list. Their pages are written before \
         each run, as the bump arena's are.\n\
         - Requests above 4 KiB go to System by design (vec-growth's larger vectors), and so \
         does everything once the arena is used up. Requests that went to System, all rounds \
         together, and the arena used by one process: {}.",
        cells.join(", ")
    );
    Some(s)
}

/// A table with a row per workload and a column per allocator in `names`;
/// `value` gives a cell's text, `None` where nothing was measured.
fn workload_table(
    s: &mut String,
    names: &[&str],
    with_op: bool,
    value: impl Fn(&str, Workload) -> Option<String>,
) {
    let (op_head, op_rule) = if with_op {
        (" one operation |", "---|")
    } else {
        ("", "")
    };
    let _ = writeln!(s, "| workload |{op_head} {} |", names.join(" | "));
    let _ = writeln!(s, "|---|{op_rule}{}", "---:|".repeat(names.len()));
    for workload in Workload::ALL {
        let row: Vec<String> = names
            .iter()
            .map(|name| value(name, workload).unwrap_or_else(|| "—".into()))
            .collect();
        let op = if with_op {
            format!(" {} |", workload.op())
        } else {
            String::new()
        };
        let _ = writeln!(s, "| {} |{op} {} |", workload.name(), row.join(" | "));
    }
}

/// The median over a cell's timed runs of its minor faults per 1000
/// operations; `None` if they were not counted.
fn faults_per_thousand_ops(cell: &Cell) -> Option<f64> {
    let per_kop: Vec<f64> = cell
        .minor_faults
        .iter()
        .map(|&f| f as f64 * 1000.0 / cell.ops_per_rep.max(1) as f64)
        .collect();
    harness::Timing::from_samples(&per_kop).map(|t| t.median_ns)
}

/// What a reader needs to read the bump arena's numbers fairly.
fn arena_notes(report: &Report) -> Option<String> {
    let cells: Vec<(&Cell, ArenaUse)> = report
        .cells
        .iter()
        .filter(|c| c.allocator == "bump")
        .filter_map(|c| c.arena.map(|a| (c, a)))
        .collect();
    let capacity = cells.first()?.1.capacity_bytes;
    let fallbacks: Vec<String> = cells
        .iter()
        .map(|(c, a)| {
            format!(
                "{} {} ({} of the arena used)",
                c.workload,
                a.fallbacks,
                human_bytes(a.used_bytes)
            )
        })
        .collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n**Reading the bump numbers**\n\n\
         - Fresh memory: the first write to a page nobody has touched costs a page fault, \
         whoever the allocator is. System pays it in its first run, then reuses the blocks it \
         freed, whose pages stay mapped. The bump arena ({}) never reuses a block, so every \
         run would start on untouched pages and the table would time the kernel. Before each \
         run, outside the timed region, the bump program writes one byte per page of the arena \
         the run will use (as much as the largest earlier run, plus headroom); the timed run is \
         the same batch of `alloc` and `dealloc` calls as everyone else's. The faults table \
         shows what each run still took. A long-running program using a bump arena pays about \
         one fault per 4 KiB it hands out.\n\
         - Atomics: every bump allocation is a locked compare-and-swap on the shared offset, \
         because a global allocator must be thread-safe. On x86 a locked instruction is also \
         a full barrier: it waits until earlier writes (the previous block's) have reached \
         the cache, and an arena's writes always land on cache lines nobody used yet, so \
         each allocation would wait out a cache miss. The arena prefetches the memory ahead \
         of its offset to hide that wait; what is left is the locked instruction itself. \
         glibc's malloc and free take no atomic while the process has a single thread. So \
         the arena can tie or lose to System on batch and churn; bumpalo (one thread, no \
         atomic, memory reused after a reset) shows what an arena saves without them.\n\
         - vec-growth: the arena has no `realloc` of its own, so the default one runs: a new \
         block, a copy of the whole vector, and a free that gives nothing back. System's \
         `realloc` usually grows a block where it is. Growing the arena's last block in place \
         is exercise 5; bump-grow does it (`bump::GrowInPlace`), so its vectors are never \
         copied, and it also takes the newest block back when it is freed, so the next vector \
         starts on the bytes the previous one just left, still in the cache, as System's \
         does.\n\
         - Requests that fell back to System, per workload: {}.",
        human_bytes(capacity),
        fallbacks.join(", ")
    );
    Some(s)
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

const ROW_HEIGHT: usize = 20;
const LABEL_WIDTH: usize = 250;
const BAR_AREA: usize = 480;
/// Room at each end of the bar area for the value printed beside a bar.
const VALUE_ROOM: usize = 40;
const TOP: usize = 40;
const COLORS: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// A horizontal bar per ratio, grouped by workload, on a log scale around
/// the line at 1.0 (System): bars to the left are faster, to the right
/// slower, and 2× faster is as long as 2× slower. Plain SVG, no dependencies.
///
/// No background, and text and lines in `currentColor`: inline in a page
/// the chart takes the page's text colour, so it reads on light and dark
/// themes alike (opened alone, it is black on the viewer's white).
pub fn svg(report: &Report) -> String {
    let rows = report.ratios.len();
    let width = LABEL_WIDTH + BAR_AREA + 20;
    let height = TOP + rows * ROW_HEIGHT + 30;
    // The farthest ratio from 1 in either direction sets the scale.
    let extent = report
        .ratios
        .iter()
        .map(|r| r.time_ratio.max(1.0 / r.time_ratio))
        .filter(|e| e.is_finite())
        .fold(2.0_f64, f64::max);
    let center = (LABEL_WIDTH + BAR_AREA / 2) as f64;
    let half = (BAR_AREA / 2 - VALUE_ROOM) as f64;
    let x_of = |ratio: f64| center + ratio.log2() / extent.log2() * half;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" style="max-width: 100%; height: auto" role="img" aria-label="Time relative to System, one bar per allocator and workload" font-family="sans-serif" font-size="12" fill="currentColor">"#
    );
    let _ = writeln!(
        s,
        r#"<text x="10" y="22" font-size="14" font-weight="bold">Time relative to System ({} mode, {} cores; log scale, left is faster)</text>"#,
        report.machine.mode.name(),
        report.machine.cores
    );
    for (i, r) in report.ratios.iter().enumerate() {
        let y = TOP + i * ROW_HEIGHT;
        let color_index = ALLOCATORS
            .iter()
            .position(|a| a.name == r.allocator)
            .unwrap_or(0);
        let color = COLORS[color_index % COLORS.len()];
        let end = x_of(r.time_ratio).clamp(center - half, center + half);
        let (left, bar) = (end.min(center), (end - center).abs().max(1.0));
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{} · {}</text>"#,
            LABEL_WIDTH - 8,
            y + 14,
            escape(&r.workload),
            escape(&r.allocator)
        );
        let _ = writeln!(
            s,
            r#"<rect class="bar" x="{left:.1}" y="{}" width="{bar:.1}" height="{}" fill="{color}"><title>{} on {}: {:.3}</title></rect>"#,
            y + 3,
            ROW_HEIGHT - 6,
            escape(&r.allocator),
            escape(&r.workload),
            r.time_ratio
        );
        let (value_x, anchor) = if end < center {
            (end - 4.0, "end")
        } else {
            (end + 4.0, "start")
        };
        let _ = writeln!(
            s,
            r#"<text x="{value_x:.1}" y="{}" text-anchor="{anchor}">{:.2}</text>"#,
            y + 14,
            r.time_ratio
        );
    }
    let bottom = TOP + rows * ROW_HEIGHT;
    let _ = writeln!(
        s,
        r##"<line x1="{center:.1}" y1="{}" x2="{center:.1}" y2="{bottom}" stroke="currentColor" stroke-dasharray="4 3"/>"##,
        TOP - 4
    );
    let _ = writeln!(
        s,
        r#"<text x="{center:.1}" y="{}" text-anchor="middle">System = 1.00</text>"#,
        bottom + 16
    );
    s.push_str("</svg>\n");
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Timing;

    fn cell(allocator: &str, workload: Workload, median_ns: f64) -> Cell {
        Cell {
            allocator: allocator.into(),
            workload: workload.name().into(),
            ops_per_rep: 10,
            warmup: 0,
            reps: 1,
            samples_ns: vec![median_ns],
            timing: Timing {
                median_ns,
                q1_ns: median_ns,
                q3_ns: median_ns,
                min_ns: median_ns,
                max_ns: median_ns,
            },
            minor_faults: Vec::new(),
            checksum: 0,
            arena: None,
        }
    }

    fn sample() -> Report {
        let cells = vec![
            cell("system", Workload::Batch, 20.0),
            cell("bump", Workload::Batch, 10.0),
            cell("bumpalo", Workload::Batch, 8.0),
            cell("counting-per-thread", Workload::Batch, 24.0),
            cell("counting-global", Workload::Batch, 30.0),
            cell("mimalloc", Workload::Batch, 15.0),
            cell("system", Workload::Churn, 10.0),
            cell("mimalloc", Workload::Churn, 12.0),
            // No System cell for this workload: no ratio can be made.
            cell("jemalloc", Workload::VecGrowth, 5.0),
        ];
        Report::new(Machine::current(Mode::Smoke), cells)
    }

    #[test]
    fn ratios_divide_by_system_of_the_same_workload() {
        let r = sample();
        assert_eq!(r.ratio("bump", Workload::Batch), Some(0.5));
        assert_eq!(r.ratio("mimalloc", Workload::Churn), Some(1.2));
        assert_eq!(r.ratio("jemalloc", Workload::VecGrowth), None);
        assert_eq!(r.ratio("system", Workload::Batch), None);
        assert_eq!(r.ratios.len(), 6);
    }

    #[test]
    fn targets_compare_with_their_thresholds() {
        let r = sample();
        let pass: Vec<Option<bool>> = r.targets.iter().map(|t| t.pass).collect();
        // bump 2× (goal 1.5×), bumpalo 2.5× (goal 3×), per-thread 1.2× (≤ 1.25×).
        assert_eq!(
            pass,
            [
                Some(true),
                Some(false),
                Some(true),
                None,
                None,
                None,
                None,
                None
            ]
        );
        for (index, says) in [
            (0, "2.00× faster"),
            (2, "1.50×"),
            (3, "churn 1.20× slower"),
            (3, "on 1 of 2"),
        ] {
            let target = &r.targets[index];
            assert!(target.observed.contains(says), "{target:?}");
        }
    }

    #[test]
    fn markdown_has_a_row_per_workload_and_a_dash_for_gaps() {
        let md = markdown(&sample());
        for workload in Workload::ALL {
            assert!(md.contains(&format!("| {} |", workload.name())), "{md}");
        }
        assert!(md.contains("- PASS — batch: bump"), "{md}");
        assert!(md.contains("- MISS — batch: bumpalo"), "{md}");
        assert!(md.contains("| —"), "{md}");
    }

    #[test]
    fn svg_has_one_bar_per_ratio() {
        let r = sample();
        let svg = svg(&r);
        assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="bar""#).count(), r.ratios.len());
        // Legible on a dark page: no fixed background or text colour.
        assert!(!svg.contains("white") && !svg.contains("#333"), "{svg}");
        assert!(svg.contains(r#"fill="currentColor""#), "{svg}");
    }

    #[test]
    fn the_inline_chart_follows_the_ratio_table_as_one_html_block() {
        let r = sample();
        let plain = markdown(&r);
        assert!(!plain.contains("<svg"), "{plain}");
        let with_chart = markdown_with_chart(&r);
        let figure_at = with_chart.find("\n<figure>\n<svg ").expect("a figure");
        let ratios_at = with_chart.find("**Time relative to System").unwrap();
        let targets_at = with_chart.find("**Targets**").unwrap();
        assert!(
            ratios_at < figure_at && figure_at < targets_at,
            "{with_chart}"
        );
        // The chart is exactly `svg`, and no blank line ends the HTML block
        // inside the figure.
        let figure_end = with_chart.find("</figure>\n").unwrap();
        let figure = &with_chart[figure_at..figure_end];
        assert!(figure.contains(&svg(&r)));
        assert!(!figure.trim().contains("\n\n"), "{figure}");
        // Everything else is the plain report.
        let without = format!(
            "{}{}",
            &with_chart[..figure_at],
            &with_chart[figure_end + "</figure>\n".len()..]
        );
        assert_eq!(without, plain);
    }

    #[test]
    fn faults_are_counted_per_thousand_operations_and_the_bump_notes_follow() {
        let mut cells = sample().cells;
        for c in &mut cells {
            // 10 operations per run: 3 faults is 300 per 1000 operations.
            c.minor_faults = vec![1, 3, 9];
        }
        cells[1].arena = Some(ArenaUse {
            capacity_bytes: 2 << 20,
            used_bytes: 1 << 20,
            fallbacks: 4,
        });
        let report = Report::new(Machine::current(Mode::Smoke), cells);
        assert_eq!(faults_per_thousand_ops(&report.cells[0]), Some(300.0));
        let md = markdown(&report);
        assert!(
            md.contains("**Minor page faults per 1000 operations**"),
            "{md}"
        );
        assert!(md.contains("| batch | 300.0 | 300.0 |"), "{md}");
        assert!(md.contains("The bump arena (2.0 MiB)"), "{md}");
        assert!(
            md.contains("System, per workload: batch 4 (1.0 MiB of the arena used)"),
            "{md}"
        );
        // Without fault counts or an arena, neither appears.
        let md = markdown(&sample());
        assert!(
            !md.contains("Minor page faults") && !md.contains("Reading the bump"),
            "{md}"
        );
    }

    #[test]
    fn byte_counts_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(256 << 20), "256.0 MiB");
    }

    #[test]
    fn escape_makes_text_safe() {
        assert_eq!(escape(r#"<a & "b">"#), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
