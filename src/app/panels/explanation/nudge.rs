//! *Move it by hand*, in the explanation panel: the selected weight (or
//! input pixel) on a slider. The engine runs the step again with the value
//! moved by Δ, and the panel draws what follows: the loss's curve L(w + Δ)
//! under the tangent whose slope backpropagation recorded, the secant
//! through L(w ± Δ) — the finite-difference check, drawn as the nudge —
//! and, live, the layer's output moving (by Δ times the inputs the weight
//! meets), its dF and the sample's probabilities.

use egui::{RichText, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints, Points};

use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::state::Nudge;
use crate::app::widgets::heatmap::{ColorScale, Heatmap, LINKED, SELECTION};
use crate::engine::nudge::Knob;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::i18n::tr;
use crate::teach::explain::CellRef;
use crate::trf;

/// The section: closed until asked for, then the slider, the plot and the
/// maps of the step moved by the slider's Δ.
pub fn nudge_ui(ui: &mut Ui, cx: &mut Cx, t: &Trace, cell: &CellRef) {
    let Some((knob, _)) = Nudge::key(t, cell) else {
        return;
    };
    ui.separator();
    let pixel = matches!(knob, Knob::Pixel { .. });
    let title = if pixel {
        tr("↔ Move this pixel by hand")
    } else {
        tr("↔ Move this weight by hand")
    };
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .id_salt("nudge")
        .show(ui, |ui| {
            // Each batch of a run is a new step: moving one by hand waits
            // for a pause (else every frame would start the curve again).
            if cx.state.running() {
                ui.label(tr("Pause training to move it by hand."));
                return;
            }
            let nudge = cx.state.nudge.as_ref().filter(|n| n.is_for(t, cell));
            let Some(nudge) = nudge else {
                // Opened on a new cell or a new step: start at Δ = 0.
                cx.command(UiCommand::Nudge(Some((cell.clone(), 0.0))));
                ui.spinner();
                return;
            };
            body_ui(ui, cx, t, nudge, &knob);
        });
}

fn body_ui(ui: &mut Ui, cx: &mut Cx, t: &Trace, nudge: &Nudge, knob: &Knob) {
    let (Some(value), Some(slope), Some(loss)) = (knob.value(t), knob.gradient(t), t.loss) else {
        return;
    };
    let pixel = matches!(knob, Knob::Pixel { .. });
    let v = if pixel { "x" } else { "w" };
    let name = match knob {
        Knob::Weight { layer, index } => format!("{}.weight{index:?}", t.names[*layer]),
        Knob::Pixel { index } => format!("input{index:?}"),
    };
    ui.label(RichText::new(format!("{v} = {name} = {value:.4} + Δ")).monospace());
    let mut delta = nudge.delta;
    ui.horizontal(|ui| {
        // As wide as the panel allows: a drag is the point.
        ui.spacing_mut().slider_width = (ui.available_width() - 200.0).max(80.0);
        let slider = egui::Slider::new(&mut delta, -nudge.range..=nudge.range)
            .text("Δ")
            .fixed_decimals(3);
        if ui.add(slider).changed() {
            cx.command(UiCommand::Nudge(Some((nudge.cell.clone(), delta))));
        }
        if ui.button("Δ = 0").clicked() {
            cx.command(UiCommand::Nudge(Some((nudge.cell.clone(), 0.0))));
        }
        if nudge.busy {
            ui.spinner();
        }
    });
    let (l0, g, r) = (f64::from(loss), f64::from(slope), f64::from(nudge.range));
    let live = nudge.live.as_deref();
    Plot::new("nudge plot")
        .height(160.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .x_axis_label("Δ")
        .legend(Legend::default().position(egui_plot::Corner::LeftTop))
        .show(ui, |plot| {
            if let Some(curve) = &nudge.curve {
                plot.line(
                    Line::new(format!("L({v} + Δ)"), PlotPoints::from(curve.clone())).width(2.5),
                );
            }
            plot.line(
                Line::new(
                    tr("tangent: backpropagation's slope"),
                    PlotPoints::from(vec![[-r, l0 - g * r], [r, l0 + g * r]]),
                )
                .color(SELECTION),
            );
            if let Some(l) = live.filter(|l| l.delta != 0.0) {
                let d = f64::from(l.delta);
                let (s, mid) = ((l.plus - l.minus) / (2.0 * d), (l.plus + l.minus) / 2.0);
                plot.line(
                    Line::new(
                        tr("secant: the finite difference at step Δ"),
                        PlotPoints::from(vec![[-r, mid - s * r], [r, mid + s * r]]),
                    )
                    .color(LINKED)
                    .style(egui_plot::LineStyle::dashed_loose()),
                );
                plot.points(
                    Points::new(
                        format!("L({v} ± Δ)"),
                        PlotPoints::from(vec![[-d, l.minus], [d, l.plus]]),
                    )
                    .radius(5.0)
                    .color(LINKED),
                );
            }
        });
    let Some(l) = live else {
        return;
    };
    let d = f64::from(l.delta);
    let engine_loss = l.trace.loss.map_or(f64::NAN, f64::from);
    ui.label(
        RichText::new(trf!(
            "L({v} + Δ) = {loss}, at Δ = 0: {l0}",
            v = v,
            loss = format!("{engine_loss:.6}"),
            l0 = format!("{l0:.6}")
        ))
        .monospace(),
    );
    ui.label(
        RichText::new(trf!(
            "the slope predicts L({v}) + Δ·{slope} = {predicted}",
            v = v,
            // A negative factor in brackets, with a true minus sign.
            slope = if g < 0.0 {
                format!("(−{:.5})", -g)
            } else {
                format!("{g:.5}")
            },
            predicted = format!("{:.6}", l0 + g * d)
        ))
        .monospace(),
    );
    if l.delta != 0.0 {
        ui.label(
            RichText::new(trf!(
                "(L({v}+Δ) − L({v}−Δ)) / 2Δ = {secant}; backpropagation: {slope}",
                v = v,
                secant = format!("{:.5}", (l.plus - l.minus) / (2.0 * d)),
                slope = format!("{g:.5}")
            ))
            .monospace()
            .strong(),
        );
    }
    ui.label(
        RichText::new(tr(
            "Near Δ = 0 the secant lies on the tangent: that is what the gradient means. Further out the curve bends (a ReLU switching, a pooling window changing its winner).",
        ))
        .weak(),
    );
    // The live maps would show the right gradient beside a tampered one:
    // a bug hunt keeps to the loss, as the finite-difference check does.
    if cx.state.bug.is_some() {
        return;
    }
    if l.delta == 0.0 {
        ui.label(tr(
            "Move the slider: the layer's output, its dF and the sample's probabilities follow.",
        ));
        return;
    }
    live_maps_ui(ui, cx, t, &l.trace, knob);
}

/// The output the knob moves, its gradient moved, and the sample's
/// probabilities, each with the step's own beside it.
fn live_maps_ui(ui: &mut Ui, cx: &mut Cx, t: &Trace, moved: &Trace, knob: &Knob) {
    let n = match knob {
        Knob::Pixel { index } => index[0],
        Knob::Weight { .. } => cx.state.shown_sample(),
    };
    let width = ui.available_width();
    // The layer the knob feeds, and the channel of its output it moves.
    let (layer, channel) = match knob {
        Knob::Weight { layer, index } => (*layer, index[0]),
        Knob::Pixel { .. } => (0, cx.state.channels[0]),
    };
    if let (Some(before), Some(after)) = (
        t.layers.get(layer).and_then(|l| l.out.as_deref()),
        moved.layers.get(layer).and_then(|l| l.out.as_deref()),
    ) {
        if let Some((change, rows, cols)) = plane_change(before, after, n, channel) {
            ui.label(
                RichText::new(trf!(
                    "How {layer}'s output moved (sample {n}, channel {c}): y({v} + Δ) − y({v})",
                    layer = t.names[layer],
                    n = n,
                    c = channel,
                    v = if matches!(knob, Knob::Pixel { .. }) {
                        "x"
                    } else {
                        "w"
                    }
                ))
                .strong(),
            );
            // Small cells: the panel is narrow and the maps below matter too.
            let cell = (width / cols as f32).min(18.0);
            let scale = ColorScale::diverging(&change);
            crate::app::widgets::heatmap::legend_ui(ui, scale);
            Heatmap::new(&change, rows, cols, tr("the output's change"))
                .scale(scale)
                .cell_size(cell)
                .numbers(cell >= 30.0)
                .show(ui);
        }
    }
    if let Knob::Weight { layer, index } = knob {
        if let (Some(before), Some(after), &[o, c, u, w]) = (
            t.layers[*layer].weight_grad.as_deref(),
            moved.layers[*layer].weight_grad.as_deref(),
            &index[..],
        ) {
            if before.ndim() == 4 {
                let k = before.shape()[2];
                let plane = |g: &Tensor| -> Vec<f32> {
                    (0..k * k).map(|i| g[[o, c, i / k, i % k]]).collect()
                };
                let (was, now) = (plane(before), plane(after));
                let scale = ColorScale::diverging(&[was.clone(), now.clone()].concat());
                let cell = ((width - 16.0) / (2 * k) as f32).min(48.0);
                ui.horizontal_top(|ui| {
                    for (values, title) in
                        [(&was, tr("dF at Δ = 0")), (&now, tr("dF with the nudge"))]
                    {
                        ui.vertical(|ui| {
                            ui.label(title);
                            Heatmap::new(values, k, k, title)
                                .scale(scale)
                                .cell_size(cell)
                                .selected(Some((u, w)))
                                .show(ui);
                        });
                    }
                });
            }
        }
    }
    probabilities_ui(ui, t, moved, n);
}

/// Sample `n`, channel `c` of two `[N, C, H, W]` (or `[N, F]`) outputs:
/// `after − before`, with its rows and columns.
fn plane_change(
    before: &Tensor,
    after: &Tensor,
    n: usize,
    c: usize,
) -> Option<(Vec<f32>, usize, usize)> {
    if before.shape() != after.shape() || n >= before.shape()[0] {
        return None;
    }
    match *before.shape() {
        [_, cs, h, w] if c < cs => Some((
            (0..h * w)
                .map(|i| after[[n, c, i / w, i % w]] - before[[n, c, i / w, i % w]])
                .collect(),
            h,
            w,
        )),
        [_, f] => Some((
            (0..f).map(|i| after[[n, i]] - before[[n, i]]).collect(),
            1,
            f,
        )),
        _ => None,
    }
}

/// The sample's ten probabilities: the step's (grey) and with the nudge.
fn probabilities_ui(ui: &mut Ui, t: &Trace, moved: &Trace, n: usize) {
    let (Some(before), Some(after)) = (t.probs.as_deref(), moved.probs.as_deref()) else {
        return;
    };
    if before.ndim() != 2 || n >= before.shape()[0] || before.shape() != after.shape() {
        return;
    }
    let k = before.shape()[1];
    ui.label(
        RichText::new(trf!(
            "Sample {n}'s probabilities: the step's (grey) and with the nudge",
            n = n
        ))
        .strong(),
    );
    // Painted, not plotted: two bars a digit, the digit under them (an
    // egui_plot bar chart costs the browser's download more than it shows).
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width().min(360.0), 100.0),
        egui::Sense::hover(),
    );
    let painter = ui.painter_at(rect);
    let (top, base) = (rect.top() + 4.0, rect.bottom() - 16.0);
    let slot = rect.width() / k as f32;
    for j in 0..k {
        let left = rect.left() + j as f32 * slot;
        for (p, shift, colour) in [(before, 0.15, egui::Color32::GRAY), (after, 0.5, LINKED)] {
            let height = (base - top) * p[[n, j]].clamp(0.0, 1.0);
            let bar = egui::Rect::from_min_max(
                egui::pos2(left + shift * slot, base - height),
                egui::pos2(left + (shift + 0.33) * slot, base),
            );
            painter.rect_filled(bar, 1.0, colour);
        }
        painter.text(
            egui::pos2(left + 0.5 * slot, base + 2.0),
            egui::Align2::CENTER_TOP,
            j.to_string(),
            egui::FontId::proportional(12.0),
            ui.visuals().text_color(),
        );
    }
    painter.hline(
        rect.x_range(),
        base,
        egui::Stroke::new(1.0, ui.visuals().weak_text_color()),
    );
}
