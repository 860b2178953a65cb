//! Runs the whole benchmark in `--smoke` mode (tiny sizes) and checks the
//! report's structure and arithmetic. No timing is asserted: only that
//! every number exists, is positive and is combined correctly.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use allocator_bench::report::Report;
use allocator_bench::{ALLOCATORS, BASELINE, Mode, Workload};

struct Run {
    output: Output,
    out_dir: PathBuf,
}

/// One smoke run shared by every test in this file.
fn smoke_run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("allocator-bench-smoke");
        let _ = std::fs::remove_dir_all(&out_dir);
        // `--no-build`: cargo test has built every bench-* program already,
        // and a nested cargo would wait for this build's lock.
        // `--inline-chart`: as the book runs it.
        let output = Command::new(env!("CARGO_BIN_EXE_allocator-bench"))
            .args(["--smoke", "--no-build", "--inline-chart", "--out"])
            .arg(&out_dir)
            .output()
            .expect("allocator-bench starts");
        assert!(
            output.status.success(),
            "smoke run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Run { output, out_dir }
    })
}

fn read(name: &str) -> String {
    let path = smoke_run().out_dir.join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn report() -> Report {
    serde_json::from_str(&read("report.json")).expect("report.json parses")
}

#[test]
fn every_allocator_runs_every_one_of_its_workloads_correctly() {
    let report = report();
    let sizes = Mode::Smoke.sizes();
    let expected_cells: usize = ALLOCATORS.iter().map(|a| a.workloads.len()).sum();
    assert_eq!(report.cells.len(), expected_cells);
    for spec in ALLOCATORS {
        for &workload in spec.workloads {
            let cell = report
                .cell(spec.name, workload)
                .unwrap_or_else(|| panic!("no cell for {} · {}", spec.name, workload.name()));
            assert_eq!(cell.checksum, workload.expected(&sizes));
            assert_eq!(cell.ops_per_rep, workload.ops(&sizes));
            assert_eq!(cell.reps, sizes.reps * sizes.rounds);
            assert_eq!(cell.samples_ns.len(), cell.reps);
            let t = cell.timing;
            assert!(t.min_ns > 0.0, "{} · {}: {t:?}", spec.name, workload.name());
            assert!(t.min_ns <= t.q1_ns && t.q1_ns <= t.median_ns);
            assert!(t.median_ns <= t.q3_ns && t.q3_ns <= t.max_ns);
        }
    }
    assert_eq!(report.machine.mode, Mode::Smoke);
    assert!(report.machine.cores >= 1);
    assert!(
        report.machine.rustc.starts_with("rustc "),
        "{}",
        report.machine.rustc
    );
}

#[test]
fn ratios_divide_by_system_from_the_same_run() {
    let report = report();
    let others = report.cells.iter().filter(|c| c.allocator != BASELINE);
    assert_eq!(report.ratios.len(), others.count());
    for ratio in &report.ratios {
        let workload = Workload::parse(&ratio.workload).expect("known workload");
        let median = |name: &str| report.cell(name, workload).expect("cell").timing.median_ns;
        let want = median(&ratio.allocator) / median(BASELINE);
        assert!(
            (ratio.time_ratio - want).abs() <= want * 1e-12,
            "{ratio:?}, expected {want}"
        );
    }
}

#[test]
fn the_bump_arena_holds_the_smoke_workloads() {
    let report = report();
    for workload in Workload::ALL {
        let arena = report
            .cell("bump", workload)
            .and_then(|c| c.arena)
            .expect("arena counters");
        assert_eq!(arena.fallbacks, 0, "{}: {arena:?}", workload.name());
        assert!(arena.used_bytes > 0 && arena.used_bytes <= arena.capacity_bytes);
    }
    // The thread caches and bump-grow report their arenas too; the rest
    // have none.
    let arenas = ["bump", "bump-grow", "thread-cache-bump", "thread-cache"];
    for cell in &report.cells {
        assert_eq!(
            cell.arena.is_some(),
            arenas.contains(&cell.allocator.as_str()),
            "{} · {}",
            cell.allocator,
            cell.workload
        );
    }
}

#[test]
fn stdout_is_the_markdown_report_and_nothing_else() {
    let stdout = String::from_utf8(smoke_run().output.stdout.clone()).expect("UTF-8");
    assert_eq!(stdout, read("report.md"));
    assert!(
        stdout.starts_with("### Allocator benchmark (smoke mode)"),
        "{stdout}"
    );
    let report = report();
    assert_eq!(
        stdout.matches("- PASS").count()
            + stdout.matches("- MISS").count()
            + stdout.matches("- INFO").count(),
        report.targets.len()
    );
    // Progress went to stderr.
    let stderr = String::from_utf8_lossy(&smoke_run().output.stderr);
    assert!(stderr.contains("bumpalo · batch"), "{stderr}");
}

#[test]
fn the_chart_is_well_formed_svg_with_one_bar_per_ratio() {
    let svg = read("report.svg");
    let elements = check_xml(&svg).unwrap_or_else(|e| panic!("malformed SVG: {e}\n{svg}"));
    assert_eq!(elements.first().map(String::as_str), Some("svg"));
    assert_eq!(
        svg.matches(r#"<rect class="bar""#).count(),
        report().ratios.len()
    );
}

#[test]
fn the_inline_chart_is_the_chart_file_of_the_same_run() {
    let stdout = String::from_utf8(smoke_run().output.stdout.clone()).expect("UTF-8");
    let svg = read("report.svg");
    assert_eq!(stdout.matches("<svg ").count(), 1, "{stdout}");
    assert!(stdout.contains(&format!("\n<figure>\n{svg}")), "{stdout}");
    // Its bars are this run's ratios, with the values of the table above.
    for ratio in &report().ratios {
        let label = format!("{} · {}</text>", ratio.workload, ratio.allocator);
        assert!(svg.contains(&label), "no bar for {label}");
        let value = format!("{:.2}", ratio.time_ratio);
        assert!(svg.contains(&format!(">{value}</text>")), "{label} {value}");
        assert!(stdout.contains(&format!(" {value} |")), "{label} {value}");
    }
}

/// A small well-formedness check: every tag closes in order, attributes are
/// quoted, text has no stray `<` or `&`. Returns the element names in order.
fn check_xml(text: &str) -> Result<Vec<String>, String> {
    let mut open: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = text.trim();
    if !rest.starts_with('<') {
        return Err("does not start with a tag".into());
    }
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or("unclosed tag")?;
            let tag = &after[..end];
            rest = &after[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(expected) if expected == name.trim() => {}
                    other => return Err(format!("`</{name}>` closes {other:?}")),
                }
            } else {
                let self_closing = tag.ends_with('/');
                let body = tag.trim_end_matches('/');
                let name = body.split_whitespace().next().ok_or("empty tag")?;
                if body.matches('"').count() % 2 != 0 {
                    return Err(format!("unbalanced quotes in `<{tag}>`"));
                }
                seen.push(name.to_owned());
                if !self_closing {
                    open.push(name.to_owned());
                }
            }
            if open.is_empty() && !rest.trim().is_empty() {
                return Err("content after the root element".into());
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let content = &rest[..end];
            for (i, _) in content.match_indices('&') {
                let entity = &content[i..];
                if !["&amp;", "&lt;", "&gt;", "&quot;"]
                    .iter()
                    .any(|e| entity.starts_with(e))
                {
                    return Err(format!("bare `&` in text {content:?}"));
                }
            }
            rest = &rest[end..];
        }
    }
    match open.pop() {
        None => Ok(seen),
        Some(name) => Err(format!("`<{name}>` never closed")),
    }
}

#[test]
fn the_checker_rejects_broken_svg() {
    assert!(check_xml("<svg><rect/></svg>").is_ok());
    assert!(check_xml("<svg><rect></svg>").is_err());
    assert!(check_xml("<svg><text>a & b</text></svg>").is_err());
    assert!(check_xml(r#"<svg x="1><rect/></svg>"#).is_err());
    assert!(check_xml("<svg></svg><svg></svg>").is_err());
}
