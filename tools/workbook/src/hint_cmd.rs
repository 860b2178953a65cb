//! `cargo workbook hint N`: the hint for one exercise.

use crate::{exercises, project};

pub fn run(args: &[String]) -> Result<(), String> {
    let root = project::root()?;
    let all = exercises::load(&root)?;
    let exercise = exercises::pick(&all, "hint", args)?;
    println!(
        "Exercise {}: {} (chapter \"{}\")\n\n{}",
        exercise.number,
        exercise.title,
        exercise.chapter,
        exercise.hints.last().map_or("", |h| h.trim())
    );
    Ok(())
}
