//! The wrong-answer gallery: known-wrong solutions of the exercises, each a
//! crate in `wrong-answers/exercise-N/<mistake>/` that runs its exercise's
//! own tests and must FAIL them.
//!
//! This crate finds those crates, checks what their manifests declare in
//! `[package.metadata.wrong-answer]`, runs their tests the way each declares
//! (natively, or under Miri over a range of seeds), and proves each one is
//! rejected: its tests compiled, ran and failed, and a test the metadata
//! names was among the failures. Each proof comes with the real failure,
//! trimmed and made stable for a book page.
//!
//! Two programs use it: `cargo workbook test` (the gallery step, "K of K wrong
//! solutions rejected") and the book's runner (`{{#wrong-answer PACKAGE}}`).
//! Both keep proofs in one cache under the target directory, keyed by a hash
//! of every input, so whichever runs second finds the other's result.

mod gallery;
mod libtest;
mod prove;
mod report;

pub use gallery::{
    GALLERY_DIR, MEMBER_GLOB, RejectedBy, WrongAnswer, by_package, coverage, discover,
    miri_toolchain, test_paths,
};
pub use libtest::{Failure, TestOutcome, parse_libtest};
pub use prove::{Rejection, cached_rejections, miri_ready, prove_rejected};
pub use report::normalise;
