//! Results produced in the background while the book is being served.
//!
//! A first `serve` would otherwise wait for every program of the book to be
//! built and run (minutes on a fresh clone) before showing any page. Instead
//! the pages are built at once from what the cache holds, with a placeholder
//! where a result is missing; one thread produces the missing results (which
//! fills the cache), and the server rebuilds the pages when it is done.
//!
//! A result that fails in the background is shown in its page as a failure
//! until a watched file changes, so a broken program is not run again after
//! every rebuild it causes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::directive::Directive;
use crate::programs::Missing;
use crate::project::Project;
use crate::render::code_block;
use crate::results::{Settings, results_for};
use crate::site::{Site, progress};

/// What a page shows where a result is still being produced.
const PLACEHOLDER: &str = "> ⏳ **Not run yet.** This output is being produced in the background \
(the first time, that includes building the program). The page reloads by itself when it is ready.";

#[derive(Default)]
pub struct Background {
    state: Mutex<State>,
    /// A background run ended and the pages should be built again.
    ended: AtomicBool,
}

#[derive(Default)]
struct State {
    running: bool,
    /// Why each directive failed in the background, until sources change.
    failed: BTreeMap<Directive, String>,
}

impl Background {
    /// What the directives of `sites`, none of them cached, show now: a
    /// placeholder (starting a background run for them unless one is
    /// running already), or the failure of an earlier background run.
    pub fn later(
        self: &Arc<Self>,
        project: Project,
        settings: &Settings,
        sites: BTreeMap<Directive, Vec<Site>>,
    ) -> BTreeMap<Directive, String> {
        let mut state = self.state();
        let mut shown = BTreeMap::new();
        let mut to_produce = BTreeMap::new();
        for (directive, where_used) in sites {
            match state.failed.get(&directive) {
                Some(why) => {
                    shown.insert(directive, failure(why));
                }
                None => {
                    shown.insert(directive.clone(), PLACEHOLDER.to_owned());
                    to_produce.insert(directive, where_used);
                }
            }
        }
        if !to_produce.is_empty() && !state.running {
            state.running = true;
            let this = Arc::clone(self);
            let settings = settings.clone();
            std::thread::spawn(move || this.produce(project, settings, to_produce));
        }
        shown
    }

    /// A watched file changed: failures may be mended, so the next build
    /// tries them again.
    pub fn sources_changed(&self) {
        self.state().failed.clear();
    }

    /// Whether a background run ended since the last call.
    pub fn take_ended(&self) -> bool {
        self.ended.swap(false, Ordering::AcqRel)
    }

    fn produce(&self, project: Project, settings: Settings, sites: BTreeMap<Directive, Vec<Site>>) {
        let started = Instant::now();
        progress(&format!(
            "producing {} result(s) in the background; their pages show a placeholder until then",
            sites.len()
        ));
        let (results, errors) =
            match results_for(&project, sites.clone(), &settings, Missing::Produce) {
                Ok(outcome) => outcome,
                Err(e) => (BTreeMap::new(), vec![e]),
            };
        let mut failed = BTreeMap::new();
        for (directive, where_used) in sites {
            if results.contains_key(&directive) {
                continue;
            }
            let mine: Vec<&str> = errors
                .iter()
                .filter(|e| where_used.iter().any(|s| e.starts_with(&s.error(""))))
                .map(String::as_str)
                .collect();
            let why = if mine.is_empty() {
                errors.join("\n")
            } else {
                mine.join("\n")
            };
            failed.insert(directive, why);
        }
        for e in &errors {
            eprintln!("{e}");
        }
        progress(&format!(
            "background run done in {:.0} s: {} result(s) produced, {} failed",
            started.elapsed().as_secs_f64(),
            results.len(),
            failed.len()
        ));
        let mut state = self.state();
        state.failed.extend(failed);
        state.running = false;
        drop(state);
        self.ended.store(true, Ordering::Release);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves nothing half-written that
        // matters here: the state is advisory.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a page shows for a result that failed in the background.
fn failure(why: &str) -> String {
    format!(
        "> ❌ **This run failed** (the message below is also where the book is served). \
         Mend it and save: the page is rebuilt and the run tried again.\n\n{}",
        code_block(why)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_what_to_do_and_fences_the_message() {
        let text = failure("src/a.md:3: package `x` does not build");
        assert!(text.contains("Mend it and save"), "{text}");
        assert!(
            text.contains("```text\nsrc/a.md:3: package `x` does not build\n```"),
            "{text}"
        );
    }
}
