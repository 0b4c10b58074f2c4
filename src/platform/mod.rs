//! The one place the desktop and the browser differ, below the app: how a
//! long task gives the page its frames back, how a file is saved (a dialog
//! and a write, or a download) and picked, what link a moment is shared as.
//! The app calls these names on both targets; the entry points
//! (`cli`, `web`) sit above it.

pub mod socket;

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::*;

/// rfd returns `None` both when the user cancels and when there is no
/// dialog at all (no desktop portal, no zenity). Without a dialog it
/// returns within milliseconds; nobody cancels a real dialog that fast.
pub const NO_DIALOG_WITHIN: std::time::Duration = std::time::Duration::from_millis(300);
