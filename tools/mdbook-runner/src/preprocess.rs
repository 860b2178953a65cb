//! Replaces the directives of every chapter with real results, or collects
//! every reason it cannot (each as `src/chapter.md:LINE: message`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::{Book, BookItem};

use crate::background::Background;
use crate::directive::{self, Directive};
use crate::programs::Missing;
use crate::project::Project;
use crate::results::{Settings, results_for};
use crate::site::Site;
use crate::widget;

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

    if sites.is_empty() {
        return if errors.is_empty() {
            Ok(book)
        } else {
            Err(errors)
        };
    }
    let project = match Project::load(&ctx.root) {
        Ok(project) => project,
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };

    // Widgets need no program: check their names, render them per chapter.
    let (widgets, sites): (BTreeMap<_, _>, BTreeMap<_, _>) = sites
        .into_iter()
        .partition(|(d, _)| matches!(d, Directive::Widget { .. }));
    if !widgets.is_empty() {
        match widget::known(&project.workspace.root) {
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
        match results_for(&project, sites.clone(), &settings, missing) {
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
        results.extend(background.later(project, &settings, later));
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
