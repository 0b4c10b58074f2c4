//! The translation table, walked whole: every entry translated, no key twice,
//! the same `{holes}` on both sides, and every `tr("…")` / `trf!("…")` in the
//! source present in the table (so no Russian screen can fall back to English).

use std::collections::HashSet;

use backprop_viz::i18n::{holes, table};

#[test]
fn every_entry_is_translated_once_with_the_same_holes() {
    let mut seen = HashSet::new();
    let mut problems = Vec::new();
    for &(en, ru) in table() {
        if !seen.insert(en) {
            problems.push(format!("twice in the table: {en:?}"));
        }
        if ru.trim().is_empty() {
            problems.push(format!("no Russian for {en:?}"));
        }
        if en == ru && en.chars().any(|c| c.is_ascii_alphabetic()) {
            problems.push(format!("Russian is the English text: {en:?}"));
        }
        if holes(en) != holes(ru) {
            problems.push(format!(
                "holes differ: {en:?} has {:?}, {ru:?} has {:?}",
                holes(en),
                holes(ru)
            ));
        }
        let cyrillic = ru.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
        if !cyrillic && en.chars().filter(|c| c.is_ascii_alphabetic()).count() > 3 {
            problems.push(format!("Russian has no Cyrillic letter: {ru:?}"));
        }
    }
    assert!(
        seen.len() > 100,
        "the table has only {} entries",
        seen.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The string literals that follow `tr(` or `trf!(` in a Rust source file.
fn keys_in(source: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for opener in ["tr(", "trf!("] {
        let mut rest = source;
        while let Some(at) = rest.find(opener) {
            let before = rest[..at].chars().last();
            rest = &rest[at + opener.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue; // e.g. `attr(`, not our function
            }
            // rustfmt may put the text on the next line
            let Some(literal) = rest.trim_start().strip_prefix('"') else {
                continue; // not a literal (a variable, a call)
            };
            rest = literal;
            let mut key = String::new();
            let mut chars = rest.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => key.push('\n'),
                        Some('"') => key.push('"'),
                        Some('\\') => key.push('\\'),
                        Some('\n') => {
                            // a line continuation: the newline and the
                            // next line's indentation are not in the text
                            let tail = chars.as_str().trim_start();
                            chars = tail.chars();
                        }
                        Some(other) => {
                            key.push('\\');
                            key.push(other)
                        }
                        None => {}
                    },
                    c => key.push(c),
                }
            }
            keys.push(key);
        }
    }
    keys
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_text_the_source_asks_for_is_in_the_table() {
    let known: HashSet<&str> = table().map(|&(en, _)| en).collect();
    let mut files = Vec::new();
    rust_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut missing = Vec::new();
    let mut count = 0;
    for file in files {
        if file.components().any(|c| c.as_os_str() == "i18n") {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        for key in keys_in(&source) {
            count += 1;
            if !known.contains(key.as_str()) {
                missing.push(format!("{}: {key:?}", file.display()));
            }
        }
    }
    assert!(count > 100, "only {count} translated texts found in src/");
    assert!(
        missing.is_empty(),
        "not in the table:\n{}",
        missing.join("\n")
    );
}
