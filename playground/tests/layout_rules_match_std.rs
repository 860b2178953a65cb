//! The explorer's `explore` must agree with `Layout::from_size_align` itself
//! on every input, including the edges (alignment 0, huge alignments, sizes
//! near isize::MAX). Native only: proptest runs on the host, and the wasm
//! build is checked in the browser by `web.rs`.
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::Layout;

use playground::layout_rules::{ARRAY_LEN, LayoutProblem, MAX_SIZE, explore};
use proptest::prelude::*;

/// Checks one `(size, align)` pair against the standard library.
fn agrees_with_std(size: usize, align: usize) {
    let ours = explore(size, align);
    match Layout::from_size_align(size, align) {
        Ok(std_layout) => {
            let facts = ours.unwrap_or_else(|p| panic!("std accepts ({size}, {align}): {p}"));
            assert_eq!(facts.size, std_layout.size());
            assert_eq!(facts.align, std_layout.align());
            let padded = std_layout.pad_to_align();
            assert_eq!(facts.padded_size, padded.size());
            assert_eq!(facts.trailing_padding, padded.size() - size);
            assert_eq!(facts.to_layout(), Some(std_layout));
            // std's `repeat` packs the last element without its padding;
            // padding the result gives the array size `Layout::array` uses.
            let std_array = std_layout.repeat(ARRAY_LEN).ok().map(|(array, stride)| {
                assert_eq!(stride, facts.padded_size);
                array.pad_to_align().size()
            });
            assert_eq!(facts.array_size, std_array, "array of ({size}, {align})");
        }
        Err(_) => {
            let problem = ours.expect_err("std refuses, explore must too");
            let expected = if align == 0 {
                LayoutProblem::ZeroAlign
            } else if !align.is_power_of_two() {
                LayoutProblem::AlignNotPowerOfTwo { align }
            } else {
                LayoutProblem::SizeOverflow { size, align }
            };
            assert_eq!(problem, expected);
            assert!(problem.to_string().contains("Layout::from_size_align"));
        }
    }
}

/// Sizes that cluster around the interesting edges as well as anywhere.
fn sizes() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..4096,
        any::<usize>(),
        (0usize..4096).prop_map(|d| MAX_SIZE - d),
        (0usize..4096).prop_map(|d| MAX_SIZE.wrapping_add(d)),
        (0usize..64).prop_map(|d| usize::MAX - d),
        (0usize..4096).prop_map(|d| MAX_SIZE / ARRAY_LEN - d),
    ]
}

/// Alignments: every power of two, their neighbours, and anything.
fn aligns() -> impl Strategy<Value = usize> {
    prop_oneof![
        (0u32..usize::BITS).prop_map(|shift| 1usize << shift),
        (0u32..usize::BITS).prop_map(|shift| (1usize << shift).wrapping_add(1)),
        (0u32..usize::BITS).prop_map(|shift| (1usize << shift).wrapping_sub(1)),
        any::<usize>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 16 } else { 20_000 }))]

    #[test]
    fn explore_agrees_with_from_size_align(size in sizes(), align in aligns()) {
        agrees_with_std(size, align);
    }

    #[test]
    fn array_size_agrees_with_repeat(size in 0usize..1 << 20, shift in 0u32..16, count in 0usize..1 << 16) {
        let align = 1usize << shift;
        let facts = explore(size, align).expect("small sizes are valid");
        let std_layout = Layout::from_size_align(size, align).expect("valid");
        let std_size = std_layout.repeat(count).map(|(a, _)| a.pad_to_align().size());
        prop_assert_eq!(facts.array_size_of(count).ok(), std_size.ok());
    }
}

#[test]
fn edge_cases_agree_with_std() {
    let sizes = [
        0,
        1,
        7,
        8,
        9,
        MAX_SIZE - 8,
        MAX_SIZE - 7,
        MAX_SIZE - 1,
        MAX_SIZE,
        MAX_SIZE + 1,
        usize::MAX,
    ];
    for &size in &sizes {
        for shift in 0..usize::BITS {
            let align = 1usize << shift;
            for candidate in [0, align - 1, align, align + 1] {
                agrees_with_std(size, candidate);
            }
        }
    }
}

#[test]
fn array_matches_layout_array_for_real_types() {
    fn check<T>() {
        let facts = explore(size_of::<T>(), align_of::<T>()).unwrap();
        for count in [0, 1, ARRAY_LEN, 1000] {
            let std_array = Layout::array::<T>(count).unwrap();
            assert_eq!(facts.array_size_of(count), Ok(std_array.size()));
        }
    }
    check::<u8>();
    check::<u32>();
    check::<[u64; 4]>();
    check::<(u8, u64, u16)>();
    check::<(u16, u8)>();
}

#[test]
fn overflowing_array_is_reported_with_its_count_and_stride() {
    let facts = explore(24, 8).unwrap();
    let problem = facts.array_size_of(usize::MAX / 8).unwrap_err();
    assert_eq!(
        problem,
        LayoutProblem::ArrayOverflow {
            count: usize::MAX / 8,
            stride: 24
        }
    );
    assert!(problem.to_string().contains("isize::MAX"));
}

#[test]
fn messages_name_the_rule_that_was_broken() {
    assert!(
        explore(1, 0)
            .unwrap_err()
            .to_string()
            .contains("alignment 0")
    );
    let not_power = explore(1, 6).unwrap_err().to_string();
    assert!(
        not_power.contains("not a power of two") && not_power.contains("4 and 8"),
        "{not_power}"
    );
    let too_big = explore(MAX_SIZE, 2).unwrap_err().to_string();
    assert!(too_big.contains("exceeds isize::MAX"), "{too_big}");
}
