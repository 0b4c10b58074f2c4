//! backprop-viz: a CPU CNN engine that records every number of a training
//! step, and the tools around it (data, files, command line, app).

pub mod animation;
pub mod app;
pub mod check;
pub mod cli;
pub mod data;
pub mod engine;
pub mod explain;
pub mod i18n;
pub mod io;
pub mod presets;
pub mod training;
