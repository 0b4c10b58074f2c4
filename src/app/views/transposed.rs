//! A transposed conv's backward step, drawn as the conv whose backward it
//! is: that conv's forward and its weight gradient, both on the delta.
//!
//! - `D_below[i] = Σ_o D[o] ⋆ F[i, o]`, the filter's taps read every S
//!   cells of D (a strided correlation: what the conv's forward computes);
//! - `dF[i, o] = Σ_batch x[i] ⋆ D[o]`, each cell of x paired with the
//!   window of D it scattered onto in the forward pass.
//!
//! The numbers are the trace's: D from the layer above, F and dF as the
//! engine used and computed them.

use egui::{Ui, Vec2};

use super::layers::{arriving_ref, arriving_title, backward_rows, leaving_title, sample_plane};
use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::style::note_ui;
use crate::app::widgets::animation_bar::{self, playing, sums};
use crate::app::widgets::equation::{Operand, Term};
use crate::app::widgets::heatmap::LINKED;
use crate::engine::layers::conv::ConvGeometry;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::teach::animation::{Kind, Target};
use crate::teach::explain::CellRef;
use crate::trf;

/// The pair of channels shown: `(i, o)`, the layer's input and output
/// channel (pickers when there are several).
fn pair_ui(cx: &mut Cx, ui: &mut Ui, g: &ConvGeometry) -> (usize, usize) {
    // In the conv `g`: the layer's input channels are g's outputs.
    let (ins, outs) = (g.cout, g.cin);
    let [a, b] = cx.state.channels;
    let (i, o) = (b.min(ins - 1), a.min(outs - 1));
    if ins > 1 || outs > 1 {
        ui.horizontal(|ui| {
            let (mut pi, mut po) = (i, o);
            if ins > 1 {
                let label = ui.label(tr("input channel i:"));
                ui.add(egui::DragValue::new(&mut pi).range(0..=ins - 1))
                    .labelled_by(label.id);
            }
            if outs > 1 {
                let label = ui.label(tr("output channel o:"));
                ui.add(egui::DragValue::new(&mut po).range(0..=outs - 1))
                    .labelled_by(label.id);
            }
            if (pi, po) != (i, o) {
                cx.command(UiCommand::PickChannels([po, pi]));
            }
        });
    }
    (i, o)
}

/// Transposed conv layer `i`'s backward step.
pub fn convtranspose_backward_ui(cx: &mut Cx, ui: &mut Ui, t: &Trace, i: usize, room: Vec2) {
    let num = cx.state.numbering(&t.kinds);
    let start = ui.cursor().top();
    let n = cx.state.sample.min(t.batch_size().saturating_sub(1));
    let (Some(g), Some(x), Some(d), Some(below), Some(f), Some(df)) = (
        t.transposed_geometry(i),
        t.layer_input(i),
        t.delta_from_above(i),
        t.layers[i].delta.as_ref(),
        t.layers[i].weight.as_ref(),
        t.layers[i].weight_grad.as_ref(),
    ) else {
        return;
    };
    let (ci, co) = pair_ui(cx, ui, &g);
    let (xv, xh, xw) = sample_plane(x, n, ci);
    let (dv, dh, dw) = sample_plane(d, n, co);
    let target = Target {
        layer: i,
        sample: n,
        out: co,
        input: ci,
    };
    animation_bar::controls_ui(
        cx,
        ui,
        t,
        target,
        &[(Kind::Scatter, tr("D_below, cell by cell"))],
        None,
    );
    // Animated, D_below fills cell by cell, the patch of D it reads
    // outlined (in D's padded grid).
    let frame = playing(cx.state, Kind::Scatter, target);
    let (bv, pending) = match &frame {
        Some(f) => sums(f),
        None => (sample_plane(below, n, ci).0, None),
    };
    // The clicked cell, marked where it is drawn.
    let picked = |layer: usize, lead: [usize; 2]| match cx.state.selection() {
        Some(CellRef::Delta { layer: l, index }) if *l == layer && index[..2] == lead => {
            Some((index[2], index[3]))
        }
        _ => None,
    };
    let (sel_below, sel_d) = (picked(i, [n, ci]), picked(i + 1, [n, co]));
    let sel_tap = match cx.state.selection() {
        Some(CellRef::WeightGrad { layer, index }) if *layer == i && index[..2] == [ci, co] => {
            Some((index[2], index[3]))
        }
        _ => None,
    };
    // The window of D a D_below cell reads: the animation's, or the
    // clicked cell's (as the animation would outline it there).
    let window = frame.as_ref().map(|f| f.window).or_else(|| {
        let (r, c) = g.padded_cell(sel_below?, (0, 0));
        Some((r, c, g.k, g.k))
    });
    let cell = frame.as_ref().map(|f| (f.cell.0, f.cell.1, 1, 1));
    let filter = |w: &crate::engine::Tensor| -> Vec<f32> {
        w.index_axis(ndarray::Axis(0), ci)
            .index_axis(ndarray::Axis(0), co)
            .iter()
            .copied()
            .collect()
    };
    let (fv, dfv) = (filter(f), filter(df));
    let k = g.k;
    let s = g.stride;
    note_ui(
        ui,
        &trf!(
            "Forward, every cell of x was scattered onto a {k}x{k} window of y, the windows {s} apart: a stride-{s} conv's backward pass.",
            k = k,
            s = s
        ),
        true,
    );
    note_ui(
        ui,
        &trf!(
            "So backward is that conv's forward pass: D read through F every {s} cells.",
            s = s
        ),
        true,
    );
    let summed = if g.cin > 1 {
        tr("⋆ F,\nevery S cells,\nΣ over o =").to_string()
    } else {
        trf!("⋆ F,\nevery {s} cells =", s = s)
    };
    let below_row = vec![
        Term::map(
            Operand::new("D", arriving_title(&num, t, i), dv.clone(), dh, dw, true)
                .short(num.delta(i + 1))
                .pad(g.p)
                .outline(window, LINKED)
                .selected(sel_d),
        ),
        Term::Op(summed),
        Term::map(
            Operand::new("F", format!("F[{ci}, {co}]"), fv, k, k, true)
                .short("F")
                .selected(sel_tap),
        ),
        Term::Op("=".into()),
        Term::map(
            Operand::new("D_below", leaving_title(&num, t, i), bv, xh, xw, true)
                .short(num.delta(i))
                .zoom(s)
                .outline(cell, LINKED)
                .pending(pending)
                .selected(sel_below),
        ),
    ];
    let grad_row = vec![
        Term::map(
            Operand::new(
                "x",
                trf!("x: {layer}'s input", layer = t.names[i]),
                xv,
                xh,
                xw,
                false,
            )
            .short("x")
            .zoom(s),
        ),
        Term::Op(trf!("⋆ {d},\nΣ batch →", d = num.delta(i + 1))),
        Term::map(
            Operand::new("dF", format!("dF[{ci}, {co}]"), dfv, k, k, true)
                .short("dF")
                .selected(sel_tap),
        ),
    ];
    backward_rows(
        cx,
        ui,
        [below_row, grad_row],
        (room, start),
        |id, r, col| match id {
            "D" => arriving_ref(t, i, vec![n, co, r, col]),
            "F" | "dF" => CellRef::WeightGrad {
                layer: i,
                index: vec![ci, co, r, col],
            },
            "x" => super::conv::input_ref(i, vec![n, ci, r, col]),
            _ => CellRef::Delta {
                layer: i,
                index: vec![n, ci, r, col],
            },
        },
    );
}
