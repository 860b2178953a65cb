//! What the book shows for recorded scenarios: a table of numbers from the
//! traces and both pictures of each, as Markdown with inline SVG.

use std::fmt::{self, Write as _};

use heap_picture::{Options, Summary, block_map_svg, human_bytes, live_bytes_svg, summary};
use heap_trace::Trace;

use crate::scenarios::Scenario;

/// One scenario run with the recorder on.
#[derive(Debug)]
pub struct Recorded {
    pub scenario: &'static Scenario,
    pub n: usize,
    pub trace: Trace,
}

/// Why a recording cannot be shown: the book must not show a picture that
/// is empty or incomplete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportError(pub String);

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReportError {}

/// Refuses a trace that has no events or has dropped some.
pub fn check(run: &Recorded) -> Result<(), ReportError> {
    let what = format!("{} with n = {}", run.scenario.name(), run.n);
    if run.trace.dropped > 0 {
        return Err(ReportError(format!(
            "{what}: the recorder dropped {} event(s) (it was full after {}); \
             the pictures would be incomplete, so there are none. Use a smaller n.",
            run.trace.dropped,
            run.trace.events.len()
        )));
    }
    if run.trace.events.is_empty() {
        return Err(ReportError(format!(
            "{what}: no allocations were recorded, so there is nothing to draw \
             (is the recorder the global allocator, and is this the recording thread?)"
        )));
    }
    Ok(())
}

/// Bytes for the table: `8 KiB (8192 B)`, or just `96 B`.
fn bytes(n: usize) -> String {
    if n < 1024 {
        format!("{n} B")
    } else {
        format!("{} ({n} B)", human_bytes(n as u64))
    }
}

/// The rows of the numbers table: a label and one cell per run.
fn rows(summaries: &[(usize, Summary)]) -> Vec<(&'static str, Vec<String>)> {
    let cell = |f: &dyn Fn(&Summary) -> String| -> Vec<String> {
        summaries.iter().map(|(_, s)| f(s)).collect()
    };
    vec![
        ("n", summaries.iter().map(|(n, _)| n.to_string()).collect()),
        ("events recorded", cell(&|s| s.events.to_string())),
        ("allocations", cell(&|s| s.allocs.to_string())),
        (
            "reallocs (moved / in place)",
            cell(&|s| {
                let in_place = s.reallocs - s.reallocs_moved - s.reallocs_failed;
                format!("{} ({} / {in_place})", s.reallocs, s.reallocs_moved)
            }),
        ),
        ("frees", cell(&|s| s.deallocs.to_string())),
        ("peak live bytes", cell(&|s| bytes(s.peak_live))),
        (
            "bytes copied by moving reallocs",
            cell(&|s| bytes(s.bytes_copied)),
        ),
        (
            "bytes asked for in all",
            cell(&|s| bytes(s.bytes_requested)),
        ),
        ("live at the end", cell(&|s| bytes(s.final_live))),
    ]
}

/// The Markdown for the book: what each scenario does, a table with a
/// column per scenario, then each scenario's two pictures in a `<figure>`.
/// Fails (without output) if any trace is empty or incomplete.
pub fn markdown(runs: &[Recorded]) -> Result<String, ReportError> {
    for run in runs {
        check(run)?;
    }
    let mut s = String::new();
    for run in runs {
        let _ = writeln!(
            s,
            "- `{}`: {}, n = {}.",
            run.scenario.name(),
            heap_picture::escape(run.scenario.description()),
            run.n
        );
    }
    let summaries: Vec<(usize, Summary)> = runs.iter().map(|r| (r.n, summary(&r.trace))).collect();
    let names: Vec<String> = runs
        .iter()
        .map(|r| format!("`{}`", r.scenario.name()))
        .collect();
    let _ = writeln!(s, "\n| from the trace | {} |", names.join(" | "));
    let _ = writeln!(s, "|---|{}", "---:|".repeat(runs.len()));
    for (label, cells) in rows(&summaries) {
        let _ = writeln!(s, "| {label} | {} |", cells.join(" | "));
    }
    for run in runs {
        let name = run.scenario.name();
        let options = |what: &str| Options {
            width: 720,
            title: format!("{name}, n = {}: {what}", run.n),
        };
        let live = live_bytes_svg(&run.trace, &options("live bytes"));
        let map = block_map_svg(&run.trace, &options("block map"));
        if !map.contains(r#"class="block"#) {
            return Err(ReportError(format!(
                "{name} with n = {}: the block map has no block to draw",
                run.n
            )));
        }
        // An HTML block in Markdown ends at the first blank line; the
        // pictures have none, so the figure stays one block.
        let _ = write!(
            s,
            "\n<figure class=\"heap-timeline\">\n{live}{map}<figcaption>{name} with n = {}: \
             live bytes after each call to the allocator (top), and every block by address \
             and time (bottom). Hover a marker or a bar for its details.</figcaption>\n\
             </figure>\n",
            run.n
        );
    }
    Ok(s)
}
