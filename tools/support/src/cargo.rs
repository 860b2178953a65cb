//! The `cargo` to run, and commands shown the way a reader would type them.

use std::path::Path;
use std::process::Command;

/// The `cargo` that runs us (`$CARGO`), or the one on `PATH`: the toolchain
/// stays the same as the caller's.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A command as a reader would type it: the program's file name and the
/// arguments.
pub fn describe(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program())
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::iter::once(program)
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_is_shown_without_its_directory() {
        let mut cmd = Command::new("/usr/local/bin/cargo");
        cmd.args(["test", "-p", "exercise-3"]);
        assert_eq!(describe(&cmd), "cargo test -p exercise-3");
    }
}
