//! Batch norm's backward step as an equation of maps, for the app's sample
//! and channel:
//!
//! `D_below = γ/s·D − γ/s·dβ/m − γ/s·z·dγ/m`
//!
//! the three terms drawn as maps on one scale (the second is the same in
//! every cell: moving any x moves the mean), and under them `z`, `D`, and
//! the channel's `dγ = Σ D·z` and `dβ = Σ D` over the whole batch. Every
//! number is the one the engine's backward pass computed
//! ([`crate::engine::layers::batchnorm::Terms`], recorded with the step).

use egui::{Ui, Vec2};

use super::layers::{arriving_ref, arriving_title, backward_rows, channel_ui, leaving_title};
use crate::app::cx::Cx;
use crate::app::style::note_ui;
use crate::app::widgets::animation_bar::{self, playing, sums};
use crate::app::widgets::equation::{Operand, Term};
use crate::app::widgets::heatmap::{ColorScale, NumberFormat, LINKED};
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::i18n::tr;
use crate::teach::animation::{Kind, Target};
use crate::teach::explain::CellRef;
use crate::trf;

/// Sample `n`, channel `c` of a `[N, C, H, W]` tensor.
fn plane(t: &Tensor, n: usize, c: usize) -> Vec<f32> {
    t.index_axis(ndarray::Axis(0), n)
        .index_axis(ndarray::Axis(0), c)
        .iter()
        .copied()
        .collect()
}

/// Batch norm layer `i`'s backward step.
pub fn batchnorm_backward_ui(cx: &mut Cx, ui: &mut Ui, t: &Trace, i: usize, room: Vec2) {
    let num = cx.state.numbering(&t.kinds);
    let start = ui.cursor().top();
    let n = cx.state.sample.min(t.batch_size().saturating_sub(1));
    let (Some(d), Some(below), Some(terms), Some(gamma)) = (
        t.delta_from_above(i),
        t.layers[i].delta.as_ref(),
        t.layers[i].norm_terms.as_ref(),
        t.layers[i].weight.as_ref(),
    ) else {
        return;
    };
    let &[_, channels, h, w] = d.shape() else {
        return;
    };
    let c = channel_ui(cx, ui, channels);
    let m = d.len() / channels.max(1);
    let target = Target {
        layer: i,
        sample: n,
        out: c,
        input: c,
    };
    animation_bar::controls_ui(
        cx,
        ui,
        t,
        target,
        &[(Kind::Normalize, tr("the three terms, cell by cell"))],
        None,
    );
    // Animated, D_below fills cell by cell, and the cell being added up is
    // outlined in each term.
    let frame = playing(cx.state, Kind::Normalize, target);
    let dv = plane(d, n, c);
    let (bv, pending) = match &frame {
        Some(f) => sums(f),
        None => (plane(below, n, c), None),
    };
    let outline = frame.as_ref().map(|f| f.window);
    // The clicked cell of the delta handed down, marked in every term.
    let sel = match cx.state.selection() {
        Some(CellRef::Delta { layer, index }) if *layer == i && index[..2] == [n, c] => {
            Some((index[2], index[3]))
        }
        _ => None,
    };
    let (t1, t2, t3) = (
        plane(&terms.direct, n, c),
        plane(&terms.through_mean, n, c),
        plane(&terms.through_var, n, c),
    );
    let xhat = plane(&terms.normalized, n, c);
    let stats = &terms.stats;
    let inv_std = 1.0 / (stats.var[c] + terms.eps).sqrt();
    note_ui(
        ui,
        &trf!(
            "Channel {c}, m = {m} values in the batch: μ = {mean}, σ² = {var}, s = √(σ² + ε) = {s}, γ = {gamma}, γ/s = {k}.",
            c = c,
            m = m,
            mean = format!("{:.4}", stats.mean[c]),
            var = format!("{:.4}", stats.var[c]),
            s = format!("{:.4}", 1.0 / inv_std),
            gamma = format!("{:.4}", gamma[c]),
            k = format!("{:.4}", gamma[c] * inv_std),
        ),
        true,
    );
    // The terms through the statistics are spread over all m values of
    // the channel: per cell they are often hundreds of times smaller than
    // the first, which a shared colour scale shows and a sentence says.
    let largest = |v: &[f32]| v.iter().fold(0.0f32, |a, b| a.max(b.abs()));
    note_ui(
        ui,
        &trf!(
            "dβ = Σ D = {dbeta}, dγ = Σ D·z = {dgamma}; largest here: {t1} direct, {t2} via μ, {t3} via σ².",
            dbeta = format!("{:.4}", terms.d_beta[c]),
            dgamma = format!("{:.4}", terms.d_gamma[c]),
            t1 = format!("{:.2e}", largest(&t1)),
            t2 = format!("{:.2e}", largest(&t2)),
            t3 = format!("{:.2e}", largest(&t3)),
        ),
        true,
    );
    // The three terms and their sum on one scale: their sizes compare.
    let all: Vec<f32> = [&t1, &t2, &t3, &bv]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    let scale = ColorScale::diverging(&all);
    // One colour scale (their sizes compare), each its own digits (a term
    // a thousand times smaller prints its value, not a row of zeros).
    let term = |id: &'static str, title: String, short: &str, v: &[f32]| {
        Term::map(
            Operand::new(id, title, v.to_vec(), h, w, true)
                .short(short)
                .outline(outline, LINKED)
                .selected(sel)
                .same_scale(scale, NumberFormat::for_values(v)),
        )
    };
    let first = vec![
        term(
            "direct",
            tr("γ/s · D: as if μ and σ stood still").to_string(),
            "γ/s·D",
            &t1,
        ),
        Term::Op("+".into()),
        term(
            "mean",
            tr("− γ/s · dβ/m: through the mean (every cell the same)").to_string(),
            "−γ/s·dβ/m",
            &t2,
        ),
        Term::Op("+".into()),
        term(
            "var",
            tr("− γ/s · z·dγ/m: through the variance").to_string(),
            "−γ/s·z·dγ/m",
            &t3,
        ),
        Term::Op("=".into()),
        Term::map(
            Operand::new("D_below", leaving_title(&num, t, i), bv.clone(), h, w, true)
                .short(num.delta(i))
                .outline(outline, LINKED)
                .pending(pending)
                .selected(sel)
                .same_scale(scale, NumberFormat::for_values(&bv)),
        ),
    ];
    let second = vec![
        Term::map(
            Operand::new("D", arriving_title(&num, t, i), dv, h, w, true).short(num.delta(i + 1)),
        ),
        Term::Op(tr("and").to_string()),
        Term::map(
            Operand::new(
                "xhat",
                tr("z = (x − μ)/s, the normalised input").to_string(),
                xhat,
                h,
                w,
                true,
            )
            .short("z"),
        ),
    ];
    backward_rows(cx, ui, [first, second], (room, start), |id, r, col| {
        let index = vec![n, c, r, col];
        match id {
            "D" => arriving_ref(t, i, index),
            "xhat" => CellRef::Output { layer: i, index },
            _ => CellRef::Delta { layer: i, index },
        }
    });
}
