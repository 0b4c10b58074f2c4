//! Drawing helpers the panels and views share: the heatmap, the equation of
//! maps, the drawing pad, the animation bar, Predict mode's question and
//! verdict, the bar of a gradient's per-sample shares and the grid of a
//! convolution's products. Each follows egui's
//! `toggle_switch.rs`: size, allocate, interact, paint.

pub mod animation_bar;
pub mod draw_pad;
pub mod equation;
pub mod heatmap;
pub mod prediction;
pub mod products;
pub mod shares_bar;
pub mod sparklines;
