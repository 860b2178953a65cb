//! Replaces the directives of every chapter with real results, or collects
//! every reason it cannot (each as `src/chapter.md:LINE: message`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::{Book, BookItem};

use crate::background::Background;
use crate::directive::{self, Directive};
use crate::programs::{Missing, program_results};
use crate::render::code_block;
use crate::site::{Results, Site, progress};
use crate::widget;
use workbook_support::workspace::Workspace;
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
    fn read(ctx: &PreprocessorContext) -> Result<Settings, String> {
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

/// Replaces every directive of `book`. With `background`, results not in
/// the cache yet are not produced here: the page shows a placeholder and
/// `background` produces them (see [`Background`]).
pub fn run(
    ctx: &PreprocessorContext,
    mut book: Book,
    background: Option<&Arc<Background>>,
) -> Result<Book, Vec<String>> {
    let settings = Settings::read(ctx).map_err(|e| vec![e])?;
    let src_dir = ctx.config.book.src.clone();

    let mut errors = Vec::new();
    let mut chapters: BTreeMap<PathBuf, Vec<directive::Found>> = BTreeMap::new();
    let mut sites: BTreeMap<Directive, Vec<Site>> = BTreeMap::new();
    for item in book.iter() {
        let BookItem::Chapter(chapter) = item else {
            continue;
        };
        let Some(path) = &chapter.path else {
            continue;
        };
        let file = src_dir
            .join(chapter.source_path.as_ref().unwrap_or(path))
            .to_string_lossy()
            .into_owned();
        let (found, malformed) = directive::scan(&chapter.content);
        for bad in malformed {
            errors.push(format!("{file}:{}: {}", bad.line, bad.message));
        }
        for f in &found {
            sites.entry(f.directive.clone()).or_default().push(Site {
                file: file.clone(),
                line: f.line,
            });
        }
        if !found.is_empty() {
            chapters.insert(path.clone(), found);
        }
    }

    // Widgets need no program: check their names, render them per chapter.
    let (widgets, sites): (BTreeMap<_, _>, BTreeMap<_, _>) = sites
        .into_iter()
        .partition(|(d, _)| matches!(d, Directive::Widget { .. }));
    if !widgets.is_empty() {
        match Workspace::load(&ctx.root).and_then(|ws| widget::known(&ws.root)) {
            Ok(known) => {
                for (directive, where_used) in &widgets {
                    if let Directive::Widget { name } = directive
                        && !known.contains(name)
                    {
                        let message = format!(
                            "`{}`: the playground has no widget `{name}`; {} defines {}",
                            directive.canonical(),
                            widget::WIDGETS_JS,
                            known.join(", ")
                        );
                        errors.extend(where_used.iter().map(|s| s.error(&message)));
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }

    let missing = match background {
        Some(_) => Missing::LeaveOut,
        None => Missing::Produce,
    };
    let mut results = if sites.is_empty() {
        BTreeMap::new()
    } else {
        match results_for(&ctx.root, sites.clone(), &settings, missing) {
            Ok((results, failures)) => {
                errors.extend(failures);
                results
            }
            Err(e) => {
                errors.push(e);
                BTreeMap::new()
            }
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    if let Some(background) = background {
        let later: BTreeMap<_, _> = sites
            .into_iter()
            .filter(|(d, _)| !results.contains_key(d))
            .collect();
        results.extend(background.later(&ctx.root, &settings, later));
    }

    book.for_each_chapter_mut(|chapter| {
        let Some(found) = chapter.path.as_ref().and_then(|p| chapters.get(p)) else {
            return;
        };
        // Replace from the end so earlier spans stay valid.
        let path = chapter.path.clone().unwrap_or_default();
        for f in found.iter().rev() {
            if let Directive::Widget { name } = &f.directive {
                let text = widget::html(name, &path).replace('\n', &format!("\n{}", f.indent));
                chapter.content.replace_range(f.span.clone(), &text);
            } else if let Some(text) = results.get(&f.directive) {
                let text = text.replace('\n', &format!("\n{}", f.indent));
                chapter.content.replace_range(f.span.clone(), &text);
            }
        }
    });
    Ok(book)
}

/// The results of `sites` (none of them widgets), and the errors of those
/// that fail; with [`Missing::LeaveOut`], only those already cached.
pub fn results_for(
    book_root: &Path,
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
        program_results(book_root, programs, timeout, missing)?
    };
    if !wrong_answers.is_empty() {
        let (shown, failed) = wrong_answer_results(book_root, wrong_answers, settings, missing)?;
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
    book_root: &Path,
    sites: BTreeMap<Directive, Vec<Site>>,
    settings: &Settings,
    missing: Missing,
) -> Result<Results, String> {
    let ws = Workspace::load(book_root)?;
    let root = ws.root.clone();
    let mut results = BTreeMap::new();
    let mut errors = Vec::new();
    let mut wanted = Vec::new();
    // Asked once, and only when the setting allows a note instead.
    let mut miri_missing = None;
    for (directive, where_used) in sites {
        let Directive::WrongAnswer { package } = &directive else {
            continue;
        };
        match wrong_answer_check::by_package(&root, package) {
            Ok(answer) => {
                let needs_miri = matches!(answer.rejected_by, RejectedBy::Miri { .. });
                if needs_miri && settings.note_without_miri {
                    let missing = miri_missing
                        .get_or_insert_with(|| wrong_answer_check::miri_ready(&root).is_err());
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
        let found = wrong_answer_check::cached_rejections(&root, &ws.target_dir, &answers);
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
        &root,
        &ws.target_dir,
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
        "> Only Miri catches this mistake, and Miri is not installed here, so its \
         report is not shown. `cargo workbook miri --install` installs it; then \
         rebuild the book, or run `cargo workbook wrong-answers {package}`."
    )
}
