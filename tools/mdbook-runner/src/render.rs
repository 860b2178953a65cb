//! What a program's output becomes in a chapter: a fenced `text` block, or
//! Markdown as it is; and the short form of a long error output.

use crate::directive::Directive;

/// What a directive's output becomes in the chapter: Markdown as it is for
/// `{{#run ... --markdown}}`, a `text` block otherwise.
pub fn rendered(directive: &Directive, output: &str) -> String {
    match directive {
        Directive::Run(spec) if spec.markdown => markdown(output),
        _ => code_block(output),
    }
}

/// Program output that is Markdown (tables, inline HTML), inserted as it is
/// apart from the escaping of [`escape_directive`].
pub fn markdown(output: &str) -> String {
    output
        .trim_end_matches('\n')
        .lines()
        .map(escape_directive)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line that mdBook's `links` step would read as a directive
/// (`{{#include ...}}`), escaped so it shows as written.
fn escape_directive(line: &str) -> String {
    match line.find("{{#") {
        Some(at) if line[at..].contains("}}") => format!("{}\\{}", &line[..at], &line[at..]),
        _ => line.to_owned(),
    }
}

/// Program output as a fenced `text` block. The fence is longer than any
/// backtick run in the output, and directive-like text is escaped
/// ([`escape_directive`]).
pub fn code_block(output: &str) -> String {
    let longest_run = output
        .lines()
        .map(|l| l.trim_start().bytes().take_while(|&b| b == b'`').count())
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    let mut block = format!("{fence}text\n");
    for line in output.trim_end_matches('\n').lines() {
        block.push_str(&escape_directive(line));
        block.push('\n');
    }
    block.push_str(&fence);
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_becomes_a_text_block() {
        assert_eq!(code_block("a\nb\n"), "```text\na\nb\n```");
        assert_eq!(code_block(""), "```text\n```");
    }

    #[test]
    fn the_fence_outgrows_backticks_in_the_output() {
        assert_eq!(code_block("````\nx\n"), "`````text\n````\nx\n`````");
    }

    #[test]
    fn directive_text_in_output_is_escaped_for_mdbook() {
        assert_eq!(
            code_block("see {{#include a.rs}} and {{# b}}\n{{#open"),
            "```text\nsee \\{{#include a.rs}} and {{# b}}\n{{#open\n```"
        );
    }

    #[test]
    fn markdown_output_is_inserted_as_it_is() {
        let report = "### Report\n\n| a | b |\n|---|---:|\n| x | 1 |\n\n<figure>\n<svg></svg>\n</figure>\n\n";
        assert_eq!(markdown(report), report.trim_end());
        assert_eq!(
            markdown("see {{#include a.rs}}\n"),
            "see \\{{#include a.rs}}"
        );
        let run = |flag: &str| crate::directive::parse(&format!("{{{{#run a{flag}}}}}")).unwrap();
        assert_eq!(rendered(&run(" --markdown"), "| x |\n"), "| x |");
        assert_eq!(rendered(&run(""), "| x |\n"), "```text\n| x |\n```");
    }
}
