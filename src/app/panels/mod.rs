//! The panels around the layer views, one per file: each draws from the
//! app's state and asks for changes with commands.

pub mod checked;
pub mod explanation;
pub mod find_bug;
pub mod pipeline;
pub mod plots;
pub mod toolbar;
pub mod try_it;
pub mod welcome;
