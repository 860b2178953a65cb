//! The results of the directives that run something (`{{#run}}`,
//! `{{#pitfall}}`, `{{#wrong-answer}}`, `{{#toolchain}}`), with the
//! runner's settings: produced now, or only those already cached.

use std::collections::BTreeMap;
use std::time::Duration;

use mdbook_preprocessor::PreprocessorContext;

use crate::directive::Directive;
use crate::programs::{Missing, program_results};
use crate::project::Project;
use crate::render::code_block;
use crate::site::{Results, Site, progress};
use wrong_answer_check::RejectedBy;

/// How long one program may run before the build gives up on it, unless
/// `[preprocessor.runner] timeout-secs` says otherwise. Generous: a pitfall
/// case may compile jemalloc from scratch on a busy machine.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// The runner's settings, from `[preprocessor.runner]` in book.toml (or
/// `MDBOOK_PREPROCESSOR__RUNNER__<NAME>` in the environment).
#[derive(Clone)]
pub struct Settings {
    /// `timeout-secs`: how long one program may run.
    timeout: Duration,
    /// `without-miri = "note"`: where Miri is not installed, a wrong answer
    /// that only Miri rejects gets a note saying how to see its failure,
    /// instead of failing the build. `cargo workbook serve` and `book` set
    /// it, so a reader needs no nightly; the test command does not.
    note_without_miri: bool,
}

impl Settings {
    pub fn read(ctx: &PreprocessorContext) -> Result<Settings, String> {
        let timeout = ctx
            .config
            .get::<u64>("preprocessor.runner.timeout-secs")
            .map_err(|e| format!("book.toml: preprocessor.runner.timeout-secs: {e}"))?
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs);
        let without_miri = ctx
            .config
            .get::<String>("preprocessor.runner.without-miri")
            .map_err(|e| format!("book.toml: preprocessor.runner.without-miri: {e}"))?;
        let note_without_miri = match without_miri.as_deref() {
            None | Some("fail") => false,
            Some("note") => true,
            Some(other) => {
                return Err(format!(
                    "book.toml: preprocessor.runner.without-miri is `{other}`; use \"fail\" \
                     (the default) or \"note\""
                ));
            }
        };
        Ok(Settings {
            timeout,
            note_without_miri,
        })
    }
}

/// The results of `sites` (none of them widgets), and the errors of those
/// that fail; with [`Missing::LeaveOut`], only those already cached.
pub fn results_for(
    project: &Project,
    sites: BTreeMap<Directive, Vec<Site>>,
    settings: &Settings,
    missing: Missing,
) -> Result<Results, String> {
    let timeout = settings.timeout;
    let (wrong_answers, programs): (BTreeMap<_, _>, BTreeMap<_, _>) = sites
        .into_iter()
        .partition(|(d, _)| matches!(d, Directive::WrongAnswer { .. }));
    let (mut results, mut errors) = if programs.is_empty() {
        (BTreeMap::new(), Vec::new())
    } else {
        program_results(project, programs, timeout, missing)?
    };
    if !wrong_answers.is_empty() {
        let (shown, failed) = wrong_answer_results(project, wrong_answers, settings, missing)?;
        results.extend(shown);
        errors.extend(failed);
    }
    Ok((results, errors))
}

/// `{{#wrong-answer PACKAGE}}`: the failure each wrong answer's tests
/// produce, proven by `wrong-answer-check` (the same code, and the same
/// cache under the target directory, as the gallery step of
/// `cargo workbook test`); an error where a wrong answer is not rejected.
fn wrong_answer_results(
    project: &Project,
    sites: BTreeMap<Directive, Vec<Site>>,
    settings: &Settings,
    missing: Missing,
) -> Result<Results, String> {
    let Project {
        workspace,
        toolchain,
    } = project;
    let root = &workspace.root;
    let mut results = BTreeMap::new();
    let mut errors = Vec::new();
    let mut wanted = Vec::new();
    // Asked once, and only when the setting allows a note instead.
    let mut miri_missing = None;
    for (directive, where_used) in sites {
        let Directive::WrongAnswer { package } = &directive else {
            continue;
        };
        match wrong_answer_check::by_package(root, package) {
            Ok(answer) => {
                let needs_miri = matches!(answer.rejected_by, RejectedBy::Miri { .. });
                if needs_miri && settings.note_without_miri {
                    let missing = miri_missing
                        .get_or_insert_with(|| wrong_answer_check::miri_ready(root).is_err());
                    if *missing {
                        results.insert(directive, without_miri_note(&answer.package));
                        continue;
                    }
                }
                wanted.push((directive, where_used, answer));
            }
            Err(e) => errors.extend(where_used.iter().map(|s| s.error(&e))),
        }
    }
    let answers: Vec<_> = wanted.iter().map(|(_, _, a)| a.clone()).collect();
    if missing == Missing::LeaveOut {
        let found = wrong_answer_check::cached_rejections(workspace, toolchain, &answers);
        for ((directive, where_used, _), found) in wanted.into_iter().zip(found) {
            match found {
                Ok(Some(rejection)) => {
                    results.insert(directive, code_block(&rejection.report));
                }
                Ok(None) => {}
                Err(e) => errors.extend(where_used.iter().map(|s| s.error(&e))),
            }
        }
        return Ok((results, errors));
    }
    progress(&format!(
        "proving {} wrong answer(s) rejected by their exercises' tests",
        answers.len()
    ));
    let proofs = wrong_answer_check::prove_rejected(
        workspace,
        toolchain,
        &answers,
        settings.timeout,
        &|message| progress(message),
    );
    for ((directive, where_used, answer), proof) in wanted.into_iter().zip(proofs) {
        match proof {
            Ok(rejection) => {
                results.insert(directive, code_block(&rejection.report));
            }
            Err(e) => {
                let message = format!(
                    "`{}` cannot show {}'s failure: {e}",
                    directive.canonical(),
                    answer.package
                );
                errors.extend(where_used.iter().map(|s| s.error(&message)));
            }
        }
    }
    Ok((results, errors))
}

/// What a page shows for a wrong answer only Miri rejects, when Miri is not
/// installed and the setting allows it.
fn without_miri_note(package: &str) -> String {
    format!(
        "> Miri is what proves this mistake caught (a normal test run catches it \
         only by luck, if at all), and Miri is not installed here, so its report \
         is not shown. `cargo workbook miri --install` installs it; then rebuild \
         the book, or run `cargo workbook wrong-answers {package}`."
    )
}
