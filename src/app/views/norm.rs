//! Batch norm's backward step as an equation of maps, for the app's sample
//! and channel:
//!
//! `D_below = γ/σ̂·D − γ/σ̂·dβ/m − γ/σ̂·x̂·dγ/m`
//!
//! the three terms drawn as maps on one scale (the second is the same in
//! every cell: moving any x moves the mean), and under them `x̂`, `D`, and
//! the channel's `dγ = Σ D·x̂` and `dβ = Σ D` over the whole batch. Every
//! number is the one the engine's backward pass computed
//! ([`crate::engine::layers::batchnorm::Terms`], recorded with the step).

use egui::{Ui, Vec2};

use super::layers::{arriving_ref, arriving_title, cells, channel_ui, leaving_title, mark};
use crate::app::command::UiCommand;
use crate::app::cx::Cx;
use crate::app::style::{compact, note_ui};
use crate::app::widgets::equation::{row_ui, Operand, Term};
use crate::app::widgets::heatmap::{ColorScale, NumberFormat};
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::i18n::tr;
use crate::teach::explain::CellRef;
use crate::teach::lesson::Mark;
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
    let (dv, bv) = (plane(d, n, c), plane(below, n, c));
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
            "Channel {c} over the batch's {m} values: μ = {mean}, σ² = {var}, γ = {gamma}, so γ/σ̂ = {k}. dβ = Σ D = {dbeta}, dγ = Σ D·x̂ = {dgamma}.",
            c = c,
            m = m,
            mean = format!("{:.4}", stats.mean[c]),
            var = format!("{:.4}", stats.var[c]),
            gamma = format!("{:.4}", gamma[c]),
            k = format!("{:.4}", gamma[c] * inv_std),
            dbeta = format!("{:.4}", terms.d_beta[c]),
            dgamma = format!("{:.4}", terms.d_gamma[c]),
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
    let format = NumberFormat::for_values(&all);
    let term = |id: &'static str, title: String, short: &str, v: &[f32]| {
        Term::map(
            Operand::new(id, title, v.to_vec(), h, w, true)
                .short(short)
                .same_scale(scale.clone(), format),
        )
    };
    let first = vec![
        term(
            "direct",
            tr("γ/σ̂ · D: as if μ and σ stood still").to_string(),
            "γ/σ̂·D",
            &t1,
        ),
        Term::Op("+".into()),
        term(
            "mean",
            tr("− γ/σ̂ · dβ/m: through the mean (every cell the same)").to_string(),
            "−γ/σ̂·dβ/m",
            &t2,
        ),
        Term::Op("+".into()),
        term(
            "var",
            tr("− γ/σ̂ · x̂·dγ/m: through the variance").to_string(),
            "−γ/σ̂·x̂·dγ/m",
            &t3,
        ),
        Term::Op("=".into()),
        Term::map(
            Operand::new("D_below", leaving_title(&num, t, i), bv.clone(), h, w, true)
                .short(num.delta(i))
                .same_scale(scale.clone(), format),
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
                tr("x̂ = (x − μ)/σ̂, the normalised input").to_string(),
                xhat,
                h,
                w,
                true,
            )
            .short("x̂"),
        ),
    ];
    let rows: Vec<Vec<Term>> = if compact(ui.ctx()) {
        vec![first]
    } else {
        vec![first, second]
    };
    let refs: Vec<&[Term]> = rows.iter().map(|r| r.as_slice()).collect();
    let fitted = cells(ui, &refs, room, start);
    for row in rows {
        let drawn = row_ui(ui, row, fitted);
        mark(
            cx,
            &drawn,
            &[(Mark::DeltaIn, "D"), (Mark::DeltaDown, "D_below")],
        );
        if let Some((id, (r, col))) = drawn.clicked {
            let index = vec![n, c, r, col];
            let cell = match id {
                "D" => arriving_ref(t, i, index),
                "xhat" => CellRef::Output { layer: i, index },
                _ => CellRef::Delta { layer: i, index },
            };
            cx.command(UiCommand::Select(Some(cell)));
        }
    }
}
