//! Drawing helpers the panels and views share: the heatmap, the equation of
//! maps, the drawing pad and the animation bar. Each follows egui's
//! `toggle_switch.rs`: size, allocate, interact, paint.

pub mod animation_bar;
pub mod draw_pad;
pub mod equation;
pub mod heatmap;
