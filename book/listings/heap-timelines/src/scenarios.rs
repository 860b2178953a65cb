//! The scenarios: a name, one line on what it does, the `n` it accepts, and
//! the work itself.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, DefaultHasher};
use std::hint::black_box;
use std::ops::RangeInclusive;

/// One piece of work to record.
#[derive(Debug)]
pub struct Scenario {
    name: &'static str,
    description: &'static str,
    n_range: RangeInclusive<usize>,
    work: fn(usize),
}

impl Scenario {
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One line: what the scenario does with `n`.
    pub fn description(&self) -> &'static str {
        self.description
    }

    /// The `n` it accepts, both ends included.
    pub fn n_range(&self) -> RangeInclusive<usize> {
        self.n_range.clone()
    }

    /// `Ok` if the scenario accepts `n`, else the rule it breaks.
    pub fn check(&self, n: usize) -> Result<(), ScenarioError> {
        if self.n_range.contains(&n) {
            Ok(())
        } else {
            Err(ScenarioError::NOutOfRange {
                scenario: self.name,
                n,
                range: self.n_range(),
            })
        }
    }

    /// Does the work. `n` outside [`n_range`](Self::n_range) is clamped into
    /// it (call [`check`](Self::check) first to refuse it instead).
    pub fn run(&self, n: usize) {
        (self.work)(n.clamp(*self.n_range.start(), *self.n_range.end()));
    }
}

/// Why a scenario name or an `n` was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioError {
    UnknownScenario {
        name: String,
    },
    NOutOfRange {
        scenario: &'static str,
        n: usize,
        range: RangeInclusive<usize>,
    },
    NotANumber {
        text: String,
    },
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::UnknownScenario { name } => write!(
                f,
                "unknown scenario `{name}`: the scenarios are {}",
                names().join(", ")
            ),
            ScenarioError::NOutOfRange { scenario, n, range } => write!(
                f,
                "n = {n} is out of range for {scenario}: n must be from {} to {}",
                range.start(),
                range.end()
            ),
            ScenarioError::NotANumber { text } => write!(
                f,
                "`{text}` is not a number: n must be a whole number such as 1000"
            ),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Every scenario, in the order the book shows them.
pub fn all() -> &'static [Scenario] {
    &SCENARIOS
}

/// The names of all scenarios, in order.
pub fn names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.name).collect()
}

/// The scenario called `name`.
pub fn find(name: &str) -> Result<&'static Scenario, ScenarioError> {
    SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ScenarioError::UnknownScenario {
            name: name.to_owned(),
        })
}

/// `n` as typed, for `scenario`: a whole number in its range.
pub fn parse_n(scenario: &Scenario, text: &str) -> Result<usize, ScenarioError> {
    let n =
        text.trim()
            .replace('_', "")
            .parse::<usize>()
            .map_err(|_| ScenarioError::NotANumber {
                text: text.to_owned(),
            })?;
    scenario.check(n)?;
    Ok(n)
}

static SCENARIOS: [Scenario; 8] = [
    Scenario {
        name: "vec-push",
        description: "a Vec<u64> pushed one element at a time to n, then dropped",
        n_range: 1..=100_000,
        work: vec_push,
    },
    Scenario {
        name: "vec-with-capacity",
        description: "the same, with Vec::with_capacity(n) first",
        n_range: 1..=100_000,
        work: vec_with_capacity,
    },
    Scenario {
        name: "string-push-str",
        description: "a String built from n short words with push_str, then dropped",
        n_range: 1..=100_000,
        work: string_push_str,
    },
    Scenario {
        name: "string-format",
        description: "the same String built with s = format!(\"{s}{word} \") n times",
        n_range: 1..=5_000,
        work: string_format,
    },
    Scenario {
        name: "hashmap-grow",
        description: "a HashMap<u64, u64> filled to n entries, then dropped",
        n_range: 1..=100_000,
        work: hashmap_grow,
    },
    Scenario {
        name: "box-tree",
        description: "a balanced binary tree of n Box nodes, built top-down, then dropped",
        n_range: 1..=20_000,
        work: box_tree,
    },
    Scenario {
        name: "shrink-to-fit",
        description: "a Vec<u64> pushed to n, then shrink_to_fit, then dropped",
        n_range: 1..=100_000,
        work: shrink_to_fit,
    },
    Scenario {
        name: "collect-vs-push",
        description: "(0..n).collect::<Vec<u64>>(), then the same Vec made by pushing",
        n_range: 1..=100_000,
        work: collect_vs_push,
    },
];

// ANCHOR: vec_push
fn vec_push(n: usize) {
    let mut v: Vec<u64> = Vec::new();
    for i in 0..n as u64 {
        v.push(black_box(i));
    }
    black_box(&v);
}
// ANCHOR_END: vec_push

// ANCHOR: vec_with_capacity
fn vec_with_capacity(n: usize) {
    let mut v: Vec<u64> = Vec::with_capacity(n);
    for i in 0..n as u64 {
        v.push(black_box(i));
    }
    black_box(&v);
}
// ANCHOR_END: vec_with_capacity

/// The words the string scenarios append, in turn.
const WORDS: [&str; 8] = [
    "heap", "stack", "block", "arena", "free", "list", "page", "align",
];

// ANCHOR: strings
fn string_push_str(n: usize) {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(black_box(WORDS[i % WORDS.len()]));
        s.push(' ');
    }
    black_box(&s);
}

fn string_format(n: usize) {
    let mut s = String::new();
    for i in 0..n {
        let word = black_box(WORDS[i % WORDS.len()]);
        s = format!("{s}{word} ");
    }
    black_box(&s);
}
// ANCHOR_END: strings

// ANCHOR: hashmap
/// A hasher with fixed keys: the same table layout, and so the same
/// picture, on every run and on every target.
type FixedState = BuildHasherDefault<DefaultHasher>;

fn hashmap_grow(n: usize) {
    let mut map: HashMap<u64, u64, FixedState> = HashMap::default();
    for i in 0..n as u64 {
        map.insert(black_box(i), i * i);
    }
    black_box(&map);
}
// ANCHOR_END: hashmap

// ANCHOR: box_tree
struct Node {
    value: usize,
    left: Option<Box<Node>>,
    right: Option<Box<Node>>,
}

/// The keys `lo..hi`, the middle one at the root. Each node is allocated
/// before its children (top-down).
fn build(lo: usize, hi: usize) -> Option<Box<Node>> {
    if lo >= hi {
        return None;
    }
    let mid = lo + (hi - lo) / 2;
    let mut node = Box::new(Node {
        value: mid,
        left: None,
        right: None,
    });
    node.left = build(lo, mid);
    node.right = build(mid + 1, hi);
    Some(node)
}

fn sum(node: &Option<Box<Node>>) -> usize {
    node.as_ref()
        .map_or(0, |n| n.value + sum(&n.left) + sum(&n.right))
}

fn box_tree(n: usize) {
    let tree = build(0, n);
    black_box(sum(black_box(&tree)));
    // Dropping the root drops its fields first: the left subtree, then the
    // right, and only then frees the root's own box.
    drop(tree);
}
// ANCHOR_END: box_tree

// ANCHOR: shrink
fn shrink_to_fit(n: usize) {
    let mut v: Vec<u64> = Vec::new();
    for i in 0..n as u64 {
        v.push(black_box(i));
    }
    v.shrink_to_fit();
    black_box(&v);
}
// ANCHOR_END: shrink

// ANCHOR: collect
fn collect_vs_push(n: usize) {
    let collected: Vec<u64> = (0..n as u64).map(black_box).collect();
    black_box(&collected);
    drop(collected);
    let mut pushed: Vec<u64> = Vec::new();
    for i in 0..n as u64 {
        pushed.push(black_box(i));
    }
    black_box(&pushed);
}
// ANCHOR_END: collect
