//! The book's allocators, live in the browser.
//!
//! Compiled to WebAssembly, this crate installs the budget-over-peak shim
//! from the budget chapter as its global allocator, so every byte the page's
//! Rust code allocates passes through the code the book explains. Four
//! widgets drive it from JavaScript (`www/`):
//!
//! - heap gauges ([`gauges`]): live and peak bytes and allocator calls;
//! - the bump arena map ([`arena::ArenaMap`]): blocks, padding and fallbacks;
//! - the budget guardrail ([`guardrail::run_budget`]): flag or refuse;
//! - the layout explorer ([`explorer::explore_layout`]), which names the
//!   rule of [`layout_rules`] a size and alignment break.
//!
//! Every exported function takes the page's text as it was typed and
//! validates it here: bad input becomes a JavaScript `Error` with a message
//! naming the rule, never a trap.

pub mod arena;
pub mod explorer;
pub mod gauges;
pub mod guardrail;
pub mod input;
pub mod layout_rules;

use budget::{BudgetAlloc, Policy};
use peak::PeakAlloc;

/// One allocator gives both the gauges (the inner [`PeakAlloc`]) and the
/// guardrail (the outer [`BudgetAlloc`]). The limit starts out of reach;
/// the guardrail widget lowers it only while its workload runs.
///
/// Only the wasm build installs it, so native tests keep the system
/// allocator (and the gauges read zero there).
#[cfg_attr(target_arch = "wasm32", global_allocator)]
pub static GLOBAL: BudgetAlloc<PeakAlloc> =
    BudgetAlloc::over(PeakAlloc::new(), usize::MAX, Policy::FlagOnly);
