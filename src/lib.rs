//! backprop-viz: a CPU CNN engine that records every number of a training
//! step, and the tools around it (data, files, command line, app).

// std's files have no Drop in the browser's build, where the file code is
// compiled but never reached; the drops that close them on the desktop stay.
#![cfg_attr(target_arch = "wasm32", allow(clippy::drop_non_drop))]

pub mod app;
pub mod check;
pub mod class;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod data;
pub mod engine;
pub mod i18n;
pub mod io;
pub mod platform;
pub mod presets;
pub mod teach;
pub mod training;
#[cfg(target_arch = "wasm32")]
pub mod web;
