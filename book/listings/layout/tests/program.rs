//! The chapter runs the program one section at a time; every section must
//! exist, and a section that does not is refused by name.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layout"))
        .args(args)
        .output()
        .expect("run the layout program")
}

#[test]
#[cfg_attr(miri, ignore = "starts a process")]
fn every_section_the_chapter_runs_prints_its_part() {
    for (section, expected) in [
        ("types", "Layout::array::<u32>(10)   size=40  align=4"),
        ("record", "Layout::new::<Reading>()   size=24  align=8"),
        (
            "extend",
            "the compiler's offset_of! and size_of agree: true",
        ),
        ("rules", "Layout::array::<u64>("),
    ] {
        let output = run(&[section]);
        assert!(output.status.success(), "{section}: {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(expected), "{section} printed:\n{stdout}");
    }
    let all = run(&[]);
    assert!(all.status.success());
    assert_eq!(
        String::from_utf8_lossy(&all.stdout).matches("== ").count(),
        4
    );
}

#[test]
#[cfg_attr(miri, ignore = "starts a process")]
fn an_unknown_section_is_refused_by_name() {
    let output = run(&["padding"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("`padding`") && stderr.contains("types, record, extend, rules"),
        "{stderr}"
    );
}
