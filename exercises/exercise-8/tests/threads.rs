//! Threads push at once, and push while the owner takes. Each pusher fills
//! its blocks with its own tag first, so the owner can check it sees every
//! byte the pusher wrote. Run these under Miri too
//! (`cargo workbook check 8 --miri`): a missing happens-before is a data
//! race there even where x86 hides it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use exercise_8::RemoteList;
use race_rounds::{Rounds, fill, first_mismatch};

const BLOCK: usize = 32;
const PUSHES: usize = if cfg!(miri) { 4 } else { 64 };
const ROUNDS: usize = if cfg!(miri) { 3 } else { 1000 };
/// The tag of pusher 1 and pusher 2 (index 0 is the owner's, unused).
const TAGS: [u8; 3] = [0, 0xB1, 0xC2];

fn layout() -> Layout {
    Layout::from_size_align(BLOCK, 16).expect("valid")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Block(*mut u8);
// SAFETY: the tests move blocks between threads only through the list under
// test, or after joining.
unsafe impl Send for Block {}
// SAFETY: as above; shared only to be copied out.
unsafe impl Sync for Block {}

/// One round's state: the list, the blocks of each pusher, and how many
/// pushers have finished.
struct Round {
    list: RemoteList,
    blocks: Vec<Block>,
    pushers_done: AtomicUsize,
}

impl Round {
    fn new() -> Arc<Round> {
        Arc::new(Round {
            list: RemoteList::new(),
            // SAFETY: a non-zero size.
            blocks: (0..2 * PUSHES)
                .map(|_| Block(unsafe { System.alloc(layout()) }))
                .collect(),
            pushers_done: AtomicUsize::new(0),
        })
    }

    /// Pusher `thread` (1 or 2) tags its blocks and pushes them, with its
    /// number as the class.
    fn push_mine(&self, thread: usize) {
        for &Block(ptr) in &self.blocks[(thread - 1) * PUSHES..thread * PUSHES] {
            // SAFETY: a live 32-byte, 16-aligned block only this thread uses
            // until it pushes it.
            unsafe {
                fill(ptr, BLOCK, TAGS[thread]);
                self.list.push(ptr, thread);
            }
        }
        // Relaxed: this must not order the pushes for the owner; only the
        // list may.
        self.pushers_done.fetch_add(1, Ordering::Relaxed);
    }

    /// Checks what the owner took: every block exactly once, each with its
    /// pusher's class and its pusher's tag past the 16-byte link.
    fn check(&self, round: usize, got: &[(Block, usize)]) {
        for &(Block(ptr), class) in got {
            let Some(index) = self.blocks.iter().position(|b| b.0 == ptr) else {
                panic!("round {round}: take_all returned a pointer nobody pushed");
            };
            assert_eq!(
                class,
                1 + index / PUSHES,
                "round {round}: a block lost its class"
            );
        }
        let mut taken: Vec<usize> = got.iter().map(|(b, _)| b.0.addr()).collect();
        taken.sort_unstable();
        taken.dedup();
        assert_eq!(
            taken.len(),
            self.blocks.len(),
            "round {round}: {} blocks were pushed, the owner took {} different ones: a push \
             was lost (two pushes, or a push and a take, overwrote each other's head)",
            self.blocks.len(),
            taken.len()
        );
    }
}

impl Drop for Round {
    fn drop(&mut self) {
        for &Block(ptr) in &self.blocks {
            // SAFETY: from `System.alloc(layout())`, freed once, after every
            // thread of the round was joined.
            unsafe { System.dealloc(ptr, layout()) };
        }
    }
}

/// The owner's side: take until the pushers are done, then once more.
fn take_until_done(round: &Round) -> Vec<(Block, usize)> {
    let mut got = Vec::new();
    loop {
        let done = round.pushers_done.load(Ordering::Relaxed) == 2;
        for (ptr, class) in round.list.take_all() {
            let tag = TAGS.get(class).copied().unwrap_or(0);
            // SAFETY: the list handed the block over; past its 16-byte link
            // it holds what its pusher wrote.
            let mismatch = unsafe { first_mismatch(ptr.add(16), BLOCK - 16, tag) };
            assert_eq!(
                mismatch, None,
                "a block arrived without the bytes its pusher wrote"
            );
            got.push((Block(ptr), class));
        }
        if done {
            return got;
        }
        // Take again at once: the more often the owner takes while the
        // pushers push, the more likely a wrong list shows a lost block.
        if cfg!(miri) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

#[test]
fn threads_push_at_once_and_no_block_is_lost() {
    let report = Rounds::new(2, ROUNDS).run(
        |_round| Round::new(),
        |round, thread| round.push_mine(thread + 1),
        |index, round, _| {
            let got: Vec<(Block, usize)> = round
                .list
                .take_all()
                .map(|(ptr, class)| (Block(ptr), class))
                .collect();
            round.check(index, &got);
        },
    );
    eprintln!("{report}");
}

#[test]
fn threads_push_while_the_owner_takes_and_every_block_arrives_whole() {
    let report = Rounds::new(3, ROUNDS).run(
        |_round| Round::new(),
        |round, thread| {
            if thread == 0 {
                take_until_done(round)
            } else {
                round.push_mine(thread);
                Vec::new()
            }
        },
        |index, round, results| round.check(index, &results[0]),
    );
    eprintln!("{report}");
}
