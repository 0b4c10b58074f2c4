//! How the app teaches a step, with no window: how a number was computed
//! (`explain`), the sums as they form (`animation`), the questions of
//! Predict mode and their marking (`predict`), the learner's record
//! (`record`), the guided lesson's steps (`lesson`) and the answer's
//! notation (`notation`). Everything here reads a recorded trace and is
//! tested without egui; `app` only draws it.

pub mod animation;
pub mod explain;
pub mod lesson;
pub mod notation;
pub mod predict;
pub mod record;
