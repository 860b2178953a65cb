//! The playground on the web: served on 127.0.0.1 (by workbook-support's
//! server), and the end-to-end check that opens the built page in headless
//! Chromium and reads the numbers the widgets then show.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use heap_trace::Kind;
use workbook_support::html;
use workbook_support::http::{self, serve_in_background};

/// Headless, isolated and quiet (no sandbox: CI runs as root). Without the
/// virtual time budget Chromium prints the page before the wasm has run.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
];

/// How long headless Chromium may take to load the page and run wasm.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

/// Serves `dir` on `127.0.0.1:port` until the process is stopped.
pub fn serve_forever(dir: &Path, port: u16) -> Result<(), String> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e} (try another port)"))?;
    println!(
        "serving {} at http://127.0.0.1:{port}/ (Ctrl-C stops)",
        dir.display()
    );
    http::serve(listener, dir.to_path_buf(), None);
    Ok(())
}

/// The first of `names` found on `PATH`.
pub fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Serves `pkg`, opens `index.html?selftest=1` in headless Chromium (the
/// page then drives each widget through its controls once), and checks the
/// numbers in the DOM Chromium prints.
pub fn end_to_end(pkg: &Path) -> Result<(), String> {
    let url = format!("{}index.html?selftest=1", serve_in_background(pkg)?);
    let dom = dump_dom(&url)?;
    check_selftest_dom(&dom).map_err(|problem| {
        format!("end-to-end check of {url}: {problem}\n--- DOM Chromium printed ---\n{dom}")
    })?;
    println!("end-to-end: every widget showed consistent numbers in headless Chromium");
    Ok(())
}

/// The chapter pages of the built book (`book/build`) that embed a widget,
/// and the widget each one holds.
pub const BOOK_PAGES: [(&str, Widget); 7] = [
    ("layout.html", Widget::Layout),
    ("counting.html", Widget::Gauges),
    ("peak.html", Widget::Gauges),
    ("budget.html", Widget::Budget),
    ("bump.html", Widget::Bump),
    ("heap-timelines.html", Widget::Timeline),
    ("free-list.html", Widget::FreeList),
];

/// Opens each widget-carrying chapter of the built book in headless
/// Chromium with `?selftest=1` (the loader then drives the page's widget
/// through its own controls) and checks the numbers the page shows.
pub fn book_end_to_end(book: &Path) -> Result<(), String> {
    let base = serve_in_background(book)?;
    for (page, widget) in BOOK_PAGES {
        if !book.join(page).is_file() {
            return Err(format!(
                "{} is missing: build the book first (`cargo workbook book`)",
                book.join(page).display()
            ));
        }
        let url = format!("{base}{page}?selftest=1");
        let dom = dump_dom(&url)?;
        check_selftest_done(&dom)
            .and_then(|()| widget.check(&dom))
            .map_err(|problem| format!("end-to-end check of the book page {page}: {problem}"))?;
        println!("end-to-end: the {widget:?} widget works inside the book's {page}");
    }
    Ok(())
}

/// The page's DOM after its scripts ran, as headless Chromium prints it.
fn dump_dom(url: &str) -> Result<String, String> {
    let browser = find_program(&["chromium", "chromium-browser", "google-chrome"])
        .ok_or("no chromium on PATH (Debian: apt-get install chromium)")?;
    let profile = std::env::temp_dir().join(format!("workbook-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let mut child = Command::new(&browser)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", browser.display()))?;
    let mut stdout = child
        .stdout
        .take()
        .ok_or("chromium's stdout was not captured")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let finished = wait_or_kill(&mut child, BROWSER_TIMEOUT);
    let _ = std::fs::remove_dir_all(&profile);
    let status = finished?;
    let dom = reader
        .join()
        .map_err(|_| "reading chromium's output panicked".to_owned())?
        .map_err(|e| format!("cannot read chromium's output: {e}"))?;
    if !status.success() {
        return Err(format!(
            "headless chromium failed ({status}); to see why, run: {} {} --user-data-dir=$(mktemp -d) --dump-dom '{url}'",
            browser.display(),
            CHROMIUM_FLAGS.join(" ")
        ));
    }
    Ok(dom)
}

/// Waits for `child`, killing it once `timeout` has passed.
fn wait_or_kill(child: &mut Child, timeout: Duration) -> Result<ExitStatus, String> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "headless chromium did not finish within {timeout:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Checks what the page's self-test left in the DOM against the rules the
/// allocators promise (not against numbers copied from a run).
fn check_selftest_dom(dom: &str) -> Result<(), String> {
    check_selftest_done(dom)?;
    for widget in Widget::ALL {
        widget.check(dom)?;
    }
    Ok(())
}

fn check_selftest_done(dom: &str) -> Result<(), String> {
    if dom.contains("data-selftest=\"done\"") {
        Ok(())
    } else {
        Err("the page's self-test did not finish (did the wasm load?)".into())
    }
}

/// The number an `<output data-field="NAME">` shows.
fn number(dom: &str, name: &str) -> Result<usize, String> {
    let text = field_text(dom, name).ok_or_else(|| format!("no output named `{name}`"))?;
    text.parse()
        .map_err(|_| format!("`{name}` shows `{text}`, not a number"))
}

/// The playground's widgets, each checked on its own so a chapter page that
/// embeds one widget can be checked too.
#[derive(Clone, Copy, Debug)]
pub enum Widget {
    Gauges,
    Bump,
    Budget,
    Layout,
    Timeline,
    FreeList,
}

impl Widget {
    const ALL: [Widget; 6] = [
        Widget::Gauges,
        Widget::Bump,
        Widget::Budget,
        Widget::Layout,
        Widget::Timeline,
        Widget::FreeList,
    ];

    /// The `data-widget` name of its placeholder.
    fn name(self) -> &'static str {
        match self {
            Widget::Gauges => "gauges",
            Widget::Bump => "bump",
            Widget::Budget => "budget",
            Widget::Layout => "layout",
            Widget::Timeline => "timeline",
            Widget::FreeList => "free-list",
        }
    }

    /// Checks what this widget's self-test left in `dom` (only its own
    /// part of the page is read, so widgets cannot mask each other).
    fn check(self, dom: &str) -> Result<(), String> {
        let dom = widget_section(dom, self.name())?;
        match self {
            Widget::Gauges => check_gauges(dom),
            Widget::Bump => check_bump(dom),
            Widget::Budget => check_budget(dom),
            Widget::Layout => check_layout(dom),
            Widget::Timeline => check_timeline(dom),
            Widget::FreeList => check_free_list(dom),
        }
    }
}

/// The part of `dom` from the placeholder `data-widget="NAME"` to the next
/// widget's placeholder (or the end of the page).
fn widget_section<'a>(dom: &'a str, name: &str) -> Result<&'a str, String> {
    let marker = format!("data-widget=\"{name}\"");
    let start = dom
        .find(&marker)
        .ok_or_else(|| format!("the page has no `{name}` widget"))?;
    let rest = &dom[start + marker.len()..];
    let end = rest.find("data-widget=\"").unwrap_or(rest.len());
    Ok(&dom[start..start + marker.len() + end])
}

fn check_gauges(dom: &str) -> Result<(), String> {
    let number = |name: &str| number(dom, name);
    // Heap gauges: 1000 u64s pushed one by one.
    let (held, capacity) = (
        number("gauges-held_u64s")?,
        number("gauges-held_u64_capacity")?,
    );
    if held != 1000 || capacity < held {
        return Err(format!(
            "after pushing 1000 u64s the Vec shows {held} of capacity {capacity}"
        ));
    }
    let live = number("gauges-live_bytes")?;
    if live < 8 * capacity || number("gauges-peak_bytes")? < live {
        return Err(format!(
            "live bytes {live} do not cover the Vec's {capacity} u64s, or exceed the peak"
        ));
    }
    if number("gauges-realloc_calls")? == 0 {
        return Err("growing a Vec one push at a time made no realloc call".into());
    }
    Ok(())
}

fn check_bump(dom: &str) -> Result<(), String> {
    let number = |name: &str| number(dom, name);
    // Bump arena: a 1-byte block, then 24 bytes aligned to 64.
    let base = number("bump-base_mod_4096")?;
    let blocks = attribute_values(dom, "data-offset")
        .into_iter()
        .zip(attribute_values(dom, "data-align"))
        .collect::<Vec<_>>();
    let Some(&(last_offset, 64)) = blocks.last() else {
        return Err(format!(
            "the arena map shows {blocks:?}, expected a last block aligned to 64"
        ));
    };
    if blocks.len() != 2
        || blocks
            .iter()
            .any(|&(offset, align)| (base + offset) % align != 0)
    {
        return Err(format!(
            "arena blocks {blocks:?} (base {base} mod 4096) are not all aligned"
        ));
    }
    if number("bump-used")? != last_offset + 24 || number("bump-padding_wasted")? != last_offset - 1
    {
        return Err("the arena's used/padding counters disagree with the block offsets".into());
    }
    Ok(())
}

fn check_budget(dom: &str) -> Result<(), String> {
    let number = |name: &str| number(dom, name);
    // Budget: 2048 bytes, refusing, 1024-byte blocks -> the third is refused.
    let (refused, granted) = (
        number("budget-refused_at")?,
        number("budget-blocks_granted")?,
    );
    if (refused, granted, number("budget-refusals")?) != (3, 2, 1) {
        return Err(format!(
            "a 2048-byte budget of 1024-byte blocks granted {granted} and refused block {refused}"
        ));
    }
    Ok(())
}

fn check_layout(dom: &str) -> Result<(), String> {
    // Layout explorer: alignment 3 shows the rule, not a crash.
    if !dom.contains("alignment 3 is not a power of two") {
        return Err("the layout explorer does not explain why alignment 3 is rejected".into());
    }
    Ok(())
}

/// Heap timeline: `vec-push` with n = 1000, then n = 0. The page shows the
/// trace it recorded; the check parses it with `heap-trace` and derives
/// every expectation from it and from `Vec`'s growth rule.
fn check_timeline(dom: &str) -> Result<(), String> {
    let number = |name: &str| number(dom, &format!("timeline-{name}"));
    let text = field_text(dom, "timeline-trace")
        .ok_or("the timeline shows no trace (was the run refused?)")?;
    let trace = heap_trace::Trace::parse(&html::unescape(text))
        .map_err(|e| format!("the trace the timeline shows does not parse: {e}"))?;

    // The numbers beside the pictures, recomputed from the trace.
    let count = |kinds: &[Kind]| {
        trace
            .events
            .iter()
            .filter(|e| kinds.contains(&e.kind))
            .count()
    };
    let live = trace.live_bytes();
    let expected = [
        ("events", trace.events.len()),
        ("allocations", count(&[Kind::Alloc, Kind::AllocZeroed])),
        ("reallocs", count(&[Kind::Realloc])),
        ("frees", count(&[Kind::Dealloc])),
        ("peak_live_bytes", live.iter().copied().max().unwrap_or(0)),
        ("final_live_bytes", live.last().copied().unwrap_or(0)),
        (
            "dropped",
            usize::try_from(trace.dropped).unwrap_or(usize::MAX),
        ),
    ];
    for (name, value) in expected {
        let shown = number(name)?;
        if shown != value {
            return Err(format!(
                "the timeline shows {name} = {shown}, its own trace says {value}"
            ));
        }
    }

    // What pushing 1000 u64s one at a time must do: start at capacity 4
    // (std's smallest non-zero capacity for 8-byte elements), double until
    // 1000 fit, and free the buffer when the Vec is dropped. The buffer is
    // followed through the trace by address, realloc by realloc.
    let mut capacity = 4;
    let mut expected_sizes = vec![8 * capacity];
    while capacity < 1000 {
        capacity *= 2;
        expected_sizes.push(8 * capacity);
    }
    let (sizes, freed) = follow_block(&trace, expected_sizes[0], 8);
    if sizes != expected_sizes || !freed {
        return Err(format!(
            "pushing 1000 u64s should allocate and grow its buffer through {expected_sizes:?} bytes, then free it; \
             the trace shows {sizes:?} (freed: {freed})"
        ));
    }
    let (allocations, frees) = (number("allocations")?, number("frees")?);
    if allocations != frees || number("final_live_bytes")? != 0 {
        return Err(format!(
            "after the Vec is dropped every block must be freed: {allocations} allocations, {frees} frees"
        ));
    }
    if number("reallocs")? < expected_sizes.len() - 1 || number("peak_live_bytes")? < 8000 {
        return Err("growing to 1000 u64s needs a realloc per doubling and 8000 live bytes".into());
    }

    // The block map draws the blocks with their details, and focusing the
    // largest one names it in the detail line.
    let largest = attribute_values(dom, "data-size")
        .into_iter()
        .max()
        .unwrap_or(0);
    if largest != capacity * 8 {
        return Err(format!(
            "the block map's largest bar is {largest} bytes, the Vec's final buffer {} bytes",
            capacity * 8
        ));
    }
    let detail = field_text(dom, "timeline-detail").unwrap_or_default();
    if !detail.contains(&format!("{largest} bytes")) {
        return Err(format!(
            "focusing the largest block should describe it ({largest} bytes); the detail line says `{detail}`"
        ));
    }

    // n = 0 is refused with the rule, and the run before it stays shown.
    let error = field_text(dom, "timeline-error").unwrap_or_default();
    if !(error.contains("n = 0 is out of range") && error.contains("n must be from 1 to")) {
        return Err(format!(
            "n = 0 should be refused with the valid range; the page says `{error}`"
        ));
    }
    Ok(())
}

/// One block of the free-list strip, from its element's attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct StripBlock {
    offset: usize,
    size: usize,
    free: bool,
    /// For a block in use: its number, requested bytes and alignment.
    used: Option<(usize, usize, usize)>,
}

/// The blocks of the free-list strip, in the order the page shows them.
fn strip_blocks(dom: &str) -> Result<Vec<StripBlock>, String> {
    let mut blocks = Vec::new();
    for (at, _) in dom.match_indices("class=\"pg-block ") {
        let tag = &dom[at..at + dom[at..].find('>').unwrap_or(0)];
        let attr = |name: &str| -> Option<usize> { attribute_values(tag, name).first().copied() };
        let (Some(offset), Some(size)) = (attr("data-offset"), attr("data-size")) else {
            return Err(format!("a strip block without offset or size: {tag}"));
        };
        let free = tag.contains("data-free=\"true\"");
        let used = match (
            attr("data-number"),
            attr("data-requested"),
            attr("data-align"),
        ) {
            (Some(number), Some(requested), Some(align)) if !free => {
                Some((number, requested, align))
            }
            _ if free => None,
            _ => {
                return Err(format!(
                    "a block in use without number, size or alignment: {tag}"
                ));
            }
        };
        blocks.push(StripBlock {
            offset,
            size,
            free,
            used,
        });
    }
    Ok(blocks)
}

/// Free-list heap map: blocks #1-#4 of 100, 200, 100 and 300 bytes; #2 and
/// #4 freed; #5 of 50 bytes; #3 freed; #6 of 24 bytes aligned to 64; #1
/// freed; then alignment 3 (refused) and 4000 bytes (too large). The check
/// holds the strip to the free list's invariants and the gauge to the strip.
fn check_free_list(dom: &str) -> Result<(), String> {
    let number = |name: &str| number(dom, &format!("freelist-{name}"));
    let blocks = strip_blocks(dom)?;
    let strip_attr = |name: &str| attribute_values(dom, name).first().copied();
    let (Some(region), Some(header)) = (strip_attr("data-region"), strip_attr("data-header"))
    else {
        return Err("the strip does not say its region and header size".into());
    };
    // The blocks tile the region, and no two free blocks touch.
    let mut end = 0;
    for pair in blocks.windows(2) {
        if pair[0].free && pair[1].free {
            return Err(format!(
                "free blocks {pair:?} are neighbours: they were not merged"
            ));
        }
    }
    for block in &blocks {
        if block.offset != end {
            return Err(format!(
                "a block starts at {} instead of {end}: {blocks:?}",
                block.offset
            ));
        }
        end += block.size;
    }
    if end != region || blocks.len() < 3 {
        return Err(format!(
            "the blocks cover {end} of {region} bytes: {blocks:?}"
        ));
    }
    // The gauge adds up the strip.
    let free: Vec<usize> = blocks.iter().filter(|b| b.free).map(|b| b.size).collect();
    let used: Vec<&StripBlock> = blocks.iter().filter(|b| !b.free).collect();
    let (free_bytes, largest) = (
        free.iter().sum::<usize>(),
        free.iter().copied().max().unwrap_or(0),
    );
    let expected = [
        ("free_bytes", free_bytes),
        ("largest_free", largest),
        ("free_blocks", free.len()),
        ("used_blocks", used.len()),
        ("used_bytes", used.iter().map(|b| b.size).sum()),
        (
            "requested_bytes",
            used.iter().filter_map(|b| b.used).map(|(_, r, _)| r).sum(),
        ),
        ("failed_requests", 1),
    ];
    for (name, value) in expected {
        let shown = number(name)?;
        if shown != value {
            return Err(format!(
                "the gauge shows {name} = {shown}, the strip adds up to {value}"
            ));
        }
    }
    if free.len() < 2 {
        return Err(format!(
            "freeing #1 below #5 should leave free memory in two pieces: {blocks:?}"
        ));
    }
    let fragmentation = format!(
        "{:.1} %",
        100.0 * (1.0 - largest as f64 / free_bytes as f64)
    );
    let shown = field_text(dom, "freelist-fragmentation").unwrap_or_default();
    if shown != fragmentation {
        return Err(format!(
            "external fragmentation shows `{shown}`, the strip gives {fragmentation}"
        ));
    }
    // Every block in use starts its payload at an address of its alignment,
    // and each is at least its header and request.
    let base = number("base_mod_4096")?;
    for block in &used {
        let Some((n, requested, align)) = block.used else {
            continue;
        };
        if (base + block.offset + header) % align != 0 || block.size < header + requested {
            return Err(format!(
                "block #{n} {block:?} is misaligned or too small (region at {base} mod 4096)"
            ));
        }
    }
    // First fit put #5 into the hole #2 left, right after #1; #1, freed
    // with no free neighbour, is now the free block before it.
    let log = log_entries(dom);
    let fifth = blocks
        .iter()
        .position(|b| b.used.is_some_and(|(n, _, _)| n == 5));
    let first_freed = fifth
        .and_then(|i| i.checked_sub(1))
        .map(|i| blocks[i])
        .filter(|b| b.free && b.offset == 0)
        .map(|b| {
            format!(
                "Freed #1 ({}-byte block at offset 0): no free neighbour",
                b.size
            )
        });
    if !first_freed.is_some_and(|text| log.iter().any(|(_, t)| t.contains(&text))) {
        return Err(format!(
            "first fit should put #5 right after #1 (freed since, at offset 0): {blocks:?}, log {log:?}"
        ));
    }
    // The log: #3 merged on both sides, alignment 3 refused, and 4000 bytes
    // failed naming the largest free block the gauge shows.
    let logged =
        |outcome: &str, text: &str| log.iter().any(|(o, t)| o == outcome && t.contains(text));
    let failed = format!("no free block large enough: largest is {largest} bytes");
    let freed_third = log
        .iter()
        .find(|(_, t)| t.starts_with("Freed #3 "))
        .map_or("", |(_, t)| t.as_str());
    if !freed_third.contains("merged with the free blocks on both sides") {
        return Err(format!(
            "freeing #3 should merge it with the free blocks on both sides; the log says `{freed_third}`"
        ));
    }
    for (outcome, text) in [
        ("refused", "alignment 3 is not a power of two"),
        ("failed", failed.as_str()),
    ] {
        if !logged(outcome, text) {
            return Err(format!(
                "the log has no {outcome} entry saying `{text}`: {log:?}"
            ));
        }
    }
    let error = field_text(dom, "freelist-error").unwrap_or_default();
    if !error.starts_with(&failed) {
        return Err(format!(
            "the failed request should show `{failed} ...`; the page says `{error}`"
        ));
    }
    Ok(())
}

/// The entries `<li data-outcome="O">TEXT</li>` of the free-list log.
fn log_entries(dom: &str) -> Vec<(String, String)> {
    let marker = "data-outcome=\"";
    dom.match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &dom[at + marker.len()..];
            let outcome = &rest[..rest.find('"')?];
            let text_start = rest.find('>')? + 1;
            let text = &rest[text_start..text_start + rest[text_start..].find('<')?];
            Some((outcome.to_owned(), html::unescape(text)))
        })
        .collect()
}

/// The sizes one block goes through: its first allocation of `size` bytes
/// aligned to `align`, then every realloc of it (wherever it moves), and
/// whether it is freed at the end.
fn follow_block(trace: &heap_trace::Trace, size: usize, align: usize) -> (Vec<usize>, bool) {
    let mut events = trace.events.iter();
    let Some(first) = events.by_ref().find(|e| {
        matches!(e.kind, Kind::Alloc | Kind::AllocZeroed) && e.size == size && e.align == align
    }) else {
        return (Vec::new(), false);
    };
    let (mut addr, mut sizes) = (first.addr, vec![first.size]);
    for event in events {
        match event.kind {
            Kind::Realloc if event.old_addr == addr && event.addr != 0 => {
                addr = event.addr;
                sizes.push(event.size);
            }
            Kind::Dealloc if event.addr == addr => return (sizes, true),
            _ => {}
        }
    }
    (sizes, false)
}

/// The text of `<output data-field="NAME">TEXT</output>`.
fn field_text<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let start = dom.find(&format!("data-field=\"{name}\""))?;
    let after_tag = start + dom[start..].find('>')? + 1;
    let end = after_tag + dom[after_tag..].find('<')?;
    Some(dom[after_tag..end].trim())
}

/// Every numeric value of `attr="N"` in document order.
fn attribute_values(dom: &str, attr: &str) -> Vec<usize> {
    let marker = format!("{attr}=\"");
    dom.match_indices(&marker)
        .filter_map(|(at, _)| {
            let rest = &dom[at + marker.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_fields_and_attributes_are_read() {
        let dom =
            r#"<output data-field="a-b">  42 </output><tr data-offset="64" data-align="64"></tr>"#;
        assert_eq!(field_text(dom, "a-b"), Some("42"));
        assert_eq!(field_text(dom, "missing"), None);
        assert_eq!(attribute_values(dom, "data-offset"), vec![64]);
    }

    /// The timeline widget's part of a page after its self-test, for a
    /// trace of a buffer grown through `sizes` (then freed if `freed`).
    fn timeline_dom(sizes: &[usize], freed: bool, error: &str) -> String {
        use heap_trace::{Event, Trace};
        let mut events = Vec::new();
        let mut addr = 0x1000;
        for (seq, &size) in sizes.iter().enumerate() {
            let (kind, old_addr, old_size) = match seq {
                0 => (Kind::Alloc, 0, 0),
                _ => (Kind::Realloc, addr, sizes[seq - 1]),
            };
            if seq == 3 {
                addr = 0x8000; // one realloc moves the block
            }
            events.push(Event {
                seq: seq as u64,
                thread: 1,
                kind,
                addr,
                size,
                align: 8,
                old_addr,
                old_size,
            });
        }
        if freed {
            let size = *sizes.last().unwrap();
            let seq = events.len() as u64;
            events.push(Event {
                seq,
                thread: 1,
                kind: Kind::Dealloc,
                addr,
                size,
                align: 8,
                old_addr: 0,
                old_size: 0,
            });
        }
        let trace = Trace { events, dropped: 0 };
        let live = trace.live_bytes();
        let count = |kind| trace.events.iter().filter(|e| e.kind == kind).count();
        let fields = [
            ("events", trace.events.len()),
            ("allocations", count(Kind::Alloc)),
            ("reallocs", count(Kind::Realloc)),
            ("frees", count(Kind::Dealloc)),
            ("peak_live_bytes", live.iter().copied().max().unwrap_or(0)),
            ("final_live_bytes", live.last().copied().unwrap_or(0)),
            ("dropped", 0),
        ];
        let mut dom = String::from(r#"<div class="playground-widget" data-widget="timeline">"#);
        dom += &format!(r#"<p class="pg-error" data-field="timeline-error">{error}</p>"#);
        for (name, value) in fields {
            dom += &format!(r#"<output data-field="timeline-{name}">{value}</output>"#);
        }
        let largest = sizes.iter().max().unwrap();
        dom += &format!(
            r#"<rect data-seq="0" data-addr="0x1000" data-size="{largest}" data-align="8"></rect>"#
        );
        dom += &format!(
            r#"<p data-field="timeline-detail">Block at 0x8000: {largest} bytes, align 8</p>"#
        );
        dom += &format!(
            r#"<pre data-field="timeline-trace">{}</pre></div>"#,
            trace.to_json_lines()
        );
        dom
    }

    const REFUSED: &str = "n = 0 is out of range for vec-push: n must be from 1 to 100000";

    #[test]
    fn the_timeline_check_accepts_a_vec_that_doubles_and_rejects_one_that_does_not() {
        let doubling = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];
        check_timeline(&timeline_dom(&doubling, true, REFUSED)).unwrap();
        // Grown by 1.5x instead of doubling.
        let err =
            check_timeline(&timeline_dom(&[32, 48, 72, 108, 8192], true, REFUSED)).unwrap_err();
        assert!(err.contains("grow its buffer through"), "{err}");
        // Never freed.
        let err = check_timeline(&timeline_dom(&doubling, false, REFUSED)).unwrap_err();
        assert!(err.contains("freed: false"), "{err}");
        // n = 0 accepted, or refused without the range.
        let err = check_timeline(&timeline_dom(&doubling, true, "")).unwrap_err();
        assert!(err.contains("n = 0 should be refused"), "{err}");
    }

    #[test]
    fn the_timeline_check_rejects_numbers_its_trace_does_not_give() {
        let doubling = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];
        let good = timeline_dom(&doubling, true, REFUSED);
        let wrong = good.replace(
            r#"data-field="timeline-reallocs">8<"#,
            r#"data-field="timeline-reallocs">9<"#,
        );
        assert_ne!(good, wrong);
        let err = check_timeline(&wrong).unwrap_err();
        assert!(err.contains("reallocs = 9, its own trace says 8"), "{err}");
        let no_detail = good.replace("Block at 0x8000: 8192 bytes", "Point at a block");
        let err = check_timeline(&no_detail).unwrap_err();
        assert!(err.contains("detail line"), "{err}");
    }

    /// `(offset, size, Some((number, requested, align)) if in use)`.
    type FixtureBlock = (usize, usize, Option<(usize, usize, usize)>);

    /// A free-list widget after its self-test, as the page prints it: the
    /// strip's blocks `(offset, size, used as (number, requested, align))`
    /// and the gauge computed from them.
    fn free_list_dom(blocks: &[FixtureBlock], log: &[(&str, &str)]) -> String {
        let region: usize = blocks.iter().map(|b| b.1).sum();
        let mut dom = String::from(r#"<div class="playground-widget" data-widget="free-list">"#);
        let free: Vec<usize> = blocks
            .iter()
            .filter(|b| b.2.is_none())
            .map(|b| b.1)
            .collect();
        let (free_bytes, largest) = (
            free.iter().sum::<usize>(),
            free.iter().max().copied().unwrap_or(0),
        );
        let failed = format!("no free block large enough: largest is {largest} bytes, and more");
        dom += &format!(r#"<p class="pg-error" data-field="freelist-error">{failed}</p>"#);
        dom += &format!(r#"<div class="pg-strip" data-region="{region}" data-header="16">"#);
        for &(offset, size, used) in blocks {
            dom += &match used {
                None => format!(
                    r#"<span class="pg-block pg-block-free" data-offset="{offset}" data-size="{size}" data-free="true"></span>"#
                ),
                Some((n, requested, align)) => format!(
                    r#"<button class="pg-block pg-block-used" data-offset="{offset}" data-size="{size}" data-free="false" data-number="{n}" data-align="{align}" data-requested="{requested}"></button>"#
                ),
            };
        }
        dom += "</div>";
        let used = blocks.iter().filter_map(|b| b.2.map(|u| (b.1, u)));
        let fields = [
            ("free_bytes", free_bytes.to_string()),
            ("largest_free", largest.to_string()),
            (
                "fragmentation",
                format!(
                    "{:.1} %",
                    100.0 * (1.0 - largest as f64 / free_bytes as f64)
                ),
            ),
            ("free_blocks", free.len().to_string()),
            ("used_blocks", used.clone().count().to_string()),
            (
                "used_bytes",
                used.clone()
                    .map(|(size, _)| size)
                    .sum::<usize>()
                    .to_string(),
            ),
            (
                "requested_bytes",
                used.map(|(_, (_, r, _))| r).sum::<usize>().to_string(),
            ),
            ("failed_requests", "1".into()),
            ("base_mod_4096", "32".into()),
        ];
        for (name, value) in fields {
            dom += &format!(r#"<output data-field="freelist-{name}">{value}</output>"#);
        }
        dom += "<ol>";
        for (outcome, text) in log {
            let text = text.replace("{failed}", &failed);
            dom += &format!(r#"<li data-outcome="{outcome}">{text}</li>"#);
        }
        dom + "</ol></div>"
    }

    const FREE_LIST_LOG: [(&str, &str); 4] = [
        (
            "freed",
            "Freed #3 (128-byte block at offset 352): merged with the free blocks on both sides",
        ),
        (
            "freed",
            "Freed #1 (128-byte block at offset 0): no free neighbour to merge with",
        ),
        ("refused", "alignment 3 is not a power of two: ..."),
        ("failed", "{failed}"),
    ];

    #[test]
    fn the_free_list_check_accepts_a_consistent_strip_and_rejects_broken_ones() {
        let good = [
            (0, 128, None),
            (128, 80, Some((5, 50, 16))),
            (208, 48, Some((6, 24, 64))),
            (256, 3840, None),
        ];
        check_free_list(&free_list_dom(&good, &FREE_LIST_LOG)).unwrap();

        // Two free neighbours: coalescing did not happen.
        let unmerged = [
            (0, 128, None),
            (128, 80, Some((5, 50, 16))),
            (208, 48, None),
            (256, 3840, None),
        ];
        let err = check_free_list(&free_list_dom(&unmerged, &FREE_LIST_LOG)).unwrap_err();
        assert!(err.contains("were not merged"), "{err}");
        // A gap between blocks.
        let gap = [
            (0, 128, None),
            (144, 64, Some((5, 50, 16))),
            (208, 48, Some((6, 24, 64))),
            (256, 3840, None),
        ];
        let err = check_free_list(&free_list_dom(&gap, &FREE_LIST_LOG)).unwrap_err();
        assert!(err.contains("instead of 128"), "{err}");
        // A payload at an address that is not a multiple of its alignment.
        let misaligned = [
            (0, 128, None),
            (128, 96, Some((5, 50, 16))),
            (224, 32, Some((6, 8, 64))),
            (256, 3840, None),
        ];
        let err = check_free_list(&free_list_dom(&misaligned, &FREE_LIST_LOG)).unwrap_err();
        assert!(err.contains("block #6"), "{err}");
        // #5 not right after #1's place.
        let moved = [
            (0, 128, None),
            (128, 48, Some((6, 24, 16))),
            (176, 80, Some((5, 50, 16))),
            (256, 3840, None),
        ];
        let err = check_free_list(&free_list_dom(&moved, &FREE_LIST_LOG)).unwrap_err();
        assert!(err.contains("first fit"), "{err}");
        // No merge on both sides in the log.
        let err = check_free_list(&free_list_dom(&good, &FREE_LIST_LOG[1..])).unwrap_err();
        assert!(err.contains("freeing #3 should merge"), "{err}");
        // The failed request missing from the log.
        let err = check_free_list(&free_list_dom(&good, &FREE_LIST_LOG[..3])).unwrap_err();
        assert!(err.contains("no failed entry"), "{err}");
        // A gauge that disagrees with the strip.
        let wrong = free_list_dom(&good, &FREE_LIST_LOG).replace(
            r#"data-field="freelist-largest_free">3840<"#,
            r#"data-field="freelist-largest_free">3968<"#,
        );
        let err = check_free_list(&wrong).unwrap_err();
        assert!(err.contains("largest_free = 3968"), "{err}");
    }

    #[test]
    fn each_widget_is_checked_on_its_own_part_of_the_page() {
        let dom = r#"<div data-widget="bump"><tr data-offset="0" data-align="1"></tr></div><div data-widget="timeline"><rect data-align="8"></rect></div>"#;
        assert_eq!(
            widget_section(dom, "bump").unwrap(),
            r#"data-widget="bump"><tr data-offset="0" data-align="1"></tr></div><div "#
        );
        assert!(
            widget_section(dom, "timeline")
                .unwrap()
                .contains("data-align=\"8\"")
        );
        assert!(
            widget_section(dom, "layout")
                .unwrap_err()
                .contains("no `layout` widget")
        );
    }

    #[test]
    fn a_page_whose_selftest_did_not_run_fails_the_check() {
        let err = check_selftest_dom("<body></body>").unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
    }
}
