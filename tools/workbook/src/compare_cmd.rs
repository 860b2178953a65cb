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
    let yours = read(&exercise.lib())?;
    let reference = without_anchors(&read(&exercise.solution_lib())?);

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

/// The source without the book's `// ANCHOR:` marker lines.
fn without_anchors(source: &str) -> String {
    source
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !line.starts_with("// ANCHOR:") && !line.starts_with("// ANCHOR_END:")
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn anchor_lines_are_dropped() {
        let source = "a\n    // ANCHOR: x\nb\n// ANCHOR_END: x\nc\n";
        assert_eq!(super::without_anchors(source), "a\nb\nc\n");
    }
}
