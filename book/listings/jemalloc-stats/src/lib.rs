//! Chapter: jemalloc and its statistics through tikv-jemalloc-ctl.
//!
//! These helpers read jemalloc's own counters. They describe the program's
//! heap only when jemalloc is the global allocator:
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
//!
//! fn main() -> Result<(), jemalloc_stats::Error> {
//!     let stats = jemalloc_stats::read_stats()?;
//!     assert!(stats.resident >= stats.allocated);
//!     Ok(())
//! }
//! ```
//!
//! Nothing here unwraps: every read returns a `Result`.

use std::io;
use std::path::Path;
use std::process::Command;

pub use tikv_jemalloc_ctl::Error;
use tikv_jemalloc_ctl::{epoch, opt, stats};

/// The variable a prefixed jemalloc build (tikv-jemallocator's) reads its
/// runtime configuration from.
pub const CONF_VAR: &str = "_RJEM_MALLOC_CONF";
/// The variable an unprefixed jemalloc (for example a system `libjemalloc`)
/// reads; tikv-jemallocator ignores it.
pub const UNPREFIXED_CONF_VAR: &str = "MALLOC_CONF";
/// The argument that makes the chapter's program print only `opt.narenas`.
pub const PRINT_NARENAS_ARG: &str = "--print-narenas";

// ANCHOR: read_stats
/// Two of jemalloc's process-wide counters, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryStats {
    /// `stats.allocated`: bytes in the blocks the program holds, each
    /// counted at the size class jemalloc rounded it up to.
    pub allocated: usize,
    /// `stats.resident`: at most this many bytes of jemalloc's pages are in
    /// physical memory: its metadata, the pages of live blocks, and freed
    /// pages it has not given back. A *maximum*: pages of a fresh mapping
    /// that nobody has written yet count, though the kernel has not backed
    /// them with memory.
    pub resident: usize,
}

/// Refreshes jemalloc's statistics. It caches them, and a read returns the
/// values as of the last epoch advance.
pub fn advance_epoch() -> Result<u64, Error> {
    epoch::advance()
}

/// Advances the epoch, then reads `stats.allocated` and `stats.resident`.
pub fn read_stats() -> Result<MemoryStats, Error> {
    advance_epoch()?;
    Ok(MemoryStats {
        allocated: stats::allocated::read()?,
        resident: stats::resident::read()?,
    })
}
// ANCHOR_END: read_stats

/// What the operating system says this process has in physical memory right
/// now (`VmRSS` in `/proc/self/status`), in bytes; `None` where there is no
/// such file (anything but Linux) or it cannot be read.
pub fn os_resident() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Signed difference of two counters: `after - before`.
pub fn change(before: usize, after: usize) -> i128 {
    after as i128 - before as i128
}

// ANCHOR: narenas
/// The number of arenas jemalloc was configured with (`opt.narenas`), fixed
/// when it initialised: the default (four per CPU, or one on a single-CPU
/// machine) unless the configuration variable set it.
pub fn narenas() -> Result<u32, Error> {
    opt::narenas::read()
}

/// Runs `exe PRINT_NARENAS_ARG` with both configuration variables removed
/// and then `setting` (a `(variable, value)` pair) applied, and returns the
/// `opt.narenas` the child printed.
pub fn narenas_in_child(exe: &Path, setting: Option<(&str, &str)>) -> io::Result<u32> {
    let mut command = Command::new(exe);
    command
        .arg(PRINT_NARENAS_ARG)
        .env_remove(CONF_VAR)
        .env_remove(UNPREFIXED_CONF_VAR);
    if let Some((variable, value)) = setting {
        command.env(variable, value);
    }
    let output = command.output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "{} {PRINT_NARENAS_ARG} failed ({}): {}",
            exe.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    stdout.trim().parse().map_err(|e| {
        io::Error::other(format!(
            "{} {PRINT_NARENAS_ARG} printed {:?}, not a number: {e}",
            exe.display(),
            stdout.trim()
        ))
    })
}
// ANCHOR_END: narenas
