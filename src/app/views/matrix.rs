//! The FC rule you know is the conv rule: a conv layer's backward step
//! drawn as the dense layer it is. For one (out, in) channel pair the layer
//! is a matrix W with a row per output cell and a column per input pixel
//! (the Toeplitz matrix: each row holds the filter, shifted), so that
//! `y = W·x` is the convolution and the delta handed down is `Wᵀ·δ` — the
//! rule a student already used for fully connected layers — which is
//! exactly `full_conv(D, rot180 F)`. And dF is the im2col product: the
//! patches of x, one row per output cell, times δ. Both equalities are
//! computed here from the trace's F, x and D and set against the engine's
//! own numbers.
//!
//! Clicking an entry of Wᵀ shows the filter tap it holds and the two cells
//! it connects; clicking a tap of F marks every entry that holds it.

use std::sync::Arc;

use egui::{RichText, Ui, Vec2};

use crate::app::state::AppState;
use crate::app::style::compact;
use crate::app::widgets::heatmap::{legend_ui, ColorScale, Heatmap};
use crate::engine::layers::conv::ConvGeometry as Geometry;
use crate::engine::trace::Trace;
use crate::i18n::tr;
use crate::trf;

/// What is picked in the matrix view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// An entry of Wᵀ: `(input pixel, output cell)`, both row-major.
    Entry(usize, usize),
    /// A tap `(u, v)` of the filter.
    Tap(usize, usize),
}

/// The tap of F that entry `(output cell, input pixel)` of W holds, if any.
fn tap_of(g: &Geometry, out: usize, pixel: usize) -> Option<(usize, usize)> {
    g.tap_between((out / g.wo, out % g.wo), (pixel / g.w, pixel % g.w))
}

/// Wᵀ for the pair `(o, c)`: `[pixel][out]`, row-major.
fn w_transposed(g: &Geometry, f: &crate::engine::Tensor, o: usize, c: usize) -> Vec<f32> {
    let (pixels, outs) = (g.h * g.w, g.ho * g.wo);
    let mut m = vec![0.0; pixels * outs];
    for pixel in 0..pixels {
        for out in 0..outs {
            if let Some((u, v)) = tap_of(g, out, pixel) {
                m[pixel * outs + out] = f[[o, c, u, v]];
            }
        }
    }
    m
}

/// Points beside Wᵀ for its axes' numbers.
const AXIS: f32 = 22.0;

/// Wᵀ's axes: its rows are the input's pixels, row-major, so every `w`
/// rows are one image row `y`; its columns the output's cells, every `wo`
/// one output row `i`. Each block is numbered (as many as fit) and ruled
/// off, which shows the matrix's structure: the same filter row shifted
/// along each block, the blocks shifted down the diagonal.
fn axes_ui(ui: &Ui, rect: egui::Rect, g: &Geometry, cell: f32) {
    let painter = ui.painter();
    let visuals = ui.visuals();
    let rule = egui::Stroke::new(1.0, visuals.weak_text_color().gamma_multiply(0.5));
    let text = visuals.text_color();
    let (rows_block, cols_block) = (g.w as f32 * cell, g.wo as f32 * cell);
    // Every label, or every 2nd, 5th… so that they do not touch.
    let every = |block: f32| -> usize {
        [1, 2, 5, 10, 20, 50]
            .into_iter()
            .find(|&n| block * n as f32 >= 14.0)
            .unwrap_or(100)
    };
    let font = egui::FontId::monospace(11.0);
    let (row_step, col_step) = (every(rows_block), every(cols_block));
    for y in 0..=g.h {
        let top = rect.top() + y as f32 * rows_block;
        if y > 0 && y < g.h && rows_block >= 3.0 {
            painter.hline(rect.x_range(), top, rule);
        }
        if y < g.h && y % row_step == 0 {
            painter.text(
                egui::pos2(rect.left() - 3.0, top + rows_block.min(14.0) / 2.0),
                egui::Align2::RIGHT_CENTER,
                y.to_string(),
                font.clone(),
                text,
            );
        }
    }
    for i in 0..=g.ho {
        let left = rect.left() + i as f32 * cols_block;
        if i > 0 && i < g.ho && cols_block >= 3.0 {
            painter.vline(left, rect.y_range(), rule);
        }
        if i < g.ho && i % col_step == 0 {
            painter.text(
                egui::pos2(left + cols_block.min(14.0) / 2.0, rect.top() - 2.0),
                egui::Align2::CENTER_BOTTOM,
                i.to_string(),
                font.clone(),
                text,
            );
        }
    }
}

/// The largest |a − b|.
fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

/// Which step, layer, channel pair and sample the facts are for (the
/// weight gradient's allocation identifies the step).
pub type FactsKey = (usize, usize, usize, usize, usize);

/// What the matrix view shows about one step: Wᵀ, and how far apart the
/// three ways of computing the same numbers are.
pub struct Facts {
    wt: Vec<f32>,
    vs_formula: f64,
    vs_engine: f64,
    im2col_vs_engine: f64,
    /// The largest magnitudes of D_below and dF: what the differences
    /// are small against.
    below_size: f64,
    df_size: f64,
}

type Tensors<'a> = (
    &'a crate::engine::Tensor,
    &'a crate::engine::Tensor,
    &'a crate::engine::Tensor,
    &'a crate::engine::Tensor,
    &'a crate::engine::Tensor,
);

impl Facts {
    /// From the layer's F, the delta from above, its input x, the delta it
    /// handed down and its dF.
    fn of(g: &Geometry, (f, d, x, below, df): Tensors, (o, c, n): (usize, usize, usize)) -> Facts {
        let (pixels, outs) = (g.h * g.w, g.ho * g.wo);
        let wt = w_transposed(g, f, o, c);
        // Wᵀ·δ for this sample and pair, in f64.
        let delta: Vec<f64> = (0..outs)
            .map(|q| f64::from(d[[n, o, q / g.wo, q % g.wo]]))
            .collect();
        let product: Vec<f64> = (0..pixels)
            .map(|r| {
                (0..outs)
                    .map(|q| f64::from(wt[r * outs + q]) * delta[q])
                    .sum()
            })
            .collect();
        // The same with the formula: full correlation of D with rot180(F).
        // (A conv layer's traced D and F are 4-D: the geometry was built
        // from them.)
        let by_formula: Vec<f64> = match (
            d.mapv(f64::from).into_dimensionality::<ndarray::Ix4>(),
            f.mapv(f64::from).into_dimensionality::<ndarray::Ix4>(),
        ) {
            (Ok(d4), Ok(f4)) => crate::check::formulas::below(
                d4.slice(ndarray::s![n..n + 1, o..o + 1, .., ..]),
                f4.slice(ndarray::s![o..o + 1, c..c + 1, .., ..]),
                (g.h, g.w, g.p),
                (g.stride, g.dilation),
            )
            .iter()
            .copied()
            .collect(),
            _ => vec![f64::NAN; pixels],
        };
        // im2col: a row of x's patch per output cell; dF = Σ_n patchesᵀ · δ.
        let mut im2col_df = vec![0.0f64; g.k * g.k];
        for s in 0..x.shape()[0] {
            for q in 0..outs {
                let (oi, oj) = (q / g.wo, q % g.wo);
                let dq = f64::from(d[[s, o, oi, oj]]);
                for (t_, sum) in im2col_df.iter_mut().enumerate() {
                    if let Some((y, xx)) = g.input_cell((oi, oj), (t_ / g.k, t_ % g.k)) {
                        *sum += f64::from(x[[s, c, y, xx]]) * dq;
                    }
                }
            }
        }
        let engine_df: Vec<f64> = (0..g.k * g.k)
            .map(|t_| f64::from(df[[o, c, t_ / g.k, t_ % g.k]]))
            .collect();
        let engine_below: Vec<f64> = (0..pixels)
            .map(|r| f64::from(below[[n, c, r / g.w, r % g.w]]))
            .collect();
        let size = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        Facts {
            below_size: size(&engine_below),
            df_size: size(&engine_df),
            vs_formula: max_diff(&product, &by_formula),
            vs_engine: max_diff(&product, &engine_below),
            im2col_vs_engine: max_diff(&im2col_df, &engine_df),
            wt,
        }
    }
}

/// The matrix view's own state: how far it is zoomed, what is picked in
/// it, and the facts of the step it shows (computed once per step, layer,
/// pair and sample, not every frame).
#[derive(Default)]
pub struct MatrixView {
    pub zoom: f32,
    pub pick: Option<Pick>,
    facts: Option<(FactsKey, Arc<Facts>)>,
}

impl MatrixView {
    pub fn backward_ui(
        &mut self,
        ui: &mut Ui,
        state: &AppState,
        t: &Trace,
        i: usize,
        (o, c): (usize, usize),
        room: Vec2,
    ) {
        let Some(g) = t.conv_geometry(i) else { return };
        let layer = &t.layers[i];
        let (Some(f), Some(d), Some(x), Some(below), Some(df), Some(grad)) = (
            layer.weight.as_deref(),
            t.layers.get(i + 1).and_then(|l| l.delta.as_deref()),
            t.layer_input(i),
            layer.delta.as_deref(),
            layer.weight_grad.as_deref(),
            layer.weight_grad.as_ref(),
        ) else {
            ui.label(tr(
                "The matrix view needs this layer's backward step: step to it first.",
            ));
            return;
        };
        let n = state.sample.min(x.shape()[0] - 1);
        let top = ui.cursor().top();
        let compact = compact(ui.ctx());
        let (pixels, outs) = (g.h * g.w, g.ho * g.wo);
        let key: FactsKey = (Arc::as_ptr(grad) as usize, i, o, c, n);
        let facts = match &self.facts {
            Some((k, facts)) if *k == key => facts.clone(),
            _ => {
                let facts = Arc::new(Facts::of(&g, (f, d, x, below, df), (o, c, n)));
                self.facts = Some((key, facts.clone()));
                facts
            }
        };
        let wt = &facts.wt;

        let intro = trf!(
        "{layer} as a dense layer: W has a row per output cell ({outs}) and a column per input pixel ({pixels}); each row is the filter, shifted. The delta handed down is Wᵀ · δ, as for any fully connected layer.",
        layer = t.names[i],
        outs = outs,
        pixels = pixels
    );
        if !compact {
            ui.label(RichText::new(intro.clone()).size(15.0));
        }
        // The three equalities as equations, each with how far apart its
        // two sides are (the sentence on hover).
        let mut rows = vec![(
            "Wᵀ · δ",
            "full_conv(D, rot180 F)",
            facts.vs_formula,
            facts.below_size,
            trf!(
                "Wᵀ · δ and full_conv(D, rot180 F) differ by at most {diff}: they are the same computation.",
                diff = format!("{:.1e}", facts.vs_formula)
            ),
        )];
        if g.cout == 1 {
            rows.push((
                "Wᵀ · δ",
                "D_below",
                facts.vs_engine,
                facts.below_size,
                trf!(
                    "Wᵀ · δ and the engine's D_below differ by at most {diff}.",
                    diff = format!("{:.1e}", facts.vs_engine)
                ),
            ));
        }
        rows.push((
            "Σₙ im2col(xₙ)ᵀ · δₙ",
            "dF",
            facts.im2col_vs_engine,
            facts.df_size,
            trf!(
                "dF as the im2col product (the patches of x times δ, summed over the batch) and the engine's dF differ by at most {diff}.",
                diff = format!("{:.1e}", facts.im2col_vs_engine)
            ),
        ));
        let size = if compact { 14.0 } else { 16.0 };
        let grid = egui::Grid::new("matrix equalities")
            .num_columns(4)
            .spacing([10.0, 2.0])
            .show(ui, |ui| {
                for (left, right, diff, scale, sentence) in rows {
                    // Equal up to f32 rounding: 10⁻⁵ of the
                    // numbers' own size.
                    let holds = diff <= 1e-5 * scale.max(1e-12) + 1e-12;
                    ui.label(RichText::new(left).monospace().size(size));
                    ui.label(
                        RichText::new(if holds { "=" } else { "≠" })
                            .monospace()
                            .size(size),
                    );
                    ui.label(RichText::new(right).monospace().size(size));
                    let verdict = trf!(
                        "{mark} largest difference {diff}",
                        mark = if holds { "✓" } else { "✗" },
                        diff = format!("{diff:.1e}")
                    );
                    ui.label(RichText::new(verdict).size(size - 2.0))
                        .on_hover_text(sentence);
                    ui.end_row();
                }
            });
        if compact {
            grid.response.on_hover_text(intro);
        }
        // The picture: Wᵀ, zoomable, then F and the two maps an entry connects.
        // (A fresh view starts unzoomed.)
        self.zoom = self.zoom.max(1.0);
        ui.horizontal(|ui| {
            let label = ui.label(tr("zoom"));
            ui.add(egui::Slider::new(&mut self.zoom, 1.0..=8.0).step_by(0.5))
                .labelled_by(label.id);
        });
        let zoom = self.zoom;
        ui.label(
            RichText::new(trf!(
                "Wᵀ: row = input pixel (y, x), numbered by y, {w} rows each; column = output cell (i, j), numbered by i, {wo} columns each",
                w = g.w,
                wo = g.wo
            ))
            .size(if compact { 13.0 } else { 14.0 }),
        );
        let used = ui.cursor().top() - top;
        let side = (room.y - used - 16.0).clamp(160.0, 900.0);
        let cell = (side / pixels.max(outs) as f32) * zoom;
        let pick = self.pick;
        let dots: Vec<(usize, usize)> = match pick {
            Some(Pick::Tap(u, v)) => (0..pixels)
                .flat_map(|r| (0..outs).map(move |q| (r, q)))
                .filter(|&(r, q)| tap_of(&g, q, r) == Some((u, v)))
                .collect(),
            _ => Vec::new(),
        };
        let scale = ColorScale::diverging(wt);
        ui.horizontal_top(|ui| {
        egui::ScrollArea::both()
            .id_salt("matrix")
            .max_width(side + 24.0 + AXIS)
            .max_height(side + 24.0 + AXIS)
            .show(ui, |ui| {
                let entry = match pick {
                    Some(Pick::Entry(r, q)) => Some((r, q)),
                    _ => None,
                };
                // Room for the axes' numbers, which scroll with the matrix.
                let map = Heatmap::new(wt, pixels, outs, tr("Wᵀ: a row per input pixel, a column per output cell"))
                    .scale(scale)
                    .cell_size(cell)
                    .numbers(cell >= 30.0)
                    .selected(entry)
                    .dots(dots);
                let (outer, _) = ui.allocate_exact_size(map.size() + Vec2::splat(AXIS), egui::Sense::hover());
                let inner = egui::Rect::from_min_size(outer.min + Vec2::splat(AXIS), map.size());
                let drawn = ui.scope_builder(egui::UiBuilder::new().max_rect(inner), |ui| map.show(ui)).inner;
                axes_ui(ui, drawn.response.rect, &g, cell);
                if let Some((r, q)) = drawn.clicked {
                    self.pick = Some(Pick::Entry(r, q));
                }
            });
        ui.vertical(|ui| {
            legend_ui(ui, scale);
            ui.label(RichText::new(tr("F: click a tap to mark every entry of Wᵀ that holds it")).strong());
            let fvals: Vec<f32> = (0..g.k * g.k).map(|t_| f[[o, c, t_ / g.k, t_ % g.k]]).collect();
            let tap = match pick {
                Some(Pick::Tap(u, v)) => Some((u, v)),
                Some(Pick::Entry(r, q)) => tap_of(&g, q, r),
                None => None,
            };
            let mut map = Heatmap::new(&fvals, g.k, g.k, "F")
                .scale(scale)
                .cell_size(48.0)
                .selected(tap);
            // Mantissas (on a small screen) say their power of ten.
            let suffix = map.printed(ui.ctx()).map(|(f, _)| f.suffix()).unwrap_or_default();
            if !suffix.is_empty() {
                ui.label(format!("F ({suffix})"));
            }
            let drawn = map.show(ui);
            if let Some(at) = drawn.clicked {
                self.pick = Some(Pick::Tap(at.0, at.1));
            }
            if let Some(Pick::Entry(r, q)) = pick {
                let (y, xx) = (r / g.w, r % g.w);
                let (oi, oj) = (q / g.wo, q % g.wo);
                let words = match tap_of(&g, q, r) {
                    Some((u, v)) => trf!(
                        "Wᵀ[{r}, {q}] = F[{u},{v}] = {value}: input pixel ({y}, {x}) reaches output cell ({i}, {j}) through tap ({u}, {v}), so on the way back δ({i}, {j}) reaches ({y}, {x}) through the same weight.",
                        r = r,
                        q = q,
                        u = u,
                        v = v,
                        value = format!("{:.4}", f[[o, c, u, v]]),
                        y = y,
                        x = xx,
                        i = oi,
                        j = oj
                    ),
                    None => trf!(
                        "Wᵀ[{r}, {q}] = 0: input pixel ({y}, {x}) is outside the window of output cell ({i}, {j}).",
                        r = r,
                        q = q,
                        y = y,
                        x = xx,
                        i = oi,
                        j = oj
                    ),
                };
                ui.label(words);
                ui.horizontal(|ui| {
                    let dvals: Vec<f32> = (0..outs).map(|k| d[[n, o, k / g.wo, k % g.wo]]).collect();
                    ui.vertical(|ui| {
                        ui.label(tr("δ: the output cell"));
                        Heatmap::new(&dvals, g.ho, g.wo, tr("δ: the output cell"))
                            .cell_size((160.0 / g.wo as f32).min(14.0))
                            .numbers(false)
                            .selected(Some((oi, oj)))
                            .show(ui);
                    });
                    let bvals: Vec<f32> = (0..pixels).map(|k| below[[n, c, k / g.w, k % g.w]]).collect();
                    ui.vertical(|ui| {
                        ui.label(tr("D_below: the input pixel"));
                        Heatmap::new(&bvals, g.h, g.w, tr("D_below: the input pixel"))
                            .cell_size((160.0 / g.w as f32).min(14.0))
                            .numbers(false)
                            .selected(Some((y, xx)))
                            .show(ui);
                    });
                });
            }
        });
    });
    }
}
