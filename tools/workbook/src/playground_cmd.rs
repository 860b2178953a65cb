//! `cargo workbook playground [--into DIR | --serve [--port N] | --check]`:
//! builds the WebAssembly playground into `playground/pkg`, then copies it,
//! serves it, or checks it in a browser.

use std::path::PathBuf;

use crate::playground::{build, build_into, check};
use crate::playground_web;
use crate::project;

/// What `cargo workbook playground` was asked to do after building.
#[derive(Debug, PartialEq, Eq)]
pub enum Then {
    Nothing,
    CopyInto(PathBuf),
    Serve { port: u16 },
    Check,
}

pub fn run(then: Then) -> Result<(), String> {
    let root = project::root()?;
    match then {
        Then::Nothing => build(&root).map(|_| ()),
        Then::Check => check(&root),
        Then::CopyInto(dir) => {
            let copied = build_into(&root, &dir)?;
            println!("copied {} files into {}", copied.len(), dir.display());
            Ok(())
        }
        Then::Serve { port } => {
            let pkg = build(&root)?;
            playground_web::serve_forever(&pkg, port)
        }
    }
}
