//! The book's allocators, live in the browser.
//!
//! Compiled to WebAssembly, this crate installs the budget-over-peak shim
//! from the budget chapter, wrapped in the heap-trace recorder, as its
//! global allocator, so every byte the page's Rust code allocates passes
//! through the code the book explains. Its widgets drive it from JavaScript
//! (`www/`):
//!
//! - heap gauges ([`gauges`]): live and peak bytes and allocator calls;
//! - the bump arena map ([`arena::ArenaMap`]): blocks, padding and fallbacks;
//! - the budget guardrail ([`guardrail::run_budget`]): flag or refuse;
//! - the layout explorer ([`explorer::explore_layout`]), which names the
//!   rule of [`layout_rules`] a size and alignment break;
//! - the heap timeline ([`timeline::run_timeline`]): one of the book's
//!   scenarios recorded event by event and drawn;
//! - the free-list heap map ([`free_list_map::FreeListMap`]): the free-list
//!   chapter's allocator over a 4 KiB region, splitting and coalescing.
//!
//! Every exported function takes the page's text as it was typed and
//! validates it here: bad input becomes a JavaScript `Error` with a message
//! naming the rule, never a trap.

pub mod arena;
pub mod explorer;
pub mod free_list_map;
pub mod gauges;
pub mod guardrail;
pub mod input;
pub mod layout_rules;
pub mod timeline;

use std::alloc::{GlobalAlloc, Layout};

use budget::{BudgetAlloc, Policy};
use heap_trace::TraceAlloc;
use peak::PeakAlloc;

/// The most events one recorded run keeps; the rest are counted as
/// dropped. Enough for every scenario at its largest `n` (the box tree's
/// 20 000 nodes make 40 000 events); about 48 bytes each, zero until used.
pub const TRACE_CAPACITY: usize = 1 << 16;

/// One allocator serves every widget: the timeline records through the
/// outer [`TraceAlloc`] (only while a scenario runs); inside it, the
/// guardrail drives the [`BudgetAlloc`] ([`BUDGET`]) and the gauges read the
/// [`PeakAlloc`] at the core.
///
/// Only the wasm build installs it, so native tests keep the system
/// allocator (the gauges read zero there and recordings are empty).
#[cfg_attr(target_arch = "wasm32", global_allocator)]
pub static GLOBAL: TraceAlloc<Budgeted, TRACE_CAPACITY> = TraceAlloc::new(Budgeted);

/// The budget guardrail over the peak tracker. The limit starts out of
/// reach; the guardrail widget lowers it only while its workload runs.
///
/// It is a static of its own, reached through [`Budgeted`], rather than a
/// field of [`GLOBAL`]: the recorder's megabytes of event slots start as
/// zeros, which cost nothing in the `.wasm` file only while every byte of
/// their static is zero, and this limit (`usize::MAX`) is not.
pub static BUDGET: BudgetAlloc<PeakAlloc> =
    BudgetAlloc::over(PeakAlloc::new(), usize::MAX, Policy::FlagOnly);

/// A zero-sized handle that forwards every call to [`BUDGET`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Budgeted;

// SAFETY: every method passes its arguments unchanged to `BUDGET`, a
// `GlobalAlloc`, so each inherits that allocator's guarantees.
unsafe impl GlobalAlloc for Budgeted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { BUDGET.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { BUDGET.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this handle, so from `BUDGET`, with
        // `layout` (the caller's contract).
        unsafe { BUDGET.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` meets `realloc`'s rules.
        unsafe { BUDGET.realloc(ptr, layout, new_size) }
    }
}

/// The budget layer, which the guardrail drives.
pub fn budget() -> &'static BudgetAlloc<PeakAlloc> {
    &BUDGET
}

/// The peak tracker at the core, which the gauges read.
pub fn tracker() -> &'static PeakAlloc {
    BUDGET.inner()
}
