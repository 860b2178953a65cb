//! Reading a Miri run's output: the first report Miri printed, what kind of
//! undefined behaviour it is, which test hit it, where, and which section
//! of the book explains it, in words a learner understands.

use std::path::Path;

/// A kind of report, with what it means and where the book explains it.
#[derive(Debug)]
pub struct Kind {
    /// A short name: "a data race".
    pub name: &'static str,
    /// What happened, for someone learning allocators.
    pub means: &'static str,
    /// The book chapter (under `book/src`), its title, and the heading of
    /// the section that explains this mistake.
    pub chapter: &'static str,
    pub chapter_title: &'static str,
    pub heading: &'static str,
    /// Words of Miri's first line that identify the kind.
    patterns: &'static [&'static str],
    /// False for reports of something Miri cannot run (not a bug).
    pub undefined_behaviour: bool,
}

impl Kind {
    /// The section's anchor, as mdBook makes it from the heading.
    pub fn anchor(&self) -> String {
        heading_anchor(self.heading)
    }
}

/// mdBook's id for a heading: lower case, spaces become dashes, and only
/// letters, digits, `-` and `_` stay.
pub fn heading_anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// In the order they are tried: the first kind with a matching pattern wins.
pub const KINDS: &[Kind] = &[
    Kind {
        name: "a data race",
        means: "two threads touched the same bytes without synchronisation, and at least one \
                of them wrote. In an allocator this usually means two threads were handed \
                overlapping blocks (a load, then a store, where one compare-and-swap was \
                needed), or a thread reused bytes another thread had written with nothing \
                (a Release store read by an Acquire load, a lock, a join) ordering the two.",
        chapter: "bump.md",
        chapter_title: "A bump arena",
        heading: "Allocating with a compare-and-swap loop",
        patterns: &["Data race detected", "Race condition detected"],
        undefined_behaviour: true,
    },
    Kind {
        name: "a pointer without provenance",
        means: "a pointer was made from a plain integer (an `as` cast from `usize`), so it \
                carries no permission to reach any memory. Compute addresses as integers if \
                you like, but build the pointer from one you were given: `ptr.with_addr(a)`, \
                `ptr.map_addr(..)` or `ptr.add(n)`.",
        chapter: "bump.md",
        chapter_title: "A bump arena",
        heading: "Aligning the address, not the offset",
        patterns: &["integer-to-pointer", "exposed_provenance", "no provenance"],
        undefined_behaviour: true,
    },
    Kind {
        name: "a use after free",
        means: "a block was read or written after it was freed: it was given back with \
                `dealloc` (or reused by the allocator) while something still pointed into it.",
        chapter: "globalalloc.md",
        chapter_title: "The GlobalAlloc trait",
        heading: "Two kinds of `unsafe`",
        patterns: &["has been freed"],
        undefined_behaviour: true,
    },
    Kind {
        name: "an out-of-bounds access",
        means: "a pointer reached outside the memory it points into: a block that runs past \
                the end of the arena, an end check that is off by one, or a block smaller than \
                the size that was asked for.",
        chapter: "bump.md",
        chapter_title: "A bump arena",
        heading: "Allocating with a compare-and-swap loop",
        patterns: &[
            "out-of-bounds",
            "end of the allocation",
            "beginning of the allocation",
            "pointer arithmetic failed",
        ],
        undefined_behaviour: true,
    },
    Kind {
        name: "a block freed with the wrong layout or allocator",
        means: "a block was given back with a different size or alignment than it was \
                allocated with, or to an allocator that did not hand it out.",
        chapter: "layout.md",
        chapter_title: "Layout",
        heading: "Why an allocator cares",
        patterns: &["on deallocation", "deallocating", "deallocation operation"],
        undefined_behaviour: true,
    },
    Kind {
        name: "a misaligned pointer",
        means: "a pointer was used whose address is not a multiple of the alignment its type \
                needs. The allocator must return an address that is a multiple of \
                `layout.align()`: round the address up, not the offset into the arena.",
        chapter: "bump.md",
        chapter_title: "A bump arena",
        heading: "Aligning the address, not the offset",
        patterns: &["alignment", "misaligned", "unaligned"],
        undefined_behaviour: true,
    },
    Kind {
        name: "a read of uninitialised memory",
        means: "the code read bytes nobody had written. `alloc` returns uninitialised memory; \
                only `alloc_zeroed` promises zeros, so it must not be forwarded to `alloc`.",
        chapter: "peak.md",
        chapter_title: "Peak tracking",
        heading: "Why override `alloc_zeroed` and `realloc`",
        patterns: &["uninitialized"],
        undefined_behaviour: true,
    },
    Kind {
        name: "a zero-sized allocation",
        means: "`alloc` was called with a size of 0, which the allocator's callers must never \
                do; the standard library uses a dangling, aligned pointer instead.",
        chapter: "layout.md",
        chapter_title: "Layout",
        heading: "Why an allocator cares",
        patterns: &["with size 0"],
        undefined_behaviour: true,
    },
    Kind {
        name: "a deadlock",
        means: "every thread is waiting for another one, so none can go on: a lock that is \
                never released, a lock taken twice by the same thread, or an allocator that \
                re-enters itself (printing or locking inside `alloc`).",
        chapter: "pitfalls.md",
        chapter_title: "Pitfalls",
        heading: "`println!` inside `alloc`: a deadlock",
        patterns: &["deadlock"],
        undefined_behaviour: true,
    },
    Kind {
        name: "a memory leak",
        means: "memory allocated during the test was never freed. Every block `alloc` hands \
                out must come back through `dealloc`, to the allocator that made it.",
        chapter: "globalalloc.md",
        chapter_title: "The GlobalAlloc trait",
        heading: "Two kinds of `unsafe`",
        patterns: &["memory leaked"],
        undefined_behaviour: true,
    },
    Kind {
        name: "a panic that escaped the allocator",
        means: "a panic unwound out of a function that must not unwind, and the program \
                aborted. An allocator reports failure by returning null, never by panicking; \
                use checked arithmetic and return null on overflow.",
        chapter: "pitfalls.md",
        chapter_title: "Pitfalls",
        heading: "A panic inside `alloc`",
        patterns: &["unwind", "abnormal termination"],
        undefined_behaviour: true,
    },
    Kind {
        name: "a pointer used beyond its permission",
        means: "a pointer was used after it lost the right to touch that memory (Miri's \
                aliasing rules): it was derived from a reference that has since been \
                invalidated, for instance by a new `&mut` to the same bytes, or it reached \
                past the bytes it was derived from. Derive block pointers from the arena's \
                raw pointer (`UnsafeCell::get`), never from a `&mut` to the whole arena.",
        chapter: "bump.md",
        chapter_title: "A bump arena",
        heading: "The types",
        patterns: &["borrow stack", "Stacked Borrows", "Tree Borrows", "retag"],
        undefined_behaviour: true,
    },
    Kind {
        name: "something Miri cannot run",
        means: "this test does something Miri cannot interpret (calling foreign C code such \
                as mimalloc, or an operating-system call Miri does not know). That is not a \
                bug in your code: such a test belongs under \
                `#[cfg_attr(miri, ignore = \"why\")]`.",
        chapter: "mimalloc.md",
        chapter_title: "Swapping in mimalloc",
        heading: "The two lines",
        patterns: &["unsupported operation", "can't call foreign function"],
        undefined_behaviour: false,
    },
    Kind {
        name: "undefined behaviour",
        means: "the program broke one of the rules unsafe code must keep. Miri's report below \
                says which one; the `// SAFETY:` comment next to the code it points at should \
                say why the rule holds, and here it does not.",
        chapter: "globalalloc.md",
        chapter_title: "The GlobalAlloc trait",
        heading: "Two kinds of `unsafe`",
        patterns: &[""],
        undefined_behaviour: true,
    },
];

/// The first lines of Miri's reports (cargo's and rustc's own `error:`
/// lines are not among them).
const REPORT_STARTS: &[&str] = &[
    "error: Undefined Behavior",
    "error: unsupported operation",
    "error: memory leaked",
    "error: the evaluated program deadlocked",
    "error: abnormal termination",
    "error: the main thread terminated",
    "error: resource exhaustion",
];

/// The first report of a Miri run.
#[derive(Debug)]
pub struct Report {
    pub kind: &'static Kind,
    /// Miri's first line, without `error: `.
    pub headline: String,
    /// The test that was running, when libtest printed its name.
    pub test: Option<String>,
    /// The test target that was running (`tests/bump.rs`, `unittests src/lib.rs`).
    pub target: Option<String>,
    /// The scheduler seed it happened on, in a run over many seeds.
    pub seed: Option<u64>,
    /// Where Miri stopped (`path:line:column`).
    pub location: Option<String>,
    /// The first place in the report inside the learner's code.
    pub in_your_code: Option<String>,
    /// The report as Miri printed it.
    pub raw: String,
}

/// The first Miri report in `output`. `your_code` is the path prefix of the
/// code being checked (`exercises/exercise-3/src/`), if it is known.
pub fn first_report(output: &str, your_code: Option<&str>) -> Option<Report> {
    let lines: Vec<&str> = output.lines().collect();
    let (start, column) = lines.iter().enumerate().find_map(|(i, line)| {
        REPORT_STARTS
            .iter()
            .filter_map(|s| line.find(s))
            .min()
            .map(|at| (i, at))
    })?;
    let first = &lines[start][column..];
    let headline = first.trim_start_matches("error: ").to_owned();

    let mut end = start + 1;
    while end < lines.len() && !ends_report(lines[end]) {
        end += 1;
    }
    let body = &lines[start + 1..end];
    let mut raw = first.to_owned();
    for line in body {
        raw.push('\n');
        raw.push_str(line);
    }
    let raw = raw.trim_end().to_owned();

    let test = test_name(&lines[start][..column]);
    let target = lines[..start].iter().rev().find_map(|line| {
        let rest = line.trim_start().strip_prefix("Running ")?;
        Some(rest.split(" (").next().unwrap_or(rest).to_owned())
    });
    let seed = lines[start..]
        .iter()
        .find_map(|line| line.trim().strip_prefix("FAILING SEED: ")?.parse().ok());
    let locations: Vec<String> = body.iter().filter_map(|l| location_of(l)).collect();
    let in_your_code = locations
        .iter()
        .find(|l| your_code.is_some_and(|prefix| l.starts_with(prefix)))
        .cloned();
    Some(Report {
        kind: classify(&headline, &raw),
        headline,
        test,
        target,
        seed,
        location: locations.into_iter().next(),
        in_your_code,
        raw,
    })
}

fn ends_report(line: &str) -> bool {
    line.starts_with("error: aborting due to")
        || line.starts_with("error: test failed")
        || line.starts_with("FAILING SEED:")
        || line.starts_with("Trying seed:")
}

/// The test libtest announced last on the report's line:
/// `test NAME ... test NAME ... ` (two seeds print at once).
fn test_name(before: &str) -> Option<String> {
    let last = before.rfind("test ")?;
    let name = before[last + "test ".len()..].split(" ... ").next()?.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// `path:line:column` of a report line `--> path:l:c` or a backtrace line
/// `at path:l:c: l:c`.
fn location_of(line: &str) -> Option<String> {
    let trimmed = line.trim_start();
    let rest = trimmed
        .strip_prefix("--> ")
        .or_else(|| trimmed.strip_prefix("at "))?;
    let location = rest.split(": ").next()?.trim();
    let mut parts = location.rsplitn(3, ':');
    let (column, line_number) = (parts.next()?, parts.next()?);
    (column.parse::<u32>().is_ok() && line_number.parse::<u32>().is_ok())
        .then(|| location.to_owned())
}

fn classify(headline: &str, raw: &str) -> &'static Kind {
    let found = KINDS
        .iter()
        .find(|k| k.patterns.iter().any(|p| headline.contains(p)))
        .unwrap_or(&KINDS[KINDS.len() - 1]);
    // An aliasing report about bytes past the range the pointer was derived
    // from is an out-of-bounds access in an allocator's terms.
    if found.name == "a pointer used beyond its permission"
        && let (Some(access), Some((from, to))) = (access_offset(headline), retag_range(raw))
        && (access < from || access >= to)
    {
        return KINDS
            .iter()
            .find(|k| k.name == "an out-of-bounds access")
            .unwrap_or(found);
    }
    found
}

/// `alloc123[0x101]` in a headline: the offset accessed.
fn access_offset(headline: &str) -> Option<u64> {
    let at = headline.find("alloc")?;
    let rest = &headline[at..];
    let open = rest.find("[0x")?;
    let digits: String = rest[open + 3..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    u64::from_str_radix(&digits, 16).ok()
}

/// `retag at offsets [0x0..0x100]`: the bytes a pointer was derived for.
fn retag_range(raw: &str) -> Option<(u64, u64)> {
    let at = raw.find("retag at offsets [0x")?;
    let rest = &raw[at + "retag at offsets [0x".len()..];
    let (from, rest) = rest.split_once("..0x")?;
    let to: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
    Some((
        u64::from_str_radix(from, 16).ok()?,
        u64::from_str_radix(&to, 16).ok()?,
    ))
}

/// A source line, `   40 |     text`, to show under a location.
pub fn source_line(root: &Path, location: &str) -> Option<String> {
    let mut parts = location.rsplitn(3, ':');
    let _column = parts.next()?;
    let number: usize = parts.next()?.parse().ok()?;
    let path = parts.next()?;
    let text = std::fs::read_to_string(root.join(path)).ok()?;
    let line = text.lines().nth(number.checked_sub(1)?)?;
    Some(format!("{number:>5} | {}", line.trim_end()))
}

/// The learner's message: the kind in plain words, which test, where,
/// which section explains it, how to run it again, then Miri's report.
/// `rerun` is the command that ran the tests, as the learner would type it.
pub fn explain(report: &Report, root: &Path, rerun: &str) -> String {
    let kind = report.kind;
    let mut text = String::new();
    let what = if kind.undefined_behaviour {
        "Miri found undefined behaviour"
    } else {
        "Miri stopped"
    };
    text.push_str(what);
    if let Some(test) = &report.test {
        text.push_str(&format!(" in test `{test}`"));
    }
    if let Some(target) = &report.target {
        text.push_str(&format!(" ({target})"));
    }
    if let Some(seed) = report.seed {
        text.push_str(&format!(", on seed {seed} of the thread scheduler"));
    }
    text.push_str(&format!(
        ":\n\n  {}: {}\n",
        capitalise(kind.name),
        kind.means
    ));
    if let Some(location) = &report.in_your_code {
        text.push_str(&format!("\n  In your code: {location}\n"));
        if let Some(line) = source_line(root, location) {
            text.push_str(&format!("  {line}\n"));
        }
    }
    if let Some(location) = &report.location
        && report.in_your_code.as_ref() != Some(location)
    {
        text.push_str(&format!("\n  Where Miri stopped: {location}\n"));
        if let Some(line) = source_line(root, location) {
            text.push_str(&format!("  {line}\n"));
        }
    }
    text.push_str(&format!(
        "\n  Read: \"{}\" in the chapter {} (book/src/{}#{})\n",
        kind.heading.replace('`', ""),
        kind.chapter_title,
        kind.chapter,
        kind.anchor()
    ));
    let mut again = rerun.to_owned();
    if let Some(seed) = report.seed {
        again = again.replace("-Zmiri-many-seeds=", "-Zmiri-seed=").replace(
            &format!("-Zmiri-seed={}", seed_range(rerun)),
            &format!("-Zmiri-seed={seed}"),
        );
    }
    text.push_str(&format!("  Run it again: {again}\n"));
    text.push_str("\nMiri's report:\n\n");
    for line in report.raw.lines() {
        text.push_str("  ");
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// The `A..B` of `-Zmiri-many-seeds=A..B` in a command line.
fn seed_range(command: &str) -> &str {
    command
        .split("-Zmiri-many-seeds=")
        .nth(1)
        .and_then(|rest| rest.split(['"', ' ']).next())
        .unwrap_or_default()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real reports of `cargo miri test` (nightly-2026-10-30,
    /// `-Zmiri-strict-provenance`), each from a small test written to make
    /// that mistake inside `exercises/exercise-3`.
    fn saved(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/miri_reports")
            .join(format!("{name}.txt"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    const YOURS: Option<&str> = Some("exercises/exercise-3/src/");

    fn report(name: &str) -> Report {
        first_report(&saved(name), YOURS).unwrap_or_else(|| panic!("{name}: no report found"))
    }

    #[test]
    fn every_saved_report_gets_its_kind() {
        for (file, kind) in [
            ("race_over_seeds", "a data race"),
            ("race_read_write", "a data race"),
            ("misaligned", "a misaligned pointer"),
            ("block_too_small", "an out-of-bounds access"),
            ("past_the_arena", "an out-of-bounds access"),
            ("use_after_free", "a use after free"),
            ("integer_to_pointer", "a pointer without provenance"),
            ("leak", "a memory leak"),
            ("uninitialised", "a read of uninitialised memory"),
            ("deadlock", "a deadlock"),
            ("aliasing", "a pointer used beyond its permission"),
            ("foreign_function", "something Miri cannot run"),
            ("zero_size", "a zero-sized allocation"),
            (
                "wrong_allocator",
                "a block freed with the wrong layout or allocator",
            ),
        ] {
            assert_eq!(report(file).kind.name, kind, "{file}");
        }
    }

    #[test]
    fn a_race_over_many_seeds_names_its_test_and_seed() {
        let found = report("race_over_seeds");
        assert_eq!(
            found.test.as_deref(),
            Some("two_threads_never_share_a_byte")
        );
        assert_eq!(found.target.as_deref(), Some("tests/ub.rs"));
        assert_eq!(found.seed, Some(6));
        assert_eq!(
            found.location.as_deref(),
            Some("exercises/exercise-3/tests/ub.rs:13:30")
        );
        assert!(
            found
                .raw
                .starts_with("error: Undefined Behavior: Data race")
        );
        assert!(found.raw.ends_with("verbose backtrace"), "{}", found.raw);

        let rerun = "MIRIFLAGS=\"-Zmiri-strict-provenance -Zmiri-many-seeds=0..8\" cargo +n miri test -p exercise-3 --tests -- threads";
        let text = explain(&found, Path::new("/nonexistent"), rerun);
        assert!(
            text.starts_with(
                "Miri found undefined behaviour in test `two_threads_never_share_a_byte` \
                 (tests/ub.rs), on seed 6 of the thread scheduler:"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "A data race: two threads touched the same bytes without synchronisation"
            ),
            "{text}"
        );
        assert!(
            text.contains("(book/src/bump.md#allocating-with-a-compare-and-swap-loop)"),
            "{text}"
        );
        assert!(
            text.contains("MIRIFLAGS=\"-Zmiri-strict-provenance -Zmiri-seed=6\""),
            "{text}"
        );
        assert!(
            text.contains("Miri's report:\n\n  error: Undefined Behavior: Data race"),
            "{text}"
        );
    }

    #[test]
    fn the_learners_own_line_is_found_in_the_backtrace() {
        let found = report("integer_to_pointer");
        assert_eq!(
            found.in_your_code.as_deref(),
            Some("exercises/exercise-3/src/lib.rs:28:8")
        );
        assert_eq!(found.test.as_deref(), Some("pointer_from_address"));
        let deadlock = report("deadlock");
        assert_eq!(deadlock.test.as_deref(), Some("deadlock"));
    }

    #[test]
    fn a_leak_after_the_tests_names_the_test_file() {
        let found = report("leak");
        assert_eq!(found.test, None);
        assert_eq!(found.target.as_deref(), Some("tests/ub.rs"));
        let text = explain(&found, Path::new("/nonexistent"), "cargo miri test");
        assert!(
            text.starts_with("Miri found undefined behaviour (tests/ub.rs):"),
            "{text}"
        );
    }

    #[test]
    fn output_without_a_report_has_none() {
        assert!(first_report(&saved("panic_not_a_report"), YOURS).is_none());
        assert!(first_report("error: could not compile `x`\n", YOURS).is_none());
    }

    #[test]
    fn anchors_are_made_as_mdbook_makes_them() {
        assert_eq!(
            heading_anchor("`println!` inside `alloc`: a deadlock"),
            "println-inside-alloc-a-deadlock"
        );
        assert_eq!(
            heading_anchor("Why override `alloc_zeroed` and `realloc`"),
            "why-override-alloc_zeroed-and-realloc"
        );
    }

    /// Every section a message points to exists in the book, under that
    /// chapter title: renaming a heading must update the table.
    #[test]
    fn every_section_named_exists_in_the_book() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src");
        for kind in KINDS {
            let text = std::fs::read_to_string(src.join(kind.chapter))
                .unwrap_or_else(|e| panic!("{}: {e}", kind.chapter));
            let title = text
                .lines()
                .find(|l| l.starts_with("# "))
                .unwrap_or_default();
            assert!(
                title
                    .trim_start_matches("# ")
                    .starts_with(kind.chapter_title),
                "{}: the chapter's title is {title:?}, not {:?}",
                kind.chapter,
                kind.chapter_title
            );
            assert!(
                text.lines().any(
                    |l| l.trim_start_matches('#').trim() == kind.heading && l.starts_with("##")
                ),
                "{}: no section headed {:?}",
                kind.chapter,
                kind.heading
            );
        }
    }
}
