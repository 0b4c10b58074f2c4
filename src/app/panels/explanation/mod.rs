//! The explanation panel: how the selected number was computed, from the
//! trace, with the finite-difference check for a weight.

use egui::{RichText, Ui};

pub mod nudge;
pub mod try_it;

use crate::app::command::{FileAction, UiCommand};
use crate::app::cx::Cx;
use crate::app::style::ERROR;
use crate::app::widgets::heatmap::fmt_value;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::i18n::tr;
use crate::teach::explain::{explain, CellRef, Explanation as Explained, Listing};
use crate::trf;
use try_it::TryIt;

/// The explanation panel: what the learner is working out in *Try it
/// yourself*, when it is open.
#[derive(Debug, Default)]
pub struct Explanation {
    /// The explanation's numbers covered, the learner's own working checked.
    pub trying: bool,
    pub try_it: TryIt,
}

impl Explanation {
    /// The clicked cell, how it was computed, from the trace; `verdict_first`
    /// in the classroom's drawer.
    pub fn ui(&mut self, ui: &mut Ui, cx: &mut Cx, verdict_first: bool) {
        // A prediction just revealed is marked here, beside the view it was
        // about, whose layout it never moves.
        crate::app::widgets::prediction::verdict_ui(ui, cx);
        ui.heading(tr("How was this number computed?"));
        let state = cx.state;
        let (Some(s), Some(cell)) = (state.snapshot.as_ref(), state.selection().cloned()) else {
            ui.label(tr("Click any cell of a dF map, a delta or a feature map: this panel shows the sum of products that made it, with the real numbers."));
            return;
        };
        let Some(e) = explain(&s.trace, &cell, state.sample) else {
            ui.label(tr(
                "That cell has no computation to show yet (its phase has not run in this batch).",
            ));
            return;
        };
        // Everything wraps at the panel's width: a long formula or term never
        // widens the panel (and so never moves the views).
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Wrap);
        ui.label(RichText::new(&e.title).strong().size(18.0));
        ui.label(RichText::new(&e.formula).monospace());
        if ui
            .selectable_label(self.trying, RichText::new(tr("✍ Try it yourself")).strong())
            .on_hover_text(tr(
                "Cover the terms and the value: work the number out yourself and have it checked",
            ))
            .clicked()
        {
            self.trying = !self.trying;
        }
        ui.separator();
        if self.trying {
            self.try_it.ui(ui, state, &s.trace, &cell);
            return;
        }
        // In the classroom's drawer the verdict comes first: what a room
        // looks for (the sum equals the engine's number) stays in view, the
        // terms below it (a conv's took the drawer's height at 720p).
        if verdict_first {
            sums_ui(ui, cx, &e);
            ui.separator();
            terms_ui(ui, cx, &e);
        } else {
            terms_ui(ui, cx, &e);
            ui.separator();
            sums_ui(ui, cx, &e);
        }
        for note in &e.notes {
            ui.label(note);
        }
        if let CellRef::WeightGrad { .. } = &cell {
            gradcheck_ui(ui, cx, &cell);
            shares_ui(ui, cx, &s.trace, &cell);
        }
        nudge::nudge_ui(ui, cx, &s.trace, &cell);
        ui.separator();
        if let Some((name, tensor)) = selected_tensor(&s.trace, &cell) {
            if ui
            .button(trf!("Export {name} as CSV…", name = name))
            .on_hover_text(tr("The whole tensor this cell belongs to, one row per value: its indices, then the value"))
            .clicked()
        {
            let csv = crate::io::tensor_csv(&tensor).into_bytes();
            cx.command(UiCommand::File(FileAction::SaveCsv(name, csv)));
        }
        }
    }
}

/// The terms listed, under what they are.
fn terms_ui(ui: &mut Ui, cx: &Cx, e: &Explained) {
    ui.label(match e.listing {
        Listing::LargestOfSample => trf!(
            "largest terms for sample {sample} ({count} non-zero terms):",
            sample = cx.state.sample,
            count = e.term_count
        ),
        Listing::OnePerSample => trf!(
            "one term per sample of the batch ({count} non-zero):",
            count = e.term_count
        ),
        Listing::All => trf!(
            "every term, in order ({count} non-zero):",
            count = e.term_count
        ),
    });
    for term in &e.terms {
        ui.label(RichText::new(format!("{} = {}", term.label, fmt_value(term.value))).monospace());
    }
}

/// The sums, the trace's value and whether they agree.
fn sums_ui(ui: &mut Ui, cx: &Cx, e: &Explained) {
    let state = cx.state;
    ui.label(trf!(
        "sample {sample}'s sum: {sum}",
        sample = cx.state.sample,
        sum = fmt_sum(e.sample_sum)
    ));
    let (total, recorded) = (fmt_sum(e.total), fmt_sum(e.recorded));
    ui.label(trf!("all terms added up: {total}", total = total));
    // During a bug hunt the verdict would name the buggy layer at a
    // glance: the class compares for itself, or checks by finite
    // differences (the same words at every layer).
    let check = if state.bug.is_some() {
        tr("(a bug hunt is on: compare them yourself)")
    } else if e.agrees() && total == recorded {
        tr("✓ equals the trace")
    } else if e.agrees() {
        // Within the tolerance, yet printed differently: the engine
        // adds in another order (in blocks, fused) than the terms are
        // listed, and an f32 rounds each step.
        tr("✓ equals the trace to float rounding")
    } else {
        tr("✗ differs from the trace")
    };
    ui.label(
        RichText::new(trf!(
            "value in the trace: {value} {check}",
            value = recorded,
            check = check
        ))
        .strong(),
    );
}

/// The traced tensor a cell belongs to, with its trace name.
pub fn selected_tensor(t: &Trace, cell: &CellRef) -> Option<(String, Tensor)> {
    let named = |layer: usize, what: &str, x: &Option<std::sync::Arc<Tensor>>| {
        Some((
            format!("{}.{what}", t.names.get(layer)?),
            x.as_deref()?.clone(),
        ))
    };
    match cell {
        CellRef::WeightGrad { layer, .. } => {
            named(*layer, "weight_grad", &t.layers.get(*layer)?.weight_grad)
        }
        CellRef::Delta { layer, .. } => named(*layer, "delta", &t.layers.get(*layer)?.delta),
        CellRef::Output { layer, .. } => named(*layer, "out", &t.layers.get(*layer)?.out),
        CellRef::Input { .. } => Some(("input".into(), t.input.as_ref().clone())),
        CellRef::LossDelta { .. } => {
            Some(("logits.delta".into(), t.logits_delta.as_deref()?.clone()))
        }
    }
}

/// The proof for one weight: backpropagation's number next to a central
/// finite difference on the same batch (computed on its own thread).
/// A conv tap's batch dF as the bar of its samples' shares (the engine's
/// own, recorded with the step); a click on a share shows that sample.
fn shares_ui(ui: &mut Ui, cx: &mut Cx, t: &crate::engine::trace::Trace, cell: &CellRef) {
    let CellRef::WeightGrad { layer, index } = cell else {
        return;
    };
    let (Some(shares), Some(grad), &[o, c, u, v]) = (
        t.layers
            .get(*layer)
            .and_then(|l| l.weight_grad_shares.as_deref()),
        t.layers.get(*layer).and_then(|l| l.weight_grad.as_deref()),
        &index[..],
    ) else {
        return;
    };
    let fits = |shape: &[usize], at: &[usize]| at.iter().zip(shape).all(|(i, n)| i < n);
    if shares.ndim() != 5
        || !fits(&shares.shape()[1..], &[o, c, u, v])
        || !fits(grad.shape(), &[o, c, u, v])
    {
        return;
    }
    let values: Vec<f32> = (0..shares.shape()[0])
        .map(|n| shares[[n, o, c, u, v]])
        .collect();
    ui.separator();
    ui.label(RichText::new(tr("The batch's value, sample by sample")).strong());
    let clicked = crate::app::widgets::shares_bar::shares_ui(
        ui,
        &values,
        grad[[o, c, u, v]],
        cx.state.shown_sample(),
    )
    .clicked;
    if let Some(n) = clicked {
        cx.command(UiCommand::PickSample(n));
    }
}

fn gradcheck_ui(ui: &mut Ui, cx: &mut Cx, cell: &CellRef) {
    ui.separator();
    let checking = cx.state.gradchecking;
    if ui.add_enabled(!checking, egui::Button::new(tr("Check with finite differences"))).on_hover_text(tr("Nudge this weight by ±ε, recompute the loss on the same batch, and compare (L(w+ε) − L(w−ε)) / 2ε with backpropagation's number")).clicked() {
        cx.command(UiCommand::Gradcheck(cell.clone()));
    }
    if checking {
        ui.spinner();
    }
    match &cx.state.gradcheck {
        Some((for_cell, Some(fd))) if for_cell == cell => {
            ui.label(
                RichText::new(trf!("backpropagation: {value}", value = fd.analytic)).monospace(),
            );
            ui.label(
                RichText::new(format!(
                    "(L(w+ε) − L(w−ε)) / 2ε, ε = {}: {:.9}",
                    fd.eps, fd.numeric
                ))
                .monospace(),
            );
            ui.label(
                RichText::new(trf!(
                    "relative error: {error}",
                    error = format!("{:.1e}", fd.relative_error)
                ))
                .strong(),
            );
            // The verdict a class looking for a bug needs.
            if fd.relative_error > 1e-2 {
                ui.label(
                    RichText::new(tr(
                        "They disagree: the backward pass is wrong at this layer or above it.",
                    ))
                    .strong()
                    .color(ERROR),
                );
            } else {
                ui.label(tr("They agree: backpropagation's number is right here."));
            }
        }
        Some((for_cell, None)) if for_cell == cell => {
            ui.label(tr(
                "This weight cannot be checked in this step (its layer has no recorded weights).",
            ));
        }
        _ => {}
    }
}

/// A sum as the explanation prints it: seven significant digits, what an
/// f32 carries. Its shortest exact form would print down to the last bit,
/// where the explanation's sum (in f64, term by term) and the engine's (in
/// f32, in blocks, fused) can differ: "…961" beside "…962 ✓ equals".
pub fn fmt_sum(v: f32) -> String {
    crate::teach::notation::own_magnitude(v, 7)
}
