//! The bump program writes its arena's pages before each run, so its timed
//! runs do not pay the first-touch page faults that System, reusing freed
//! memory, does not pay either.

#![cfg(all(target_os = "linux", target_pointer_width = "64"))]

use std::process::Command;

use allocator_bench::faults::PAGE_SIZE;
use allocator_bench::workloads::Block;
use allocator_bench::{Cell, Mode, Workload};

#[test]
fn bump_timed_runs_start_on_pages_already_mapped() {
    let mode = Mode::Quick;
    let output = Command::new(env!("CARGO_BIN_EXE_bench-bump"))
        .args(["--workload", "batch", "--mode", mode.name()])
        .output()
        .expect("bench-bump starts");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cell: Cell = serde_json::from_slice(&output.stdout).expect("one JSON result");
    // Without the pre-faulting, each run faults once per fresh page it bumps
    // into.
    let blocks = Workload::Batch.ops(&mode.sizes());
    let fresh_pages = blocks * size_of::<Block>() as u64 / PAGE_SIZE as u64;
    assert!(fresh_pages >= 100, "the run must span many pages");
    assert_eq!(cell.minor_faults.len(), mode.sizes().reps);
    for faults in &cell.minor_faults {
        assert!(
            *faults < fresh_pages / 10,
            "a timed run took {faults} faults; {fresh_pages} without pre-faulting: {:?}",
            cell.minor_faults
        );
    }
    assert_eq!(cell.arena.map(|a| a.fallbacks), Some(0));
}
