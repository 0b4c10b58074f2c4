//! What only a page has: time slices between frames, downloads, the
//! browser's file picker, the page's own address.

use std::time::Duration;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::io::file::{FileError, Input, Problem, MAX_FILE_BYTES};

/// How long a time slice of training (or of a long job) runs before the
/// page gets to draw: half a 60 fps frame.
pub const SLICE: Duration = Duration::from_millis(8);

/// Resolves after the browser has had a turn (a zero timeout).
pub async fn next_tick() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// The page's address with this moment (also put in the address bar).
pub fn share_link(fragment: &str) -> String {
    let Some(window) = web_sys::window() else {
        return fragment.to_string();
    };
    let location = window.location();
    let base = format!(
        "{}{}",
        location.origin().unwrap_or_default(),
        location.pathname().unwrap_or_default()
    );
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(fragment));
    }
    format!("{base}{fragment}")
}

/// Saves `bytes` as a download named `name`.
pub fn download(name: &str, bytes: &[u8]) -> Result<(), String> {
    let fail = |e: JsValue| format!("cannot download {name}: {e:?}");
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| "no anchor".to_string())?;
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The browser's file picker: the files chosen, read whole (each at most
/// [`MAX_FILE_BYTES`], checked before reading); none when cancelled.
pub async fn pick_files(
    title: &str,
    filters: &[(&str, &[&str])],
    many: bool,
) -> Result<Vec<Input>, FileError> {
    let mut dialog = rfd::AsyncFileDialog::new().set_title(title);
    for (name, extensions) in filters {
        dialog = dialog.add_filter(*name, extensions);
    }
    let handles = if many {
        dialog.pick_files().await.unwrap_or_default()
    } else {
        dialog.pick_file().await.into_iter().collect()
    };
    let mut inputs = Vec::new();
    for handle in handles {
        let name = handle.file_name();
        let size = handle.inner().size() as u64;
        if size > MAX_FILE_BYTES {
            return Err(FileError::new(
                name,
                Problem::TooBig {
                    size,
                    limit: MAX_FILE_BYTES,
                },
            ));
        }
        inputs.push(Input::bytes(name, handle.read().await));
    }
    Ok(inputs)
}
