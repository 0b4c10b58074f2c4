//! The app's shape (docs/ARCHITECTURE.md), held by reading the source: the
//! top struct stays eframe glue, panels never reach past the state and the
//! command sink, only the reducer writes the state, the page's entry point
//! stays out of the app and the conv size rule stays in the engine. These
//! measures regressed once without anything failing; now they fail a test.

use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn src(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(path)
}

/// The code of a file without its comments (a comment may name anything).
fn code(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The field lines of `pub struct NAME { … }` in `text`.
fn fields<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let start = text
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| panic!("no struct {name}"));
    let body = &text[start..];
    let end = body.find("\n}").unwrap();
    body[..end]
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("#["))
        .collect()
}

#[test]
fn the_top_struct_is_glue_of_at_most_twelve_private_fields() {
    let text = code(&src("app/mod.rs"));
    let fields = fields(&text, "BackpropApp");
    assert!(
        fields.iter().all(|f| f.ends_with(',') && f.contains(':')),
        "every line a field: {fields:?}"
    );
    assert!(fields.len() <= 12, "{} fields: {fields:#?}", fields.len());
    let public: Vec<_> = fields.iter().filter(|f| f.starts_with("pub")).collect();
    assert!(public.is_empty(), "public fields: {public:?}");
    // No free function elsewhere changes the app (the page's test probe
    // reads it).
    for file in rust_files(&src("")) {
        let text = code(&file);
        assert!(
            !text.contains("&mut BackpropApp"),
            "{} takes the app",
            file.display()
        );
    }
}

#[test]
fn only_the_reducer_writes_the_state() {
    for file in rust_files(&src("app")) {
        let text = code(&file);
        let name = file.display().to_string();
        if name.contains("/app/command/") {
            continue;
        }
        let writes =
            text.matches("&mut AppState").count() + text.matches("&mut self.state").count();
        // The top struct hands its state to the reducer (apply, then the
        // class's sync) and nowhere else.
        let allowed = if name.ends_with("/app/mod.rs") { 2 } else { 0 };
        assert_eq!(writes, allowed, "{name} writes the state {writes} times");
    }
}

#[test]
fn panels_import_neither_each_other_nor_the_top_module() {
    let panels = src("app/panels");
    for file in rust_files(&panels) {
        if file == panels.join("mod.rs") {
            continue;
        }
        let text = code(&file);
        for forbidden in [
            "crate::app::panels",
            "crate::app::BackpropApp",
            "crate::app::{",
            "super::super::",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} imports {forbidden}",
                file.display()
            );
        }
    }
    // Views and widgets draw; they never reach up into the panels.
    for dir in ["app/views", "app/widgets"] {
        for file in rust_files(&src(dir)) {
            let text = code(&file);
            assert!(
                !text.contains("crate::app::panels") && !text.contains("crate::app::BackpropApp"),
                "{} imports a panel or the app",
                file.display()
            );
        }
    }
}

#[test]
fn nothing_in_the_app_imports_the_page_entry_point() {
    for file in rust_files(&src("app")) {
        assert!(
            !code(&file).contains("crate::web"),
            "{} imports src/web.rs",
            file.display()
        );
    }
}

#[test]
fn the_conv_size_rule_lives_in_the_engine() {
    // `h + 2 * padding - k + 1` and its strided form, however spelled.
    let rule = [
        "2 * padding -",
        "2 * p -",
        "2 * pad -",
        "- kernel + 1",
        "- kernel) / ",
    ];
    let engine = src("engine");
    for file in rust_files(&src("")) {
        if file.starts_with(&engine) {
            continue;
        }
        let text = code(&file).replace(['\n', ' '], "");
        for spelled in rule {
            assert!(
                !text.contains(&spelled.replace(' ', "")),
                "{} writes the conv size rule ({spelled})",
                file.display()
            );
        }
    }
}
