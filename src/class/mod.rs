//! The live class: a teacher's machine serves the app and one WebSocket on
//! the room's network; students follow the teacher's moment and answer the
//! same Predict questions; the projector shows how the room answered. The
//! wire contract is `docs/CLASS-CONTRACT.md`; [`protocol`] is its one
//! reading, shared by the server, the load tool, the desktop app and the page.
//!
//! The server side (not in the browser build): [`server`] serves the site
//! and the WebSocket, [`hub`] is the class in memory and what each message
//! does, [`store`] keeps it in SQLite before anything is acknowledged,
//! [`report`] reads a class back, per question and round.

pub mod protocol;

#[cfg(not(target_arch = "wasm32"))]
mod hub;
#[cfg(not(target_arch = "wasm32"))]
pub mod load;
#[cfg(not(target_arch = "wasm32"))]
pub mod report;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;
#[cfg(not(target_arch = "wasm32"))]
mod site;
#[cfg(not(target_arch = "wasm32"))]
pub mod store;

#[cfg(not(target_arch = "wasm32"))]
pub use server::{start, ClassConfig, ClassError, ClassInfo, RunningClass};
