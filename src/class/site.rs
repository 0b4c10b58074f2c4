//! The browser app's files, served by hand: only regular files inside the
//! site folder, by a path of plain segments (no `..`, no hidden files, no
//! percent-escapes), never through a symlink that leads out of the folder,
//! never a folder listing. Anything else is 404.
//!
//! Files are read once and kept in memory (checked against their size and
//! time on every request): a room of phones loading the 8 MB wasm at once
//! then shares one copy instead of each request holding its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;

/// The largest file served.
const MAX_FILE: u64 = 64 * 1024 * 1024;
/// The most kept in memory; files beyond are read for each request.
const MAX_CACHED: u64 = 128 * 1024 * 1024;
/// The longest path looked at, in bytes.
const MAX_PATH: usize = 512;

/// Where the site is looked for when `--site` is not given, in order:
/// beside the program, where the package installs it, what `web/build.sh`
/// builds in a source tree.
pub fn default_site() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("site")));
    beside
        .into_iter()
        .chain([
            PathBuf::from("/usr/share/backprop-viz/site"),
            PathBuf::from("target/site"),
        ])
        .find(|dir| dir.join("index.html").is_file())
}

struct Cached {
    len: u64,
    modified: Option<SystemTime>,
    bytes: Bytes,
}

pub struct Site {
    /// Canonical; `None`: the app is not built, `/` says so.
    root: Option<PathBuf>,
    cache: Mutex<(HashMap<PathBuf, Cached>, u64)>,
}

impl Site {
    /// `root` must be a folder; it is canonicalized so that every file can
    /// be checked to lie inside it.
    pub fn new(root: Option<&Path>) -> std::io::Result<Site> {
        let root = match root {
            Some(dir) => {
                let dir = std::fs::canonicalize(dir)?;
                if !dir.is_dir() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("{} is not a folder", dir.display()),
                    ));
                }
                Some(dir)
            }
            None => None,
        };
        Ok(Site {
            root,
            cache: Mutex::new((HashMap::new(), 0)),
        })
    }

    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The response to `GET`/`HEAD` of `path` (the URI's path, no query).
    pub async fn respond(self: &std::sync::Arc<Self>, method: &Method, path: &str) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return not_found();
        }
        let Some(root) = self.root.clone() else {
            return if path == "/" {
                reply(
                    "text/html; charset=utf-8",
                    Bytes::from_static(NOT_BUILT.as_bytes()),
                )
            } else {
                not_found()
            };
        };
        let Some(relative) = relative_path(path) else {
            return not_found();
        };
        let site = self.clone();
        let file = tokio::task::spawn_blocking(move || site.read(&root, &relative)).await;
        match file {
            Ok(Some((bytes, kind))) => reply(kind, bytes),
            _ => not_found(),
        }
    }

    /// The file's bytes and type, if it is a regular file inside `root`.
    fn read(&self, root: &Path, relative: &Path) -> Option<(Bytes, &'static str)> {
        // canonicalize resolves every symlink: a link leading out of the
        // site is caught by the prefix check.
        let path = std::fs::canonicalize(root.join(relative)).ok()?;
        if !path.starts_with(root) {
            return None;
        }
        let meta = std::fs::metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > MAX_FILE {
            return None;
        }
        let kind = content_type(&path);
        let modified = meta.modified().ok();
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.0.get(&path) {
            if c.len == meta.len() && c.modified == modified {
                return Some((c.bytes.clone(), kind));
            }
        }
        drop(cache);
        let bytes = Bytes::from(std::fs::read(&path).ok()?);
        let len = bytes.len() as u64;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let (files, total) = &mut *cache;
        if let Some(old) = files.remove(&path) {
            *total -= old.len;
        }
        if *total + len <= MAX_CACHED {
            *total += len;
            files.insert(
                path,
                Cached {
                    len,
                    modified,
                    bytes: bytes.clone(),
                },
            );
        }
        Some((bytes, kind))
    }
}

/// The request path as a relative file path, if every segment is plain:
/// letters, digits, `-`, `_`, `.`, not starting with a dot. `/` is
/// `index.html`.
fn relative_path(path: &str) -> Option<PathBuf> {
    if path == "/" {
        return Some(PathBuf::from("index.html"));
    }
    if path.len() > MAX_PATH {
        return None;
    }
    let mut out = PathBuf::new();
    for segment in path.strip_prefix('/')?.split('/') {
        let plain = !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !plain {
            return None;
        }
        out.push(segment);
    }
    Some(out)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        // The MNIST files: the app unpacks them itself, so they go as they
        // are, without a Content-Encoding the browser would undo.
        Some("gz") => "application/gzip",
        _ => "application/octet-stream",
    }
}

fn reply(kind: &'static str, bytes: Bytes) -> Response {
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // The service worker keeps the app offline; the server always answers
    // with what is on disk now.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

pub fn not_found() -> Response {
    let mut r = Response::new(Body::from("not found\n"));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// `/` when no site was found.
const NOT_BUILT: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\">
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">
<title>backprop-viz class</title></head>
<body style=\"font-family: sans-serif; max-width: 36em; margin: 2em auto; padding: 0 1em\">
<h1>The class is running, but the browser app is not built</h1>
<p>This server found no site to serve. In the source tree, build it with
<code>web/build.sh</code> (it makes <code>target/site</code>), then start
<code>backprop-viz class</code> again from the source tree, or pass
<code>--site DIR</code> with the built site's folder.</p>
</body></html>
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_paths_name_files() {
        assert_eq!(relative_path("/"), Some("index.html".into()));
        assert_eq!(
            relative_path("/data/mnist/t10k-labels-idx1-ubyte.gz"),
            Some("data/mnist/t10k-labels-idx1-ubyte.gz".into())
        );
        for bad in [
            "/../Cargo.toml",
            "/data/../../x",
            "/%2e%2e/x",
            "/.git/config",
            "//etc/passwd",
            "/data/",
            "/a\\b",
            "relative",
        ] {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
        assert_eq!(
            content_type(Path::new("backprop_viz_bg.wasm")),
            "application/wasm"
        );
        assert_eq!(content_type(Path::new("x.gz")), "application/gzip");
    }
}
