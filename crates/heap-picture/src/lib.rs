//! Pictures of a heap, as plain SVG text: how many bytes are live after
//! each call to the allocator ([`live_bytes_svg`]), and a block map of which
//! addresses were in use when ([`block_map_svg`]), both drawn from a
//! [`heap_trace::Trace`]. Also a small grouped bar chart for tables of
//! numbers ([`bar_chart`]).
//!
//! Every picture is one `<svg>` element with `role="img"` and a `<title>`,
//! a fixed width (it scales down with `max-width: 100%`), no external
//! resources and no blank lines inside (so Markdown passes it through as one
//! HTML block). Text and axes use `currentColor`: inline in a page they take
//! the page's text colour. All text is escaped.

mod axis;
mod bar;
pub mod blocks;
mod frame;
mod live;
mod map;
mod svg;
pub mod text;

pub use bar::{BarGroup, bar_chart};
pub use blocks::{Block, Summary, blocks, summary};
pub use frame::Options;
pub use live::live_bytes_svg;
pub use map::{GAP_CUT, block_map_svg};
pub use text::{escape, human_bytes};
