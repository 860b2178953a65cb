//! `cargo workbook compare N`: the learner's code beside the reference
//! solution, as a unified diff, and whether the learner's passes.

use similar::TextDiff;

use crate::{exercises, project};

pub fn run(number: u32) -> Result<(), String> {
    let root = project::root()?;
    let all = exercises::load(&root)?;
    let exercise = exercises::by_number(&all, number)?;
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(root.join(path))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let yours = without_boilerplate(&read(&exercise.lib())?);
    let reference = without_boilerplate(&read(&exercise.solution_lib())?);

    let yours_name = format!("{} (yours)", exercise.lib().display());
    let reference_name = format!("{} (reference)", exercise.solution_lib().display());
    if yours == reference {
        println!(
            "Your {} is identical to the reference solution.",
            exercise.lib().display()
        );
    } else {
        print!(
            "{}",
            TextDiff::from_lines(&yours, &reference)
                .unified_diff()
                .context_radius(3)
                .header(&yours_name, &reference_name)
        );
        println!(
            "(Left out on both sides: the module's doc comment, the stub's not-solved message, \
             `allow` attributes and the book's anchor lines.)"
        );
    }

    let run = exercises::run_tests(&root, &exercise.package())?;
    if run.success {
        println!("\nYour code passes all its tests.");
    } else if !run.compiled {
        println!(
            "\nYour code does not compile yet: `cargo workbook check {}` shows why.",
            exercise.number
        );
    } else {
        println!(
            "\nYour code does not pass its tests yet ({} failing): `cargo workbook check {}`.",
            run.failed.len(),
            exercise.number
        );
    }
    Ok(())
}

/// The code a learner writes and the reference solution have the same
/// shape; what differs for reasons that are not the solution is left out:
/// the book's `// ANCHOR:` lines, the module's leading `//!` doc (the stub's
/// says "write X", the solution's explains it), the stub's `NOT_SOLVED`
/// message, `allow` attributes (with the comment that explains each), and
/// the blank lines these leave behind.
fn without_boilerplate(source: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut in_header = true;
    let mut in_marker = false;
    for line in source.lines() {
        let trimmed = line.trim_start();
        if in_header && (trimmed.starts_with("//!") || trimmed.is_empty()) {
            continue;
        }
        in_header = false;
        if in_marker || trimmed.starts_with("const NOT_SOLVED") {
            in_marker = !trimmed.trim_end().ends_with(';');
            continue;
        }
        if trimmed.starts_with("// ANCHOR:") || trimmed.starts_with("// ANCHOR_END:") {
            continue;
        }
        if trimmed.starts_with("#[allow(") || trimmed.starts_with("#![allow(") {
            // The comment just above an `allow` says why it is there.
            while kept
                .last()
                .is_some_and(|l| l.trim_start().starts_with("// "))
            {
                kept.pop();
            }
            continue;
        }
        if trimmed.is_empty() && kept.last().is_none_or(|l| l.trim().is_empty()) {
            continue;
        }
        kept.push(line);
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    kept.iter().map(|line| format!("{line}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::without_boilerplate;

    #[test]
    fn anchors_docs_marker_and_allows_are_left_out() {
        let stub = "//! Exercise 3: write it.\n//!\n\nuse std::x;\n\nconst NOT_SOLVED: &str = \"not solved yet: \\\n     more\";\n\n\
                    pub struct S {\n    // Read once you implement it.\n    #[allow(dead_code)]\n    f: u8,\n}\n    // ANCHOR: x\nfn a() {}\n// ANCHOR_END: x\n";
        assert_eq!(
            without_boilerplate(stub),
            "use std::x;\n\npub struct S {\n    f: u8,\n}\nfn a() {}\n"
        );
        let solution =
            "//! How the arena works.\n\nuse std::x;\n\npub struct S {\n    f: u8,\n}\nfn a() {}\n";
        assert_eq!(without_boilerplate(stub), without_boilerplate(solution));
    }
}
