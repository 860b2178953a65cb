//! Reading what libtest printed: which tests passed, which failed and why.

/// What one run of a test binary (or several) reported.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    pub passed: Vec<String>,
    pub failed: Vec<Failure>,
    /// A test that started and never reported (the process was stopped
    /// inside it, as Miri stops a program at undefined behaviour).
    pub unfinished: Option<String>,
}

/// A failed test and its panic.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Failure {
    pub name: String,
    /// The `thread 'NAME' panicked at FILE:LINE:COL:` line, when printed.
    pub panicked_at: String,
    /// The panic message: the lines after `panicked at`, up to the note or
    /// the blank line that ends it.
    pub message: String,
}

/// Reads `test NAME ... ok|FAILED` lines and each failure's panic from
/// libtest's (non-quiet) output.
pub fn parse_libtest(output: &str) -> TestOutcome {
    let mut outcome = TestOutcome::default();
    for line in output.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        if let Some(name) = rest.strip_suffix(" ... ok") {
            outcome.passed.push(name.to_owned());
        } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
            let (panicked_at, message) = panic_of(output, name);
            outcome.failed.push(Failure {
                name: name.to_owned(),
                panicked_at,
                message,
            });
        } else if let Some(name) = rest.trim_end().strip_suffix(" ...") {
            outcome.unfinished = Some(name.to_owned());
        }
    }
    outcome
}

/// The `panicked at` line and the message printed in the
/// `---- NAME stdout ----` section.
fn panic_of(output: &str, name: &str) -> (String, String) {
    let header = format!("---- {name} stdout ----");
    let Some(start) = output.find(&header) else {
        return (String::new(), String::new());
    };
    let section = &output[start + header.len()..];
    if !section.lines().any(|l| l.contains("panicked at")) {
        // No panic printed (the test returned an error, say): what the
        // test printed is the message.
        let printed = section
            .lines()
            .skip_while(|l| l.is_empty())
            .take_while(|l| !l.starts_with("---- ") && !l.starts_with("failures:"))
            .collect::<Vec<_>>()
            .join("\n");
        return (String::new(), printed.trim_end().to_owned());
    }
    let mut lines = section.lines().skip_while(|l| !l.contains("panicked at"));
    let panicked_at = lines.next().unwrap_or_default().to_owned();
    let message = lines
        .take_while(|l| {
            !l.is_empty()
                && !l.starts_with("note:")
                && !l.starts_with("stack backtrace")
                && !l.starts_with("---- ")
        })
        .collect::<Vec<_>>()
        .join("\n");
    (panicked_at, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
running 4 tests
test grows ... ok
test shrinks ... FAILED
test aligned ... ok
test skipped ... ignored, needs FFI

failures:

---- shrinks stdout ----
threads overlapped in 7 of 8 rounds

thread 'shrinks' (7) panicked at tests/realloc.rs:9:5:
assertion `left == right` failed: not solved yet: do it
  left: 1
 right: 2
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

failures:
    shrinks
";

    #[test]
    fn libtest_output_is_read_test_by_test() {
        let outcome = parse_libtest(OUTPUT);
        assert_eq!(outcome.passed, ["grows", "aligned"]);
        assert_eq!(outcome.unfinished, None);
        assert_eq!(
            outcome.failed,
            [Failure {
                name: "shrinks".into(),
                panicked_at: "thread 'shrinks' (7) panicked at tests/realloc.rs:9:5:".into(),
                message:
                    "assertion `left == right` failed: not solved yet: do it\n  left: 1\n right: 2"
                        .into(),
            }]
        );
    }

    #[test]
    fn a_failure_without_a_panic_shows_what_the_test_printed() {
        let outcome = parse_libtest(
            "test a ... FAILED\n\nfailures:\n\n---- a stdout ----\nError: \"lost\"\n\nfailures:\n    a\n",
        );
        assert_eq!(outcome.failed[0].message, "Error: \"lost\"");
    }

    #[test]
    fn a_test_stopped_midway_is_unfinished() {
        let outcome =
            parse_libtest("running 2 tests\ntest fine ... ok\ntest two_threads_race ... ");
        assert_eq!(outcome.passed, ["fine"]);
        assert!(outcome.failed.is_empty());
        assert_eq!(outcome.unfinished.as_deref(), Some("two_threads_race"));
    }
}
