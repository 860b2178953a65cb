//! Each scenario recorded for real, and its trace checked against what the
//! standard library's growth rules predict.

use std::alloc::System;

use heap_picture::summary;
use heap_timelines::markdown::{Recorded, check, markdown};
use heap_timelines::scenarios::{self, ScenarioError, find, parse_n};
use heap_trace::{Event, Kind, Trace, TraceAlloc};

#[global_allocator]
static GLOBAL: TraceAlloc<System> = TraceAlloc::new(System);

fn record(name: &str, n: usize) -> Trace {
    let scenario = find(name).unwrap();
    let ((), trace) = GLOBAL.record_this_thread(|| scenario.run(n));
    assert_eq!(trace.dropped, 0, "{name} {n}: events dropped");
    trace
}

fn kinds_and_sizes(trace: &Trace) -> Vec<(Kind, usize)> {
    trace.events.iter().map(|e| (e.kind, e.size)).collect()
}

fn reallocs(trace: &Trace) -> Vec<&Event> {
    trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Realloc)
        .collect()
}

#[test]
fn vec_push_doubles_its_capacity() {
    let trace = record("vec-push", 1000);
    // The first push allocates room for 4 u64s (32 B); every push that finds
    // the Vec full doubles it: 8, 16, ..., 1024 elements. Then the drop.
    let mut expected = vec![(Kind::Alloc, 32)];
    let mut cap = 4;
    while cap < 1000 {
        cap *= 2;
        expected.push((Kind::Realloc, cap * 8));
    }
    expected.push((Kind::Dealloc, cap * 8));
    assert_eq!(kinds_and_sizes(&trace), expected);
    assert_eq!(reallocs(&trace).len(), 8, "4 → 1024 is 8 doublings");
    for r in reallocs(&trace) {
        assert_eq!(r.size, 2 * r.old_size, "each realloc doubles: {r:?}");
    }
}

#[test]
fn vec_with_capacity_allocates_once() {
    let trace = record("vec-with-capacity", 1000);
    assert_eq!(
        kinds_and_sizes(&trace),
        [(Kind::Alloc, 8000), (Kind::Dealloc, 8000)]
    );
}

#[test]
fn string_push_str_doubles_from_eight_bytes() {
    let n = 500;
    let trace = record("string-push-str", n);
    let words = [
        "heap", "stack", "block", "arena", "free", "list", "page", "align",
    ];
    let len: usize = (0..n).map(|i| words[i % words.len()].len() + 1).sum();
    let events = kinds_and_sizes(&trace);
    assert_eq!(events[0], (Kind::Alloc, 8), "a String starts with 8 bytes");
    let grown = reallocs(&trace);
    assert!(!grown.is_empty());
    for r in &grown {
        assert_eq!(r.size, 2 * r.old_size, "push_str doubles: {r:?}");
    }
    let last = grown.last().unwrap().size;
    assert!(last >= len && last < 2 * len, "{last} for {len} bytes");
    assert_eq!(events.last(), Some(&(Kind::Dealloc, last)));
}

#[test]
fn string_format_makes_a_new_string_every_time() {
    let n = 100;
    let trace = record("string-format", n);
    let s = summary(&trace);
    // Every `format!` builds a new String (an alloc) and the assignment
    // frees the old one: n allocations, n frees, all of it copied again
    // and again.
    assert_eq!(s.allocs, n);
    assert_eq!(s.deallocs, n);
    assert_eq!(s.final_live, 0);
    let pushed = summary(&record("string-push-str", n));
    assert!(
        s.bytes_requested > 10 * pushed.bytes_requested,
        "format! asked for {} bytes in all, push_str for {}",
        s.bytes_requested,
        pushed.bytes_requested
    );
}

#[test]
fn hashmap_grows_by_new_tables_not_realloc() {
    let trace = record("hashmap-grow", 1000);
    let s = summary(&trace);
    assert_eq!(s.reallocs, 0, "a hash table is rebuilt, never reallocated");
    // Buckets 4, 8, ..., 2048 (1000 entries need 2048 buckets at a load of
    // 7/8): ten tables, each bigger than the last, each freed.
    assert_eq!((s.allocs, s.deallocs), (10, 10));
    let tables: Vec<usize> = trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Alloc)
        .map(|e| e.size)
        .collect();
    assert!(tables.windows(2).all(|w| w[1] > w[0]), "{tables:?}");
    // The same keys give the same tables: the hasher is fixed.
    assert_eq!(
        kinds_and_sizes(&record("hashmap-grow", 1000)),
        kinds_and_sizes(&trace)
    );
}

#[test]
fn box_tree_frees_the_root_last() {
    let n = 127;
    let trace = record("box-tree", n);
    let node = 3 * size_of::<usize>();
    let allocs: Vec<&Event> = trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Alloc)
        .collect();
    let frees: Vec<&Event> = trace
        .events
        .iter()
        .filter(|e| e.kind == Kind::Dealloc)
        .collect();
    assert_eq!((allocs.len(), frees.len()), (n, n));
    assert!(allocs.iter().all(|e| e.size == node));
    // Built top-down: the root is allocated first. Dropped bottom-up: a
    // node's box is freed after both its subtrees, so the root goes last.
    assert_eq!(frees.last().unwrap().addr, allocs[0].addr);
    // Every allocation happens before the first free.
    let first_free = trace
        .events
        .iter()
        .position(|e| e.kind == Kind::Dealloc)
        .unwrap();
    assert_eq!(first_free, n);
}

#[test]
fn shrink_to_fit_ends_with_a_shrinking_realloc() {
    let trace = record("shrink-to-fit", 1000);
    let last = reallocs(&trace).last().copied().copied().unwrap();
    assert_eq!((last.old_size, last.size), (8192, 8000));
    assert_eq!(
        trace.events.last().map(|e| (e.kind, e.size)),
        Some((Kind::Dealloc, 8000))
    );
}

#[test]
fn collect_allocates_exactly_once_pushing_grows() {
    let n = 1000;
    let trace = record("collect-vs-push", n);
    let events = kinds_and_sizes(&trace);
    // A range knows its length: collect allocates n elements at once.
    assert_eq!(events[..2], [(Kind::Alloc, 8 * n), (Kind::Dealloc, 8 * n)]);
    assert_eq!(events[2], (Kind::Alloc, 32));
    assert_eq!(reallocs(&trace).len(), 8);
}

#[test]
fn every_scenario_records_and_frees_all_at_both_ends_of_its_range() {
    for scenario in scenarios::all() {
        let range = scenario.n_range();
        let high = (*range.end()).min(2000);
        for n in [*range.start(), high] {
            let trace = record(scenario.name(), n);
            let s = summary(&trace);
            assert!(s.allocs > 0, "{} {n}: no allocation", scenario.name());
            assert_eq!(s.final_live, 0, "{} {n}: left bytes live", scenario.name());
        }
    }
}

#[test]
fn names_and_ranges_are_checked_with_the_rule() {
    let names = scenarios::names();
    assert_eq!(
        names,
        [
            "vec-push",
            "vec-with-capacity",
            "string-push-str",
            "string-format",
            "hashmap-grow",
            "box-tree",
            "shrink-to-fit",
            "collect-vs-push"
        ]
    );
    let unknown = find("vec-pop").unwrap_err();
    assert_eq!(
        unknown,
        ScenarioError::UnknownScenario {
            name: "vec-pop".into()
        }
    );
    let text = unknown.to_string();
    assert!(
        text.starts_with("unknown scenario `vec-pop`: the scenarios are vec-push, "),
        "{text}"
    );
    assert!(text.ends_with("collect-vs-push"), "{text}");

    let push = find("vec-push").unwrap();
    assert_eq!(parse_n(push, " 1_000 "), Ok(1000));
    assert_eq!(
        parse_n(push, "0").unwrap_err().to_string(),
        "n = 0 is out of range for vec-push: n must be from 1 to 100000"
    );
    assert!(parse_n(push, "100001").is_err());
    assert!(parse_n(push, "100000").is_ok());
    let format = find("string-format").unwrap();
    assert_eq!(
        parse_n(format, "5001").unwrap_err().to_string(),
        "n = 5001 is out of range for string-format: n must be from 1 to 5000"
    );
    assert_eq!(
        parse_n(push, "ten").unwrap_err().to_string(),
        "`ten` is not a number: n must be a whole number such as 1000"
    );
    assert!(parse_n(push, "-1").is_err());
}

#[test]
fn an_empty_or_incomplete_trace_is_refused() {
    let scenario = find("vec-push").unwrap();
    let empty = Recorded {
        scenario,
        n: 10,
        trace: Trace::default(),
    };
    let err = check(&empty).unwrap_err().to_string();
    assert!(
        err.contains("vec-push with n = 10: no allocations were recorded"),
        "{err}"
    );
    assert!(markdown(&[empty]).is_err());

    let mut trace = record("vec-push", 10);
    trace.dropped = 2;
    let incomplete = Recorded {
        scenario,
        n: 10,
        trace,
    };
    let err = markdown(&[incomplete]).unwrap_err().to_string();
    assert!(err.contains("dropped 2 event(s)"), "{err}");
}

#[test]
fn markdown_has_a_column_and_a_figure_per_scenario() {
    let runs: Vec<Recorded> = ["vec-push", "vec-with-capacity"]
        .into_iter()
        .map(|name| Recorded {
            scenario: find(name).unwrap(),
            n: 1000,
            trace: record(name, 1000),
        })
        .collect();
    let text = markdown(&runs).unwrap();
    assert!(
        text.contains("| from the trace | `vec-push` | `vec-with-capacity` |"),
        "{text}"
    );
    assert!(
        text.contains("| reallocs (moved / in place) | 8 ("),
        "{text}"
    );
    assert!(text.contains("| allocations | 1 | 1 |"), "{text}");
    assert!(
        text.contains("a Vec&lt;u64&gt; pushed"),
        "the description is escaped: {text}"
    );
    assert_eq!(text.matches("<figure").count(), 2);
    assert_eq!(text.matches("<svg ").count(), 4);
    // No blank line inside a figure: Markdown would end the HTML there.
    for figure in text.split("<figure").skip(1) {
        let body = &figure[..figure.find("</figure>").unwrap()];
        assert!(!body.contains("\n\n"), "blank line in a figure");
    }
}
