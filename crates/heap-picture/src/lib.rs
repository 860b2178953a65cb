//! Pictures of a heap, as plain SVG text: how many bytes are live after
//! each allocation call, and a block map of which addresses were in use
//! when. Also a small grouped bar chart for tables of numbers.
//!
//! Every picture is one `<svg>` element with `role="img"` and a `<title>`,
//! a fixed width (it scales down with `max-width: 100%`), no external
//! resources and no blank lines inside (so Markdown passes it through as one
//! HTML block). Text and axes use `currentColor`: inline in a page they take
//! the page's text colour. All text is escaped.

mod axis;
mod bar;
mod svg;
pub mod text;

pub use bar::{BarGroup, bar_chart};
pub use text::{escape, human_bytes};
