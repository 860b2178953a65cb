//! Everyday Rust code whose heap we want to see: each scenario does real
//! work with a standard collection, sized by `n`. The book's program records
//! each one with the `heap-trace` recorder and draws it with `heap-picture`;
//! the playground runs the same scenarios in the page.
//!
//! The library allocates only through the global allocator and has no
//! dependencies, so it builds for `wasm32-unknown-unknown` too.

pub mod markdown;
pub mod scenarios;
