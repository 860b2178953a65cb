//! Widget 5, the heap timeline: run one of the book's scenarios with the
//! global allocator recording, and draw what it did.
//!
//! The scenarios are the `heap-timelines` listing's, the recorder is the
//! `heap-trace` listing's [`TraceAlloc`](heap_trace::TraceAlloc) (the
//! outermost layer of [`crate::GLOBAL`]), and the pictures are
//! `heap-picture`'s: what the page draws is what the book's chapter draws,
//! from a trace made here and now.

use heap_picture::Options;
use heap_timelines::scenarios::{self, Scenario};
use heap_trace::Trace;
use wasm_bindgen::prelude::*;

use crate::input::{InputError, whole_number};

/// Width of both pictures, in SVG pixels (the page scales them down).
pub const PICTURE_WIDTH: u32 = 720;

/// A scenario the picker offers.
#[wasm_bindgen(getter_with_clone)]
#[derive(Clone, Debug)]
pub struct ScenarioInfo {
    pub name: String,
    pub description: String,
    /// The valid range of `n`, both ends included.
    pub min_n: usize,
    pub max_n: usize,
}

/// Every scenario, in the book's order.
#[wasm_bindgen]
pub fn timeline_scenarios() -> Vec<ScenarioInfo> {
    scenarios::all()
        .iter()
        .map(|scenario| {
            let range = scenario.n_range();
            ScenarioInfo {
                name: scenario.name().to_owned(),
                description: scenario.description().to_owned(),
                min_n: *range.start(),
                max_n: *range.end(),
            }
        })
        .collect()
}

/// A scenario and an `n` the page asked for, both checked.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub scenario: &'static Scenario,
    pub n: usize,
}

/// Checks the scenario name and `n` as they were typed. The scenario's
/// own rules (the listing's `find` and `check`) decide, so the page refuses
/// exactly what the book's program refuses, in the same words.
pub fn parse_request(scenario: &str, n: &str) -> Result<Request, InputError> {
    let name = scenario.trim();
    if name.is_empty() {
        return Err(InputError::new(format!(
            "no scenario chosen: the scenarios are {}",
            scenarios::names().join(", ")
        )));
    }
    let scenario = scenarios::find(name).map_err(|err| InputError::new(err.to_string()))?;
    let range = scenario.n_range();
    let n = whole_number("n", n).map_err(|err| {
        InputError::new(format!(
            "{err} (for {} n is from {} to {})",
            scenario.name(),
            range.start(),
            range.end()
        ))
    })?;
    scenario
        .check(n)
        .map_err(|err| InputError::new(err.to_string()))?;
    Ok(Request { scenario, n })
}

/// What a trace adds up to: the numbers beside the pictures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub events: usize,
    /// `alloc` and `alloc_zeroed` calls: blocks that came into being.
    pub allocations: usize,
    pub reallocs: usize,
    /// Reallocs whose block ended up at another address (a copy).
    pub reallocs_moved: usize,
    pub frees: usize,
    pub peak_live_bytes: usize,
    /// Live bytes after the last event (0 when the scenario freed all).
    pub final_live_bytes: usize,
    /// Events the recorder had no room for.
    pub dropped: u64,
}

impl Summary {
    /// Counted by heap-picture, the same counts the book's pictures use.
    pub fn of(trace: &Trace) -> Summary {
        let counted = heap_picture::summary(trace);
        Summary {
            events: counted.events,
            allocations: counted.allocs,
            reallocs: counted.reallocs,
            reallocs_moved: counted.reallocs_moved,
            frees: counted.deallocs,
            peak_live_bytes: counted.peak_live,
            final_live_bytes: counted.final_live,
            dropped: counted.dropped,
        }
    }
}

/// One recorded run: the numbers, both pictures, and the trace itself.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Timeline {
    scenario: &'static str,
    n: usize,
    trace: Trace,
    summary: Summary,
}

#[wasm_bindgen]
impl Timeline {
    pub fn scenario(&self) -> String {
        self.scenario.to_owned()
    }
    pub fn n(&self) -> usize {
        self.n
    }
    pub fn events(&self) -> usize {
        self.summary.events
    }
    pub fn allocations(&self) -> usize {
        self.summary.allocations
    }
    pub fn reallocs(&self) -> usize {
        self.summary.reallocs
    }
    pub fn reallocs_moved(&self) -> usize {
        self.summary.reallocs_moved
    }
    pub fn frees(&self) -> usize {
        self.summary.frees
    }
    pub fn peak_live_bytes(&self) -> usize {
        self.summary.peak_live_bytes
    }
    pub fn final_live_bytes(&self) -> usize {
        self.summary.final_live_bytes
    }
    /// As a JavaScript number: a `u64` would arrive as a `BigInt`.
    pub fn dropped(&self) -> f64 {
        self.summary.dropped as f64
    }
    /// The recorder's capacity: the most events one run can keep.
    pub fn capacity(&self) -> usize {
        crate::TRACE_CAPACITY
    }
    /// Live bytes over events, as SVG.
    pub fn live_bytes_svg(&self) -> String {
        heap_picture::live_bytes_svg(&self.trace, &self.options("live bytes over time"))
    }
    /// Every block as a bar from its allocation to its free, as SVG; each
    /// bar carries `data-*` attributes the page reads for its detail line.
    pub fn block_map_svg(&self) -> String {
        heap_picture::block_map_svg(&self.trace, &self.options("blocks by address over time"))
    }
    /// The trace in `heap-trace`'s JSON lines format.
    pub fn json_lines(&self) -> String {
        self.trace.to_json_lines()
    }
}

impl Timeline {
    pub fn summary(&self) -> Summary {
        self.summary
    }
    pub fn trace(&self) -> &Trace {
        &self.trace
    }
    fn options(&self, what: &str) -> Options {
        Options {
            width: PICTURE_WIDTH,
            title: format!("{} with n = {}: {what}", self.scenario, self.n),
        }
    }
}

/// Runs a scenario (name and `n` as typed) with the global allocator
/// recording, and only while it runs.
#[wasm_bindgen]
pub fn run_timeline(scenario: &str, n: &str) -> Result<Timeline, InputError> {
    let request = parse_request(scenario, n)?;
    Ok(record(request))
}

/// Records one validated run. Natively the recorder is not the global
/// allocator, so the trace is empty there; the wasm tests check real runs.
pub fn record(request: Request) -> Timeline {
    let ((), trace) = crate::GLOBAL.record(|| request.scenario.run(request.n));
    Timeline {
        scenario: request.scenario.name(),
        n: request.n,
        summary: Summary::of(&trace),
        trace,
    }
}
