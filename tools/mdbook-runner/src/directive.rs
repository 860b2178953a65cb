//! Finding and parsing the runner's directives in a chapter's Markdown.
//!
//! ```text
//! {{#run PACKAGE [--bin NAME] [--expect-exit CODE] [--release] [--markdown] [-- ARGS...]}}
//!                                                  alone on its line
//! {{#pitfall CASE}}                                alone on its line
//! {{#wrong-answer PACKAGE}}                        alone on its line
//! {{#widget NAME}}                                 alone on its line
//! {{#toolchain}}                                   anywhere (inline)
//! ```
//!
//! `--release` builds and runs the program with the release profile (for
//! timings). `--markdown` inserts its output as Markdown (tables, HTML)
//! instead of in a ```` ```text ```` block.
//!
//! `{{#wrong-answer PACKAGE}}` runs a wrong answer of the gallery
//! (`wrong-answers/exercise-N/<mistake>/`, package `wrong-N-<mistake>`) the
//! way its metadata declares and shows the failure its exercise's tests
//! produce; the build fails if they pass.
//!
//! `{{#widget NAME}}` embeds the playground widget NAME (one of the keys of
//! `WIDGETS` in playground/www/widgets.js) with the loader path that fits
//! the chapter's depth; an unknown name fails the build.
//!
//! Directives in inline code spans and escaped ones (`\{{#run ...}}`) are
//! left alone so a chapter can show the syntax. Inside a fenced code block an
//! unescaped directive is an error: it would silently stay literal text.

use std::ops::Range;

/// The directive names this preprocessor owns; `{{#include}}` and the other
/// mdBook built-ins are left to mdBook.
pub const NAMES: [&str; 5] = ["run", "pitfall", "toolchain", "widget", "wrong-answer"];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Directive {
    Run(RunSpec),
    Pitfall { case: String },
    Toolchain,
    Widget { name: String },
    WrongAnswer { package: String },
}

/// What `{{#run}}` asks for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunSpec {
    pub package: String,
    pub bin: Option<String>,
    /// The exit status the program must end with (0 when not given).
    pub expect_exit: Option<i32>,
    /// Build and run with `--release`.
    pub release: bool,
    /// The output is Markdown to insert as it is, not text to fence.
    pub markdown: bool,
    pub args: Vec<String>,
}

impl Directive {
    /// The directive written back in its canonical form (for messages and
    /// cache keys).
    pub fn canonical(&self) -> String {
        match self {
            Directive::Run(spec) => {
                let mut s = format!("{{{{#run {}", spec.package);
                if let Some(bin) = &spec.bin {
                    s.push_str(&format!(" --bin {bin}"));
                }
                if let Some(code) = spec.expect_exit {
                    s.push_str(&format!(" --expect-exit {code}"));
                }
                if spec.release {
                    s.push_str(" --release");
                }
                if spec.markdown {
                    s.push_str(" --markdown");
                }
                if !spec.args.is_empty() {
                    s.push_str(" --");
                    for arg in &spec.args {
                        s.push(' ');
                        s.push_str(arg);
                    }
                }
                s.push_str("}}");
                s
            }
            Directive::Pitfall { case } => format!("{{{{#pitfall {case}}}}}"),
            Directive::Toolchain => "{{#toolchain}}".to_owned(),
            Directive::Widget { name } => format!("{{{{#widget {name}}}}}"),
            Directive::WrongAnswer { package } => format!("{{{{#wrong-answer {package}}}}}"),
        }
    }

    /// Block directives become a block (a code block, or Markdown), so they
    /// must stand alone on their line.
    fn is_block(&self) -> bool {
        !matches!(self, Directive::Toolchain)
    }
}

/// A directive found in a chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// 1-based line number in the chapter.
    pub line: usize,
    /// Byte range in the chapter text that the result replaces.
    pub span: Range<usize>,
    /// The whitespace before a block directive (in a list item, say): every
    /// line of its result is indented the same way.
    pub indent: String,
    pub directive: Directive,
}

/// A malformed directive: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Every directive of ours in `text`, in order, and every malformed one.
pub fn scan(text: &str) -> (Vec<Found>, Vec<ParseError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut fence: Option<Fence> = None;
    let mut offset = 0;
    for (index, line_with_end) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let line = line_with_end.trim_end_matches(['\n', '\r']);
        let line_start = offset;
        offset += line_with_end.len();

        if let Some(open) = &fence {
            if open.is_closed_by(line) {
                fence = None;
            } else {
                // mdBook expands `{{#include}}` inside fences, so a reader
                // expects ours to work there too; say why they do not.
                for (start, end) in directive_spans(line) {
                    errors.push(ParseError {
                        line: line_no,
                        message: format!(
                            "`{}` is inside a fenced code block, where it would stay literal text: \
                             put it on its own line outside the fence (its output becomes a block \
                             of its own), or write `\\{}` to show the syntax",
                            &line[start..end],
                            &line[start..end]
                        ),
                    });
                }
            }
            continue;
        }
        if let Some(open) = Fence::opened_by(line) {
            fence = Some(open);
            continue;
        }
        for (start, end) in directive_spans(line) {
            let raw = &line[start..end];
            match parse(raw) {
                Ok(directive) => {
                    if directive.is_block() && line.trim() != raw {
                        errors.push(ParseError {
                            line: line_no,
                            message: format!(
                                "`{raw}` must stand alone on its line (its output becomes a block)"
                            ),
                        });
                        continue;
                    }
                    let indent = if directive.is_block() {
                        line[..start].to_owned()
                    } else {
                        String::new()
                    };
                    found.push(Found {
                        line: line_no,
                        span: line_start + start..line_start + end,
                        indent,
                        directive,
                    });
                }
                Err(message) => errors.push(ParseError {
                    line: line_no,
                    message,
                }),
            }
        }
    }
    (found, errors)
}

/// Byte ranges of `{{#name ...}}` (ours only) in one line, skipping escaped
/// ones and inline code spans. An unterminated directive spans to the end of
/// the line, so `parse` reports it.
fn directive_spans(line: &str) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            i = skip_code_span(bytes, i);
            continue;
        }
        // Byte comparisons: `i` may sit inside a multi-byte character.
        if bytes[i..].starts_with(b"{{#") && !(i > 0 && bytes[i - 1] == b'\\') {
            let name: String = line[i + 3..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            if NAMES.contains(&name.as_str()) {
                let end = line[i..].find("}}").map_or(line.len(), |e| i + e + 2);
                spans.push((i, end));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    spans
}

/// Given a run of backticks at `start`, the index after the code span it
/// opens, or after the run itself when nothing closes it on this line.
fn skip_code_span(bytes: &[u8], start: usize) -> usize {
    let run = bytes[start..].iter().take_while(|&&b| b == b'`').count();
    let mut i = start + run;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let close = bytes[i..].iter().take_while(|&&b| b == b'`').count();
            if close == run {
                return i + close;
            }
            i += close;
        } else {
            i += 1;
        }
    }
    start + run
}

/// Parses one directive, `{{#name args}}`.
pub fn parse(raw: &str) -> Result<Directive, String> {
    let Some(inner) = raw
        .strip_prefix("{{#")
        .and_then(|rest| rest.strip_suffix("}}"))
    else {
        return Err(format!(
            "unterminated directive `{raw}`: it must end with `}}}}` on the same line"
        ));
    };
    let mut words = inner.split_whitespace();
    let name = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    match name {
        "run" => parse_run(&rest)
            .map(Directive::Run)
            .map_err(|e| format!("malformed `{raw}`: {e}")),
        "pitfall" => match rest.as_slice() {
            [case] => Ok(Directive::Pitfall {
                case: (*case).to_owned(),
            }),
            [] => Err(format!(
                "malformed `{raw}`: name the case, e.g. `{{{{#pitfall CASE}}}}`"
            )),
            _ => Err(format!(
                "malformed `{raw}`: `{{{{#pitfall}}}}` takes exactly one case name"
            )),
        },
        "wrong-answer" => match rest.as_slice() {
            [package] => Ok(Directive::WrongAnswer {
                package: (*package).to_owned(),
            }),
            [] => Err(format!(
                "malformed `{raw}`: name the wrong answer's package, e.g. \
                 `{{{{#wrong-answer wrong-3-load-then-store}}}}`"
            )),
            _ => Err(format!(
                "malformed `{raw}`: `{{{{#wrong-answer}}}}` takes exactly one package name"
            )),
        },
        "widget" => match rest.as_slice() {
            [name] => Ok(Directive::Widget {
                name: (*name).to_owned(),
            }),
            [] => Err(format!(
                "malformed `{raw}`: name the widget, e.g. `{{{{#widget gauges}}}}`"
            )),
            _ => Err(format!(
                "malformed `{raw}`: `{{{{#widget}}}}` takes exactly one widget name"
            )),
        },
        "toolchain" if rest.is_empty() => Ok(Directive::Toolchain),
        "toolchain" => Err(format!(
            "malformed `{raw}`: `{{{{#toolchain}}}}` takes no arguments"
        )),
        other => Err(format!(
            "unknown directive `{{{{#{other}}}}}`; this preprocessor knows {}",
            NAMES.join(", ")
        )),
    }
}

fn parse_run(words: &[&str]) -> Result<RunSpec, String> {
    const USAGE: &str = "expected `{{#run PACKAGE [--bin NAME] [--expect-exit CODE] [--release] [--markdown] [-- ARGS]}}`";
    let mut iter = words.iter();
    let package = match iter.next() {
        Some(p) if !p.starts_with('-') => (*p).to_owned(),
        Some(p) => {
            return Err(format!(
                "the package name comes first, found `{p}`; {USAGE}"
            ));
        }
        None => return Err(format!("no package named; {USAGE}")),
    };
    let mut spec = RunSpec {
        package,
        bin: None,
        expect_exit: None,
        release: false,
        markdown: false,
        args: Vec::new(),
    };
    while let Some(word) = iter.next() {
        match *word {
            "--bin" => {
                let name = option_value(&mut iter, "--bin")?;
                if spec.bin.replace(name.to_owned()).is_some() {
                    return Err("`--bin` given twice".into());
                }
            }
            "--expect-exit" => {
                let value = option_value(&mut iter, "--expect-exit")?;
                let code = value.parse::<i32>().map_err(|_| {
                    format!("`--expect-exit` needs an integer exit status, got `{value}`")
                })?;
                if spec.expect_exit.replace(code).is_some() {
                    return Err("`--expect-exit` given twice".into());
                }
            }
            flag @ ("--release" | "--markdown") => {
                let set = if flag == "--release" {
                    &mut spec.release
                } else {
                    &mut spec.markdown
                };
                if std::mem::replace(set, true) {
                    return Err(format!("`{flag}` given twice"));
                }
            }
            "--" => {
                spec.args = iter.map(|a| (*a).to_owned()).collect();
                break;
            }
            other => {
                return Err(format!(
                    "unexpected `{other}`; program arguments go after `--`; {USAGE}"
                ));
            }
        }
    }
    Ok(spec)
}

fn option_value<'a>(
    iter: &mut std::slice::Iter<'_, &'a str>,
    option: &str,
) -> Result<&'a str, String> {
    match iter.next() {
        Some(v) if !v.starts_with('-') => Ok(v),
        _ => Err(format!("`{option}` needs a value")),
    }
}

/// An open fenced code block: its character and length.
pub struct Fence {
    marker: u8,
    len: usize,
}

impl Fence {
    /// The fence a line opens, with its info string (e.g. `text`).
    pub fn open(line: &str) -> Option<(Fence, &str)> {
        let trimmed = line.trim_start();
        let marker = *trimmed.as_bytes().first()?;
        if marker != b'`' && marker != b'~' {
            return None;
        }
        let len = trimmed.bytes().take_while(|&b| b == marker).count();
        let info = &trimmed[len..];
        if len < 3 || (marker == b'`' && info.contains('`')) {
            return None;
        }
        Some((Fence { marker, len }, info.trim()))
    }

    fn opened_by(line: &str) -> Option<Fence> {
        Fence::open(line).map(|(fence, _)| fence)
    }

    pub fn is_closed_by(&self, line: &str) -> bool {
        let trimmed = line.trim();
        let len = trimmed.bytes().take_while(|&b| b == self.marker).count();
        len >= self.len && len == trimmed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(package: &str) -> RunSpec {
        RunSpec {
            package: package.into(),
            bin: None,
            expect_exit: None,
            release: false,
            markdown: false,
            args: Vec::new(),
        }
    }

    #[test]
    fn parses_every_form_of_run() {
        assert_eq!(parse("{{#run layout}}"), Ok(Directive::Run(run("layout"))));
        assert_eq!(
            parse("{{#run  counting --bin report --expect-exit 3 -- --size 8 x}}"),
            Ok(Directive::Run(RunSpec {
                bin: Some("report".into()),
                expect_exit: Some(3),
                args: vec!["--size".into(), "8".into(), "x".into()],
                ..run("counting")
            }))
        );
        assert_eq!(
            parse("{{#run bench --markdown --release -- --quick}}"),
            Ok(Directive::Run(RunSpec {
                release: true,
                markdown: true,
                args: vec!["--quick".into()],
                ..run("bench")
            }))
        );
        assert_eq!(
            parse("{{#run a -- --markdown}}"),
            Ok(Directive::Run(RunSpec {
                args: vec!["--markdown".into()],
                ..run("a")
            })),
            "after `--`, `--markdown` belongs to the program"
        );
        assert_eq!(
            parse("{{#run a -- --bin b}}"),
            Ok(Directive::Run(RunSpec {
                args: vec!["--bin".into(), "b".into()],
                ..run("a")
            }))
        );
    }

    #[test]
    fn parses_pitfall_and_toolchain() {
        assert_eq!(
            parse("{{#pitfall missing-unsafe}}"),
            Ok(Directive::Pitfall {
                case: "missing-unsafe".into()
            })
        );
        assert_eq!(parse("{{#toolchain}}"), Ok(Directive::Toolchain));
    }

    #[test]
    fn rejects_malformed_directives_with_a_reason() {
        let cases = [
            ("{{#run}}", "no package named"),
            ("{{#run --bin x}}", "the package name comes first"),
            ("{{#run a --bin}}", "`--bin` needs a value"),
            ("{{#run a --expect-exit}}", "`--expect-exit` needs a value"),
            (
                "{{#run a --expect-exit one}}",
                "needs an integer exit status, got `one`",
            ),
            ("{{#run a --bin x --bin y}}", "`--bin` given twice"),
            (
                "{{#run a --markdown --markdown}}",
                "`--markdown` given twice",
            ),
            ("{{#run a --release --release}}", "`--release` given twice"),
            ("{{#run a --markdwon}}", "unexpected `--markdwon`"),
            ("{{#run a extra}}", "unexpected `extra`"),
            ("{{#pitfall}}", "name the case"),
            ("{{#pitfall a b}}", "exactly one case name"),
            ("{{#toolchain now}}", "takes no arguments"),
            ("{{#wrong-answer}}", "name the wrong answer's package"),
            ("{{#wrong-answer a b}}", "exactly one package name"),
            ("{{#run a", "unterminated directive"),
        ];
        for (raw, expected) in cases {
            let err = parse(raw).expect_err(raw);
            assert!(
                err.contains(expected),
                "{raw}: got {err:?}, wanted {expected:?}"
            );
        }
    }

    #[test]
    fn scan_finds_directives_with_lines_and_spans() {
        let text = "# Title\n\n{{#run layout}}\n\nBuilt with {{#toolchain}}.\n";
        let (found, errors) = scan(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].line, 3);
        assert_eq!(&text[found[0].span.clone()], "{{#run layout}}");
        assert_eq!(found[1].line, 5);
        assert_eq!(&text[found[1].span.clone()], "{{#toolchain}}");
        assert_eq!(found[1].directive, Directive::Toolchain);
    }

    #[test]
    fn an_indented_block_directive_keeps_its_indent() {
        let text = "1. Run it:\n\n   {{#run layout}}\n";
        let (found, errors) = scan(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(&text[found[0].span.clone()], "{{#run layout}}");
        assert_eq!(found[0].indent, "   ");
    }

    #[test]
    fn scan_leaves_inline_code_and_escapes_alone() {
        let text = "```md\n\\{{#run inside}}\n```\n\
                    ~~~~\n\\{{#pitfall inside}}\n~~~\nstill \\{{#run inside}}\n~~~~\n\
                    Write `{{#run name}}` or ``{{#toolchain}}``.\n\
                    \\{{#run escaped}}\n\
                    {{#include ../listings/x/src/lib.rs:anchor}}\n\
                    {{#running is not ours}}\n\
                    {{#run outside}}\n";
        let (found, errors) = scan(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].directive, Directive::Run(run("outside")));
        assert_eq!(found[0].line, 13);
    }

    #[test]
    fn a_directive_inside_a_fence_is_an_error_naming_the_way_out() {
        let text = "```rust\nfn main() {}\n{{#run layout}}\n```\n~~~\nx {{#widget gauges}}\n~~~\n";
        let (found, errors) = scan(text);
        assert!(found.is_empty(), "{found:?}");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 6]);
        assert!(
            errors[0].message.contains("inside a fenced code block")
                && errors[0].message.contains("outside the fence"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn parses_widget() {
        assert_eq!(
            parse("{{#widget gauges}}"),
            Ok(Directive::Widget {
                name: "gauges".to_owned()
            })
        );
        for (raw, wanted) in [
            ("{{#widget}}", "name the widget"),
            ("{{#widget a b}}", "exactly one widget name"),
        ] {
            let error = parse(raw).unwrap_err();
            assert!(error.contains(wanted), "{raw}: {error}");
        }
    }

    #[test]
    fn scan_reports_malformed_and_misplaced_directives_by_line() {
        let text = "ok\n{{#run}}\nsee {{#run layout}} here\n{{#run a --expect-exit x}}\n{{#run b\n";
        let (found, errors) = scan(text);
        assert!(found.is_empty(), "{found:?}");
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5], "{errors:?}");
        assert!(errors[1].message.contains("must stand alone on its line"));
        assert!(errors[3].message.contains("unterminated"));
    }

    #[test]
    fn a_wrong_answer_stands_alone_on_its_line() {
        let text = "{{#wrong-answer wrong-3-load-then-store}}\nsee {{#wrong-answer wrong-3-x}}\n";
        let (found, errors) = scan(text);
        assert_eq!(
            found[0].directive,
            Directive::WrongAnswer {
                package: "wrong-3-load-then-store".into()
            }
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 2);
        assert!(errors[0].message.contains("must stand alone on its line"));
    }

    #[test]
    fn text_around_directives_may_be_any_unicode() {
        let text = "— ünïcode — `é` {{#toolchain}} ✓\n{{#run a}}\n";
        let (found, errors) = scan(text);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(found.len(), 2);
        assert_eq!(&text[found[0].span.clone()], "{{#toolchain}}");
    }

    #[test]
    fn a_directive_after_an_unclosed_fence_is_reported_not_lost() {
        let (found, errors) = scan("````\n```\n{{#run a}}\n");
        assert!(found.is_empty());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].message.contains("inside a fenced code block"));
    }

    #[test]
    fn canonical_form_round_trips() {
        for raw in [
            "{{#run a}}",
            "{{#run a --bin b --expect-exit 2 -- x y}}",
            "{{#run a --release --markdown -- --quick}}",
            "{{#run a --markdown}}",
            "{{#pitfall c}}",
            "{{#toolchain}}",
            "{{#wrong-answer wrong-3-load-then-store}}",
        ] {
            let directive = parse(raw).unwrap();
            assert_eq!(directive.canonical(), raw);
            assert_eq!(parse(&directive.canonical()), Ok(directive));
        }
        // The canonical form is part of the cache key: the same program run
        // with and without a flag never shares a result.
        let plain = parse("{{#run a -- x}}").unwrap().canonical();
        for flagged in ["{{#run a --markdown -- x}}", "{{#run a --release -- x}}"] {
            assert_ne!(parse(flagged).unwrap().canonical(), plain, "{flagged}");
        }
        // Flags in any order mean the same directive.
        assert_eq!(
            parse("{{#run a --markdown --release}}"),
            parse("{{#run a --release --markdown}}")
        );
    }
}
