//! Every word the app shows goes through here: `tr("English")` gives the
//! text in the current language, `trf!("… {name} …", name = value)` fills a
//! template's named holes after translating it. English is the key, so the
//! code reads as it did before translation and a missing entry falls back to
//! English (and is recorded, so tests can fail on it).
//!
//! The table is one list of `(English, Russian)` pairs, kept in sections by
//! the part of the app that uses them; `TABLE` joins them and a test walks
//! all of it (no empty or identical entry, the same holes on both sides).
//!
//! The language is per thread: the app sets it at the start of every frame,
//! and parallel tests in other languages do not disturb each other.

mod app_text;
mod check_text;
mod class_text;
mod errors_text;
mod explain_text;
mod lesson_text;
mod panels_text;
mod predict_text;
mod views_text;

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    /// The language's own name, as its speakers write it.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ru => "Русский",
        }
    }
}

/// The whole table: `(English, Russian)`.
pub fn table() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    [
        app_text::TEXT,
        views_text::TEXT,
        panels_text::TEXT,
        explain_text::TEXT,
        lesson_text::TEXT,
        errors_text::TEXT,
        check_text::TEXT,
        predict_text::TEXT,
        class_text::TEXT,
    ]
    .into_iter()
    .flatten()
}

thread_local! {
    static LANG: Cell<Lang> = const { Cell::new(Lang::En) };
}

/// Sets this thread's language (the app does it at the start of each frame).
pub fn set_language(lang: Lang) {
    LANG.with(|l| l.set(lang));
}

pub fn language() -> Lang {
    LANG.with(Cell::get)
}

fn russian() -> &'static HashMap<&'static str, &'static str> {
    static MAP: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    MAP.get_or_init(|| table().map(|&(en, ru)| (en, ru)).collect())
}

/// English texts asked for in Russian that the table does not have.
static MISSES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());

/// `en` in the current language.
pub fn tr(en: &'static str) -> &'static str {
    match language() {
        Lang::En => en,
        Lang::Ru => match russian().get(en) {
            Some(ru) => ru,
            None => {
                if let Ok(mut misses) = MISSES.lock() {
                    misses.insert(en);
                }
                en
            }
        },
    }
}

/// The texts looked up in Russian and not found, since the program started.
pub fn misses() -> Vec<&'static str> {
    MISSES
        .lock()
        .map(|m| m.iter().copied().collect())
        .unwrap_or_default()
}

/// Replaces each `{name}` in `template` with its value; other braces stay.
pub fn fill(template: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hole = after
            .find('}')
            .map(|close| &after[..close])
            .and_then(|name| values.iter().find(|(n, _)| *n == name));
        match hole {
            Some((name, value)) => {
                out.push_str(&value.to_string());
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The names of the `{holes}` in a template, sorted (for the table's test).
pub fn holes(template: &str) -> Vec<&str> {
    let mut names: Vec<&str> = template
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    names.sort_unstable();
    names
}

/// `trf!("Loaded {count} images", count = n)`: translate, then fill the holes.
#[macro_export]
macro_rules! trf {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::i18n::fill(
            $crate::i18n::tr($key),
            &[$((stringify!($name), &$value as &dyn ::std::fmt::Display)),*],
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_named_holes_and_keeps_other_braces() {
        let n = 3;
        assert_eq!(
            fill("{n} of {total} {x} {", &[("n", &n), ("total", &"ten")]),
            "3 of ten {x} {"
        );
        assert_eq!(holes("a {b} c {a} {} {x y}"), vec!["a", "b"]);
    }

    #[test]
    fn the_language_is_per_thread() {
        set_language(Lang::Ru);
        let other = std::thread::spawn(language).join().unwrap();
        assert_eq!(other, Lang::En);
        assert_eq!(language(), Lang::Ru);
        set_language(Lang::En);
    }
}
