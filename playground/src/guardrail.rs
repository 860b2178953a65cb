//! Widget 3, the budget guardrail: lower the global allocator's limit, run
//! a workload, and see the flag trip or the allocation refused.

use budget::Policy;
use wasm_bindgen::prelude::*;

use crate::input::{InputError, bounded, whole_number};

/// The largest block and the most blocks one run may ask for.
pub const MAX_BLOCK_SIZE: usize = 1 << 20;
pub const MAX_BLOCKS: usize = 64;

/// What happened during one guarded run.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug)]
pub struct BudgetRun {
    /// `true`: over-budget requests were refused; `false`: only flagged.
    pub refusing: bool,
    /// Bytes the run could allocate above the live bytes it started with.
    pub budget: usize,
    pub block_size: usize,
    pub blocks_requested: usize,
    pub blocks_granted: usize,
    /// The block (counting from 1) whose allocation tripped the flag.
    pub flagged_at: Option<usize>,
    /// The block whose allocation was refused; the run stopped there.
    pub refused_at: Option<usize>,
    /// Requests the allocator refused during the run.
    pub refusals: usize,
}

/// Allocates `blocks` blocks of `block_size` bytes with the limit set to the
/// current live bytes plus `budget`, keeping every block until the end.
///
/// Each block is requested with `try_reserve_exact`, so a refusal is an
/// `Err` the run recovers from, not an abort. The limit and policy are put
/// back before the function returns.
#[wasm_bindgen]
pub fn run_budget(
    budget: &str,
    block_size: &str,
    blocks: &str,
    refusing: bool,
) -> Result<BudgetRun, InputError> {
    let budget = whole_number("budget", budget)?;
    let block_size = bounded(
        "block size",
        block_size,
        1,
        MAX_BLOCK_SIZE,
        "at most 1 MiB per block",
    )?;
    let blocks_requested = bounded(
        "block count",
        blocks,
        1,
        MAX_BLOCKS,
        "at most 64 blocks per run",
    )?;

    // Room for every block is reserved BEFORE the limit drops, so keeping a
    // block never allocates while the guardrail is armed.
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(blocks_requested);
    let mut run = BudgetRun {
        refusing,
        budget,
        block_size,
        blocks_requested,
        blocks_granted: 0,
        flagged_at: None,
        refused_at: None,
        refusals: 0,
    };
    let global = crate::budget();
    let refusals_before = global.refusals();
    global.clear_flag();
    global.set_policy(if refusing {
        Policy::Refuse
    } else {
        Policy::FlagOnly
    });
    global.set_limit(global.live_bytes().saturating_add(budget));

    for number in 1..=blocks_requested {
        let mut block = Vec::new();
        if block.try_reserve_exact(block_size).is_err() {
            run.refused_at = Some(number);
            break;
        }
        kept.push(block);
        run.blocks_granted = number;
        if run.flagged_at.is_none() && global.over_budget() {
            run.flagged_at = Some(number);
        }
    }

    global.set_limit(usize::MAX);
    global.set_policy(Policy::FlagOnly);
    global.clear_flag();
    run.refusals = global.refusals().saturating_sub(refusals_before);
    drop(kept);
    Ok(run)
}
