//! The cases: what each one is, how it is built, and how it must fail.

/// How one case is built (compile-fail) or built and run (run-fail).
#[derive(Debug)]
pub enum Kind {
    /// One source file compiled by `rustc`; must fail.
    Rustc { source: &'static str },
    /// A library compiled first, then a binary linked against it; the
    /// binary must fail.
    RustcWithLibrary {
        library_name: &'static str,
        library: &'static str,
        source: &'static str,
    },
    /// A Cargo package with its own workspace and lock file, checked by
    /// `cargo check`; must fail. `source` carries the expectation.
    CargoPackage {
        dir: &'static str,
        source: &'static str,
    },
    /// A program built by `rustc` and run; must end as `expect` says.
    /// `build_env` is the environment of the build (for `option_env!`),
    /// `env` that of the run.
    Run {
        source: &'static str,
        build_env: &'static [(&'static str, &'static str)],
        args: &'static [&'static str],
        env: &'static [(&'static str, &'static str)],
        expect: RunExpectation,
    },
}

/// How a run-fail case must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Exits on its own with this status code.
    Code(i32),
    /// Is killed by this signal (e.g. 6 for an abort).
    Signal(i32),
    /// Never finishes: still running when the watch ends (a deadlock).
    Hangs,
}

/// What a run-fail case must do.
#[derive(Debug, Clone, Copy)]
pub struct RunExpectation {
    pub ending: Ending,
    /// Text stderr must contain, if any.
    pub stderr_phrase: Option<&'static str>,
}

/// One pitfall.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    /// One line: the mistake and what it leads to.
    pub shows: &'static str,
    pub kind: Kind,
}

/// Every case, in the chapter's order.
pub const CASES: &[Case] = &[
    Case {
        name: "missing-unsafe-impl",
        shows: "`impl GlobalAlloc` without `unsafe` is rejected (E0200)",
        kind: Kind::Rustc {
            source: "cases/missing_unsafe_impl.rs",
        },
    },
    Case {
        name: "two-global-allocators",
        shows: "a crate may declare only one `#[global_allocator]`",
        kind: Kind::Rustc {
            source: "cases/two_global_allocators.rs",
        },
    },
    Case {
        name: "library-chooses-allocator",
        shows: "a library that declares a global allocator conflicts with the application's",
        kind: Kind::RustcWithLibrary {
            library_name: "chooser",
            library: "cases/library_chooses_allocator/chooser.rs",
            source: "cases/library_chooses_allocator/main.rs",
        },
    },
    Case {
        name: "allocator-api-on-stable",
        shows: "per-collection allocators (`Vec::new_in`) are unstable (E0658)",
        kind: Kind::Rustc {
            source: "cases/allocator_api_on_stable.rs",
        },
    },
    Case {
        name: "jemalloc-stats-feature-off",
        shows: "`tikv_jemalloc_ctl::stats` needs the `stats` feature (E0432)",
        kind: Kind::CargoPackage {
            dir: "cases/jemalloc_stats_feature_off",
            source: "src/main.rs",
        },
    },
    Case {
        name: "not-a-global-alloc",
        shows: "`#[global_allocator]` needs a type that implements `GlobalAlloc` (E0277)",
        kind: Kind::Rustc {
            source: "cases/not_a_global_alloc.rs",
        },
    },
    Case {
        name: "println-in-alloc-deadlock",
        shows: "`println!` inside `alloc` before stdout was used deadlocks",
        kind: Kind::Run {
            source: "cases/println_in_alloc_deadlock.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Hangs,
                stderr_phrase: None,
            },
        },
    },
    Case {
        name: "string-in-alloc-overflow",
        shows: "building a `String` inside `alloc` recurses until the stack overflows",
        kind: Kind::Run {
            source: "cases/string_in_alloc_overflow.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Signal(libc::SIGABRT),
                stderr_phrase: Some("has overflowed its stack"),
            },
        },
    },
    Case {
        name: "string-in-alloc-at-startup",
        shows: "the same recursion from the first allocation dies before main, silently (SIGSEGV)",
        kind: Kind::Run {
            source: "cases/string_in_alloc_overflow.rs",
            build_env: &[(LOG_FROM_STARTUP, "1")],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Signal(libc::SIGSEGV),
                stderr_phrase: None,
            },
        },
    },
    Case {
        name: "integer-eprintln-works",
        shows: "`eprintln!` of a plain integer inside `alloc` does not allocate: it works",
        kind: Kind::Run {
            source: "cases/integer_eprintln_works.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Code(0),
                stderr_phrase: Some("finished with 8 numbers"),
            },
        },
    },
    Case {
        name: "panic-in-alloc",
        shows: "a panic in `alloc` unwinds out of the allocator (undefined behaviour)",
        kind: Kind::Run {
            source: "cases/panic_in_alloc.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Code(101),
                stderr_phrase: Some("refusing 1048576 bytes"),
            },
        },
    },
    Case {
        name: "panic-in-alloc-backtrace",
        shows: "the same panic with RUST_BACKTRACE=1 panics again while panicking: abort",
        kind: Kind::Run {
            source: "cases/panic_in_alloc.rs",
            build_env: &[],
            args: &[],
            env: &[("RUST_BACKTRACE", "1")],
            expect: RunExpectation {
                ending: Ending::Signal(libc::SIGABRT),
                stderr_phrase: Some("thread panicked while processing panic"),
            },
        },
    },
    Case {
        name: "over-budget-abort",
        shows: "an allocator that returns null makes `vec!` abort via `handle_alloc_error`",
        kind: Kind::Run {
            source: "cases/over_budget.rs",
            build_env: &[],
            args: &[],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Signal(libc::SIGABRT),
                stderr_phrase: Some("memory allocation of 2097152 bytes failed"),
            },
        },
    },
    Case {
        name: "over-budget-try-reserve",
        shows: "the same refusal through `try_reserve` is an `Err` the program recovers from",
        kind: Kind::Run {
            source: "cases/over_budget.rs",
            build_env: &[],
            args: &["try-reserve"],
            env: &[],
            expect: RunExpectation {
                ending: Ending::Code(0),
                stderr_phrase: Some("recovered: memory allocation failed"),
            },
        },
    },
];

/// Read by `string_in_alloc_overflow.rs` at compile time.
const LOG_FROM_STARTUP: &str = "LOG_FROM_STARTUP";

/// The case called `name`, or an error listing the valid names.
pub fn find(name: &str) -> Result<&'static Case, String> {
    CASES.iter().find(|case| case.name == name).ok_or_else(|| {
        let names: Vec<&str> = CASES.iter().map(|case| case.name).collect();
        format!("unknown case `{name}`; the cases are: {}", names.join(", "))
    })
}
