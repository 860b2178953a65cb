//! The failure a wrong answer produced, as a book page shows it: the failing
//! test's name and panic, or Miri's report, trimmed, with no machine paths
//! and nothing that changes from run to run but the failure itself.

use std::path::Path;

use crate::libtest::Failure;

/// At most this many lines of one panic message or Miri report.
const MAX_LINES: usize = 14;

/// The report of the tests that failed natively, in the order given.
pub fn native(failures: &[&Failure]) -> String {
    let mut blocks = Vec::new();
    for failure in failures {
        let mut block = format!("test {} ... FAILED\n", failure.name);
        if !failure.panicked_at.is_empty() {
            block.push_str(&failure.panicked_at);
            block.push('\n');
        }
        block.push_str(&capped(&failure.message));
        blocks.push(block.trim_end().to_owned());
    }
    blocks.join("\n\n")
}

/// A test process that aborted inside `test`: the panic that could not
/// unwind, from its `panicked at` line to the end of its message.
pub fn aborted(test: &str, stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut report = format!("test {test} ... aborted\n");
    if let Some(start) = lines.iter().position(|l| l.contains("panicked at")) {
        let body: Vec<&str> = lines[start..]
            .iter()
            .enumerate()
            .take_while(|(i, l)| *i == 0 || !(l.is_empty() || l.starts_with("note:")))
            .map(|(_, l)| *l)
            .collect();
        report.push_str(&capped(&body.join("\n")));
    }
    report.trim_end().to_owned()
}

/// Miri's report on `test`: from its `error:` headline (preferring
/// "Undefined Behavior:") through the source spans, up to the generic help.
pub fn miri(test: &str, seed: u64, stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let is_report = |l: &&str| {
        l.starts_with("error: ")
            && !l.starts_with("error: test failed")
            && !l.contains("target failed")
    };
    let start = lines
        .iter()
        .position(|l| l.starts_with("error: Undefined Behavior:"))
        .or_else(|| lines.iter().position(is_report));
    let mut report = format!("test {test} ... stopped by Miri (seed {seed})\n");
    if let Some(start) = start {
        let body: Vec<&str> = lines[start..]
            .iter()
            .enumerate()
            .take_while(|(i, l)| {
                *i == 0 || !(l.is_empty() || l.trim_start().starts_with("= help:"))
            })
            .map(|(_, l)| *l)
            .collect();
        report.push_str(&capped(&body.join("\n")));
    }
    report.trim_end().to_owned()
}

/// `text` cut to [`MAX_LINES`], saying how much was left out.
fn capped(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= MAX_LINES {
        return text.to_owned();
    }
    format!(
        "{}\n... ({} more lines)",
        lines[..MAX_LINES].join("\n"),
        lines.len() - MAX_LINES
    )
}

/// Makes a report stable and free of machine paths: paths inside the
/// workspace become relative to its root (with `dir/../` folded away), the
/// standard library's and registry crates' paths start at the crate, thread
/// ids are dropped, trailing spaces are trimmed.
pub fn normalise(text: &str, root: &Path) -> String {
    let root_prefix = format!("{}/", root.display());
    text.lines()
        .map(|line| {
            let line = line.replace(&root_prefix, "");
            let line = strip_before(&line, "/lib/rustlib/src/rust/", 0);
            let line = strip_before(&line, "/.cargo/registry/src/", 1);
            let line = strip_before(&line, "/.cargo/git/checkouts/", 2);
            let line = drop_thread_id(&line);
            fold_parent_dirs(&line).trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Removes every path prefix that ends in `marker` (and `skip` more path
/// components): `/home/x/.rustup/.../lib/rustlib/src/rust/library/core/..`
/// becomes `library/core/..`.
fn strip_before(line: &str, marker: &str, skip: usize) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(marker) {
        let token_start = rest[..at]
            .rfind([' ', '(', '`', '\'', '"', '='])
            .map_or(0, |i| i + 1);
        out.push_str(&rest[..token_start]);
        let mut after = &rest[at + marker.len()..];
        for _ in 0..skip {
            after = after.split_once('/').map_or(after, |(_, tail)| tail);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `thread 'name' (12345) panicked` → `thread 'name' panicked`.
fn drop_thread_id(line: &str) -> String {
    if let Some(at) = line.find("' (")
        && line.starts_with("thread '")
    {
        let after = &line[at + 3..];
        if let Some(close) = after.find(')')
            && !after[..close].is_empty()
            && after[..close].bytes().all(|b| b.is_ascii_digit())
        {
            return format!("{}'{}", &line[..at], &after[close + 1..]);
        }
    }
    line.to_owned()
}

/// Folds `a/b/../c` into `a/c` in every space-separated word.
fn fold_parent_dirs(line: &str) -> String {
    line.split(' ')
        .map(|word| {
            if !word.contains("/../") {
                return word.to_owned();
            }
            let mut parts: Vec<&str> = Vec::new();
            for part in word.split('/') {
                match (part, parts.last()) {
                    ("..", Some(&last)) if last != ".." && !last.is_empty() => {
                        parts.pop();
                    }
                    _ => parts.push(part),
                }
            }
            parts.join("/")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_and_thread_ids_go() {
        let root = Path::new("/home/me/workbook");
        let text = "thread 'two_threads_race' (8812) panicked at wrong-answers/exercise-3/x/../../../exercises/exercise-3/tests/bump.rs:88:9:\n\
                    \x20 --> /home/me/workbook/wrong-answers/exercise-3/x/src/lib.rs:60:13   \n\
                    \x20 --> /root/.rustup/toolchains/nightly-2026-10-30-x86_64-unknown-linux-gnu/lib/rustlib/src/rust/library/core/src/ptr/mod.rs:1:1\n\
                    at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/libc-0.2.191/src/lib.rs:3:4\n\
                    thread 'main' (x) panicked";
        assert_eq!(
            normalise(text, root),
            "thread 'two_threads_race' panicked at exercises/exercise-3/tests/bump.rs:88:9:\n\
             \x20 --> wrong-answers/exercise-3/x/src/lib.rs:60:13\n\
             \x20 --> library/core/src/ptr/mod.rs:1:1\n\
             at libc-0.2.191/src/lib.rs:3:4\n\
             thread 'main' (x) panicked"
        );
    }

    #[test]
    fn a_native_report_names_each_test_and_its_panic() {
        let failure = Failure {
            name: "peak_is_exact".into(),
            panicked_at: "thread 'peak_is_exact' panicked at tests/peak.rs:9:5:".into(),
            message: (1..=20)
                .map(|i| format!("line {i}"))
                .collect::<Vec<_>>()
                .join("\n"),
        };
        let report = native(&[&failure]);
        assert!(report.starts_with("test peak_is_exact ... FAILED\nthread 'peak_is_exact' panicked at tests/peak.rs:9:5:\nline 1\n"), "{report}");
        assert!(report.ends_with("line 14\n... (6 more lines)"), "{report}");
    }

    #[test]
    fn an_abort_shows_the_panic_that_could_not_unwind() {
        let stderr = "     Running tests/realloc.rs (target/debug/deps/realloc-1)\n\
                      thread '<unnamed>' panicked at library/core/src/ptr/mod.rs:527:5:\n\
                      unsafe precondition(s) violated: ptr::copy_nonoverlapping requires ...\n\
                      \n\
                      This indicates a bug in the program.\n";
        assert_eq!(
            aborted("two_threads", stderr),
            "test two_threads ... aborted\n\
             thread '<unnamed>' panicked at library/core/src/ptr/mod.rs:527:5:\n\
             unsafe precondition(s) violated: ptr::copy_nonoverlapping requires ..."
        );
    }

    #[test]
    fn a_miri_report_keeps_the_headline_and_the_spans() {
        let stderr = "     Running tests/t.rs (target/miri/t)\n\
                      error: Undefined Behavior: Data race detected between (1) non-atomic write on thread `unnamed-3` and (2) non-atomic read on thread `unnamed-4` at alloc95093\n\
                      \x20 --> tests/t.rs:10:29\n\
                      \x20  |\n\
                      10 |         s.spawn(|| unsafe { *r.0.get() += 1 });\n\
                      \x20  |                             ^^^^^^^^^^^^^^^ (2) just happened here\n\
                      \x20  = help: this indicates a bug in the program\n\
                      \n\
                      error: test failed, to rerun pass `--test t`\n";
        assert_eq!(
            miri("two_threads_race", 3, stderr),
            "test two_threads_race ... stopped by Miri (seed 3)\n\
             error: Undefined Behavior: Data race detected between (1) non-atomic write on thread `unnamed-3` and (2) non-atomic read on thread `unnamed-4` at alloc95093\n\
             \x20 --> tests/t.rs:10:29\n\
             \x20  |\n\
             10 |         s.spawn(|| unsafe { *r.0.get() += 1 });\n\
             \x20  |                             ^^^^^^^^^^^^^^^ (2) just happened here"
        );
    }
}
