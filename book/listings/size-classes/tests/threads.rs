//! The spin lock makes the slab shareable: two threads at once, each block
//! tagged by its thread. Under Miri a missing happens-before is a data race.

use race_rounds::{Rounds, fill, first_mismatch};
use size_classes::{Slab, SpinLock};

#[test]
fn threads_share_a_locked_slab_without_sharing_blocks() {
    const ROUNDS: usize = if cfg!(miri) { 3 } else { 500 };
    const OPS: usize = if cfg!(miri) { 6 } else { 32 };
    let report = Rounds::new(2, ROUNDS).run(
        // Four blocks: two threads holding up to two each use them all.
        |_round| SpinLock::new(Slab::new(32, 4)),
        |slab, thread| -> Result<(), String> {
            let tag = u8::try_from(thread + 1).expect("two threads");
            let mut held = Vec::with_capacity(2);
            for _ in 0..OPS {
                if held.len() == 2 {
                    let block: std::ptr::NonNull<u8> = held.remove(0);
                    // SAFETY: our live block of 32 bytes, filled with `tag`.
                    let mismatch = unsafe { first_mismatch(block.as_ptr(), 32, tag) };
                    if let Some((offset, found)) = mismatch {
                        return Err(format!("byte {offset} of a block holds {found}, not {tag}"));
                    }
                    // SAFETY: came from this slab, not used again.
                    unsafe { slab.lock().free(block) };
                }
                let block = slab
                    .lock()
                    .alloc()
                    .ok_or("four blocks are enough for two threads")?;
                // SAFETY: the block is ours: 32 writable bytes.
                unsafe { fill(block.as_ptr(), 32, tag) };
                held.push(block);
            }
            Ok(())
        },
        |round, slab, results| {
            for result in results {
                if let Err(message) = result {
                    panic!("round {round}: {message}");
                }
            }
            assert!(slab.lock().carved() <= 4 * 32);
        },
    );
    println!("{report}");
}

#[test]
fn threads_never_lose_an_update_under_the_lock() {
    const ROUNDS: usize = if cfg!(miri) { 3 } else { 500 };
    const ADDS: u64 = if cfg!(miri) { 20 } else { 1000 };
    Rounds::new(2, ROUNDS).run(
        |_round| SpinLock::new(0u64),
        |counter, _thread| {
            for _ in 0..ADDS {
                // A plain read-modify-write: safe only because of the lock.
                *counter.lock() += 1;
            }
        },
        |round, counter, _| {
            assert_eq!(*counter.lock(), 2 * ADDS, "round {round} lost an update");
        },
    );
}
