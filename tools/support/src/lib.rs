//! What the workbook's tools (`cargo workbook`, the book's runner, the
//! wrong-answer prover) share, written once:
//!
//! - [`cargo`]: the `cargo` that runs us, and a command as a reader types it;
//! - [`workspace`]: `cargo metadata` read into types: the root, the target
//!   directory (so `CARGO_TARGET_DIR` and `build.target-dir` both count), the
//!   packages with their binaries and path dependencies;
//! - [`process`]: a process run with a time limit, stopped with everything
//!   it started when the limit passes;
//! - [`toolchain`]: what `rustc -vV` says;
//! - [`cache`]: a hash of labelled inputs and source trees, and a store of
//!   results under it;
//! - [`file_watch`]: noticing saved files (for `watch` and `serve`);
//! - [`http`]: serving a built site on 127.0.0.1, with live reload;
//! - [`html`]: text read back out of HTML.

pub mod cache;
pub mod cargo;
pub mod file_watch;
pub mod html;
pub mod http;
pub mod process;
pub mod toolchain;
pub mod workspace;
