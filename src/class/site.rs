//! The browser app's files, served by hand: only regular files inside the
//! site folder, by a path of plain segments (no `..`, no hidden files, no
//! percent-escapes), never through a symlink that leads out of the folder,
//! never a folder listing. Anything else is 404.
//!
//! Files are read once and kept in memory (checked against their size and
//! time on every request): a room of phones loading the 8 MB wasm at once
//! then shares one copy instead of each request holding its own.
//!
//! Text and code (the wasm, the JavaScript, the page, JSON, the model) go
//! gzip-encoded to a client whose `Accept-Encoding` takes gzip: 8.6 MB of
//! wasm is 3.2 MB on the room's Wi-Fi. Each file is compressed once, by the
//! first request that takes gzip (on a blocking thread; the requests that
//! arrive meanwhile wait for that one copy), and the copy is kept beside the
//! raw bytes, counted in the same cache limit. A file the cache has no room
//! for, and the MNIST files (already gzip, which the app unpacks itself),
//! go as they are.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use flate2::write::GzEncoder;
use flate2::Compression;

/// The largest file served.
const MAX_FILE: u64 = 64 * 1024 * 1024;
/// The most kept in memory; files beyond are read for each request.
const MAX_CACHED: u64 = 128 * 1024 * 1024;
/// The longest path looked at, in bytes.
const MAX_PATH: usize = 512;
/// gzip's level. Each file is compressed once, so the slowest and smallest:
/// the 8.6 MB wasm is 3,218,761 bytes in ~1 s (level 6: 3,225,330 in
/// ~0.5 s; 6.5 KB more for each of 300 students).
const GZIP_LEVEL: u32 = 9;

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

/// The gzip copy of a cached file, made once: `None` inside when it is no
/// smaller than the file or the cache had no room for it.
type Gzipped = Arc<OnceLock<Option<Bytes>>>;

struct Cached {
    len: u64,
    modified: Option<SystemTime>,
    bytes: Bytes,
    gzip: Gzipped,
    /// The bytes of `gzip` counted in the cache's total.
    gzip_len: u64,
}

/// A file to send: its bytes, its type, and its gzip copy when the client
/// takes gzip and the file has one.
struct File {
    bytes: Bytes,
    kind: &'static str,
    compressible: bool,
    gzip: Option<Bytes>,
}

pub struct Site {
    /// Canonical; `None`: the app is not built, `/` says so.
    root: Option<PathBuf>,
    /// The files kept, and the bytes they hold (gzip copies included).
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

    /// The response to `GET`/`HEAD` of `path` (the URI's path, no query);
    /// `headers` are the request's (its `Accept-Encoding`).
    pub async fn respond(
        self: &Arc<Self>,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Response {
        if method != Method::GET && method != Method::HEAD {
            return not_found();
        }
        let Some(root) = self.root.clone() else {
            return if path == "/" {
                reply(File {
                    bytes: Bytes::from_static(NOT_BUILT.as_bytes()),
                    kind: "text/html; charset=utf-8",
                    compressible: false,
                    gzip: None,
                })
            } else {
                not_found()
            };
        };
        let Some(relative) = relative_path(path) else {
            return not_found();
        };
        let gzip = accepts_gzip(headers);
        let site = self.clone();
        let file = tokio::task::spawn_blocking(move || site.read(&root, &relative, gzip)).await;
        match file {
            Ok(Some(file)) => reply(file),
            _ => not_found(),
        }
    }

    /// The file, if it is a regular file inside `root`; with its gzip copy
    /// (made now if it is the first time) when `gzip` and it has one.
    fn read(&self, root: &Path, relative: &Path, gzip: bool) -> Option<File> {
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
        let compressible = compressible(&path);
        let (bytes, copy) = self.bytes(&path, &meta)?;
        let gzip = match copy {
            Some(copy) if gzip && compressible => copy
                .get_or_init(|| self.compress(&path, &copy, &bytes))
                .clone(),
            _ => None,
        };
        Some(File {
            bytes,
            kind,
            compressible,
            gzip,
        })
    }

    /// The file's bytes, from the cache or the disk, and the place of its
    /// gzip copy if it is cached.
    fn bytes(&self, path: &Path, meta: &std::fs::Metadata) -> Option<(Bytes, Option<Gzipped>)> {
        let modified = meta.modified().ok();
        let fresh = |c: &Cached, len: u64| c.len == len && c.modified == modified;
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.0.get(path).filter(|c| fresh(c, meta.len())) {
            return Some((c.bytes.clone(), Some(c.gzip.clone())));
        }
        drop(cache);
        let bytes = Bytes::from(std::fs::read(path).ok()?);
        let len = bytes.len() as u64;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let (files, total) = &mut *cache;
        // Another request read it meanwhile: one copy (and one gzip) for
        // both.
        if let Some(c) = files.get(path).filter(|c| fresh(c, len)) {
            return Some((c.bytes.clone(), Some(c.gzip.clone())));
        }
        if let Some(old) = files.remove(path) {
            *total -= old.len + old.gzip_len;
        }
        if *total + len > MAX_CACHED {
            return Some((bytes, None));
        }
        *total += len;
        let gzip = Gzipped::default();
        files.insert(
            path.to_path_buf(),
            Cached {
                len,
                modified,
                bytes: bytes.clone(),
                gzip: gzip.clone(),
                gzip_len: 0,
            },
        );
        Some((bytes, Some(gzip)))
    }

    /// `bytes` gzip-encoded, if smaller, and counted in the cache if the
    /// cache has room for it (`None` otherwise: the file goes as it is).
    fn compress(&self, path: &Path, copy: &Gzipped, bytes: &[u8]) -> Option<Bytes> {
        let mut encoder = GzEncoder::new(
            Vec::with_capacity(bytes.len() / 2),
            Compression::new(GZIP_LEVEL),
        );
        encoder.write_all(bytes).ok()?;
        let gzip = Bytes::from(encoder.finish().ok()?);
        if gzip.len() >= bytes.len() {
            return None;
        }
        let len = gzip.len() as u64;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let (files, total) = &mut *cache;
        match files.get_mut(path) {
            Some(c) if Arc::ptr_eq(&c.gzip, copy) => {
                if *total + len > MAX_CACHED {
                    return None;
                }
                *total += len;
                c.gzip_len = len;
                Some(gzip)
            }
            // The file changed while it was compressed: this copy is for
            // the requests that hold it, and is dropped with them.
            _ => Some(gzip),
        }
    }
}

/// Whether the request's `Accept-Encoding` takes gzip (RFC 9110 12.5.3):
/// `gzip` (or `x-gzip`) with a q above 0, or, when gzip is not named, `*`
/// with a q above 0. No header, an empty one, `gzip;q=0`: no. A q that is
/// not a number counts as 0; gzip named twice counts at its lower q.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip: Option<u16> = None;
    let mut star: Option<u16> = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else {
            continue;
        };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let mut q = Some(1000);
            for parameter in parts {
                let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
                if name.trim().eq_ignore_ascii_case("q") {
                    q = qvalue(value.trim());
                }
            }
            let q = q.unwrap_or(0);
            let seen =
                if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                    &mut gzip
                } else if coding == "*" {
                    &mut star
                } else {
                    continue;
                };
            *seen = Some(seen.map_or(q, |before| before.min(q)));
        }
    }
    gzip.or(star).is_some_and(|q| q > 0)
}

/// A qvalue in thousandths: `0`, `0.5`, `0.001`, `1`, `1.000`.
fn qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Files worth gzip: text and code, the wasm, the model. Not images, not
/// what is compressed already (the MNIST `.gz` files).
fn compressible(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some(
            "html"
                | "js"
                | "mjs"
                | "wasm"
                | "json"
                | "webmanifest"
                | "css"
                | "svg"
                | "txt"
                | "safetensors"
        )
    )
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

/// The file's response: gzip-encoded if it comes with its gzip copy (the
/// type stays the file's: `application/wasm` is what the browser's
/// streaming compile asks for). Its Content-Length is what is sent (axum
/// sets it from the body, for HEAD too).
fn reply(file: File) -> Response {
    let (body, gzip) = match file.gzip {
        Some(gzip) => (gzip, true),
        None => (file.bytes, false),
    };
    let mut r = Response::new(Body::from(body));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.kind));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if file.compressible {
        // A cache between (or the browser's) must not hand the gzip copy
        // to a client that did not ask for it.
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
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

    fn accept(values: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        accepts_gzip(&headers)
    }

    #[test]
    fn accept_encoding_is_read_with_its_q_values() {
        for yes in [
            "gzip",
            "GZip",
            "x-gzip",
            "gzip, deflate, br, zstd",
            "br;q=1.0, gzip;q=0.8, *;q=0.1",
            "gzip;q=0.001",
            "gzip ; q=1",
            "gzip;Q=0.5",
            "*",
            "br, *;q=0.5",
            "deflate, gzip;q=1.000",
        ] {
            assert!(accept(&[yes]), "{yes}");
        }
        for no in [
            "",
            "identity",
            "br, deflate",
            "gzip;q=0",
            "gzip;q=0.0",
            "gzip;q=0.000",
            "gzip;q=0, *",
            "*;q=0.5, gzip;q=0",
            "*;q=0",
            "gzipped",
            "gzip;q=2",
            "gzip;q=1.5",
            "gzip;q=0.0001",
            "gzip;q=high",
            "gzip, gzip;q=0",
        ] {
            assert!(!accept(&[no]), "{no}");
        }
        assert!(!accept(&[]), "no header: as it is");
        // Several header lines are one list.
        assert!(accept(&["br", "gzip"]));
        assert!(!accept(&["gzip", "gzip;q=0"]));
        assert!(compressible(Path::new("backprop_viz_bg.wasm")));
        assert!(compressible(Path::new("pretrained.safetensors")));
        assert!(compressible(Path::new("index.html")));
        assert!(!compressible(Path::new(
            "data/mnist/t10k-labels-idx1-ubyte.gz"
        )));
        assert!(!compressible(Path::new("icon.png")));
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out).unwrap();
        out
    }

    #[test]
    fn each_file_is_compressed_once_and_counted_in_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let wasm: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        std::fs::write(dir.path().join("app_bg.wasm"), &wasm).unwrap();
        std::fs::write(dir.path().join("t.gz"), &wasm).unwrap();
        let site = Site::new(Some(dir.path())).unwrap();
        let root = site.root().unwrap().to_path_buf();
        let read = |name: &str, gzip: bool| site.read(&root, Path::new(name), gzip).unwrap();

        let raw = read("app_bg.wasm", false);
        assert_eq!(raw.bytes, wasm);
        assert!(raw.gzip.is_none() && raw.compressible);
        assert_eq!(site.cache.lock().unwrap().1, wasm.len() as u64);
        let first = read("app_bg.wasm", true);
        let gzip = first.gzip.clone().unwrap();
        assert!(gzip.len() < wasm.len() / 4, "{}", gzip.len());
        assert_eq!(gunzip(&gzip), wasm);
        assert_eq!(first.kind, "application/wasm");
        let again = read("app_bg.wasm", true).gzip.unwrap();
        assert_eq!(
            again.as_ptr(),
            gzip.as_ptr(),
            "the same copy, not a new one"
        );
        assert_eq!(
            site.cache.lock().unwrap().1,
            (wasm.len() + gzip.len()) as u64
        );
        // Already gzip: never again.
        let gz = read("t.gz", true);
        assert!(gz.gzip.is_none() && !gz.compressible);

        // A changed file: its old copies leave the count, the new one is made.
        let smaller = &wasm[..wasm.len() / 2];
        std::fs::write(dir.path().join("app_bg.wasm"), smaller).unwrap();
        let changed = read("app_bg.wasm", true);
        assert_eq!(changed.bytes, smaller);
        let new_gzip = changed.gzip.unwrap();
        assert_eq!(gunzip(&new_gzip), smaller);
        assert_eq!(
            site.cache.lock().unwrap().1,
            (wasm.len() + smaller.len() + new_gzip.len()) as u64
        );
    }
}
