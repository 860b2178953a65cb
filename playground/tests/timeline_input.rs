//! The heap timeline's input rules, natively: a scenario name and an `n`
//! exactly as the page sends them. (Natively the recorder is not the global
//! allocator, so real recordings are checked in the browser by `web.rs`.)
#![cfg(not(target_arch = "wasm32"))]

use heap_timelines::scenarios;
use heap_trace::{Event, Kind, Trace};
use playground::timeline::{Summary, parse_request, timeline_scenarios};

fn refusal(scenario: &str, n: &str) -> String {
    match parse_request(scenario, n) {
        Ok(request) => panic!(
            "({scenario:?}, {n:?}) was accepted as {} with n = {}",
            request.scenario.name(),
            request.n
        ),
        Err(err) => err.to_string(),
    }
}

#[test]
fn the_picker_offers_every_scenario_of_the_book() {
    let offered = timeline_scenarios();
    let names: Vec<&str> = offered.iter().map(|s| s.name.as_str()).collect();
    let book: Vec<&str> = scenarios::all().iter().map(|s| s.name()).collect();
    assert_eq!(names, book);
    for name in [
        "vec-push",
        "vec-with-capacity",
        "string-push-str",
        "string-format",
        "hashmap-grow",
        "box-tree",
        "shrink-to-fit",
        "collect-vs-push",
    ] {
        assert!(names.contains(&name), "{name} is missing from {names:?}");
    }
    for scenario in &offered {
        assert!(
            1 <= scenario.min_n && scenario.min_n <= scenario.max_n,
            "{}: n from {} to {}",
            scenario.name,
            scenario.min_n,
            scenario.max_n
        );
        assert!(!scenario.description.is_empty(), "{}", scenario.name);
    }
}

#[test]
fn every_scenario_accepts_both_ends_of_its_range_as_typed() {
    for scenario in timeline_scenarios() {
        for n in [scenario.min_n, scenario.max_n] {
            let request = parse_request(&format!(" {} ", scenario.name), &format!(" {n}\n"))
                .unwrap_or_else(|err| panic!("{} with n = {n}: {err}", scenario.name));
            assert_eq!(
                (request.scenario.name(), request.n),
                (scenario.name.as_str(), n)
            );
        }
    }
}

#[test]
fn an_unknown_scenario_is_refused_with_the_list_of_valid_ones() {
    let message = refusal("vec-pop", "10");
    assert!(message.contains("unknown scenario `vec-pop`"), "{message}");
    for scenario in scenarios::all() {
        assert!(message.contains(scenario.name()), "{message}");
    }
    let empty = refusal("  ", "10");
    assert!(empty.contains("no scenario chosen"), "{empty}");
    assert!(empty.contains("vec-push"), "{empty}");
    // Names are matched exactly: no case folding, no prefixes.
    assert!(refusal("Vec-Push", "10").contains("unknown scenario"));
    assert!(refusal("vec", "10").contains("unknown scenario"));
}

#[test]
fn n_outside_the_scenarios_range_is_refused_with_the_range() {
    for scenario in timeline_scenarios() {
        let (min, max, name) = (scenario.min_n, scenario.max_n, &scenario.name);
        // The picker test holds every minimum at 1 or more, so 0 is out.
        for n in [0, max + 1] {
            let message = refusal(name, &n.to_string());
            assert!(
                message.contains(&format!("n = {n} is out of range for {name}")),
                "{message}"
            );
            assert!(
                message.contains(&format!("n must be from {min} to {max}")),
                "{message}"
            );
        }
    }
}

#[test]
fn n_that_is_not_a_whole_number_is_refused_with_the_reason_and_the_range() {
    let range = scenarios::find("vec-push")
        .expect("vec-push exists")
        .n_range();
    let range = format!(
        "(for vec-push n is from {} to {})",
        range.start(),
        range.end()
    );
    for (n, expected) in [
        ("", "n is empty"),
        ("ten", "n must be a whole number, got `ten`"),
        ("1.5", "n must be a whole number, got `1.5`"),
        ("-3", "n cannot be negative, got -3"),
        ("99999999999999999999999", "does not fit in a usize"),
    ] {
        let message = refusal("vec-push", n);
        assert!(message.contains(expected), "n = {n:?}: {message}");
        assert!(message.ends_with(&range), "n = {n:?}: {message}");
    }
}

fn event(seq: u64, kind: Kind, addr: usize, size: usize, old: (usize, usize)) -> Event {
    Event {
        seq,
        thread: 1,
        kind,
        addr,
        size,
        align: 8,
        old_addr: old.0,
        old_size: old.1,
    }
}

#[test]
fn the_summary_counts_a_known_trace() {
    // A Vec's buffer grown in place, then moved, a second block, both freed.
    let trace = Trace {
        events: vec![
            event(0, Kind::Alloc, 0x100, 32, (0, 0)),
            event(1, Kind::Realloc, 0x100, 64, (0x100, 32)),
            event(2, Kind::AllocZeroed, 0x400, 16, (0, 0)),
            event(3, Kind::Realloc, 0x800, 128, (0x100, 64)),
            event(4, Kind::Dealloc, 0x400, 16, (0, 0)),
            event(5, Kind::Dealloc, 0x800, 128, (0, 0)),
        ],
        dropped: 3,
    };
    assert_eq!(
        Summary::of(&trace),
        Summary {
            events: 6,
            allocations: 2,
            reallocs: 2,
            reallocs_moved: 1,
            frees: 2,
            peak_live_bytes: 144,
            final_live_bytes: 0,
            dropped: 3,
        }
    );
    assert_eq!(Summary::of(&Trace::default()), Summary::default());
}
