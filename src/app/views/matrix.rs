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
                g.h,
                g.w,
                g.p,
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
        Facts {
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

        let intro = RichText::new(trf!(
        "{layer} as a dense layer: W has a row per output cell ({outs}) and a column per input pixel ({pixels}); each row is the filter, shifted. The delta handed down is Wᵀ · δ, as for any fully connected layer.",
        layer = t.names[i],
        outs = outs,
        pixels = pixels
    ));
        // On a projector the words give the matrix their room: the three
        // equalities on one line, the introduction on hover.
        if !compact {
            ui.label(intro.clone().size(15.0));
        }
        let mut lines = vec![trf!(
        "Wᵀ · δ and full_conv(D, rot180 F) differ by at most {diff}: they are the same computation.",
        diff = format!("{:.1e}", facts.vs_formula)
    )];
        if g.cout == 1 {
            lines.push(trf!(
                "Wᵀ · δ and the engine's D_below differ by at most {diff}.",
                diff = format!("{:.1e}", facts.vs_engine)
            ));
        }
        lines.push(trf!(
        "dF as the im2col product (the patches of x times δ, summed over the batch) and the engine's dF differ by at most {diff}.",
        diff = format!("{:.1e}", facts.im2col_vs_engine)
    ));
        if compact {
            ui.label(RichText::new(lines.join(" ")).size(13.0))
                .on_hover_text(intro);
        } else {
            for line in lines {
                ui.label(line);
            }
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
            .max_width(side + 24.0)
            .max_height(side + 24.0)
            .show(ui, |ui| {
                let entry = match pick {
                    Some(Pick::Entry(r, q)) => Some((r, q)),
                    _ => None,
                };
                let drawn = Heatmap::new(wt, pixels, outs, tr("Wᵀ: a row per input pixel, a column per output cell"))
                    .scale(scale)
                    .cell_size(cell)
                    .numbers(cell >= 30.0)
                    .selected(entry)
                    .dots(dots)
                    .show(ui);
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
            let drawn = Heatmap::new(&fvals, g.k, g.k, "F")
                .scale(scale)
                .cell_size(40.0)
                .selected(tap)
                .show(ui);
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
