//! How one number of a trace was computed: the terms that add up to it, from
//! the trace's own numbers. The app shows these when a cell is clicked; the
//! total is checked against the recorded value, so the explanation can never
//! silently disagree with what the engine did. No GUI types here.

use crate::engine::layers::LayerKind;
use crate::engine::trace::Trace;
use crate::engine::Tensor;
use crate::i18n::tr;
use crate::teach::notation::{indices, own_magnitude};
use crate::trf;

/// A cell of a traced tensor, by layer index (forward order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellRef {
    /// `LAYER.weight_grad[index]`: dF for conv `[o, c, u, v]`, dW for dense `[o, k]`.
    WeightGrad { layer: usize, index: Vec<usize> },
    /// `LAYER.delta[n, ...]`: the delta this layer hands down.
    Delta { layer: usize, index: Vec<usize> },
    /// `LAYER.out[n, ...]`: a forward value.
    Output { layer: usize, index: Vec<usize> },
    /// `input[n, 0, y, x]`: a pixel of the batch.
    Input { index: Vec<usize> },
    /// `logits.delta[n, k]`: the loss's delta, where backpropagation starts.
    LossDelta { index: Vec<usize> },
}

impl CellRef {
    /// The cell's indices.
    pub fn index(&self) -> &[usize] {
        match self {
            CellRef::WeightGrad { index, .. }
            | CellRef::Delta { index, .. }
            | CellRef::Output { index, .. }
            | CellRef::Input { index }
            | CellRef::LossDelta { index } => index,
        }
    }

    /// The layer the cell's tensor belongs to (none for the input and the
    /// loss's delta).
    pub fn layer(&self) -> Option<usize> {
        match self {
            CellRef::WeightGrad { layer, .. }
            | CellRef::Delta { layer, .. }
            | CellRef::Output { layer, .. } => Some(*layer),
            CellRef::Input { .. } | CellRef::LossDelta { .. } => None,
        }
    }

    /// The first phase, in [`Phase::order`](crate::engine::stepper::Phase::order),
    /// after which the cell's tensor exists in a step of `layers` layers.
    pub fn computed_at(&self, layers: usize) -> usize {
        use crate::engine::stepper::Phase;
        match self {
            CellRef::Input { .. } => 0,
            CellRef::LossDelta { .. } => Phase::Loss.order(layers),
            CellRef::Output { layer, .. } => Phase::Forward(*layer).order(layers),
            CellRef::Delta { layer, .. } | CellRef::WeightGrad { layer, .. } => {
                Phase::Backward(*layer).order(layers)
            }
        }
    }

    /// Checks the cell against a network (its layers' names, kinds and
    /// per-sample output shapes) and a batch size: the layer exists, the
    /// tensor is one that layer has, and the index has the tensor's rank
    /// and lies inside it. Its name (`dF of conv2`) when it does; the
    /// reason, worded for the learner, when it does not. Views index with
    /// a cell only once it passed this.
    pub fn check_in(
        &self,
        names: &[String],
        kinds: &[LayerKind],
        shapes: &[Vec<usize>],
        batch: usize,
    ) -> Result<String, String> {
        use crate::engine::network::{CLASSES, INPUT_SHAPE};
        let of_batch = |shape: &[usize]| {
            std::iter::once(batch)
                .chain(shape.iter().copied())
                .collect::<Vec<usize>>()
        };
        let layer = |l: usize| {
            names
                .get(l)
                .zip(kinds.get(l))
                .zip(shapes.get(l))
                .map(|((name, kind), shape)| (name, kind, shape))
                .ok_or_else(|| trf!("the network has no layer {layer}", layer = l))
        };
        let (name, shape) = match self {
            CellRef::Input { .. } => ("x".to_string(), of_batch(&INPUT_SHAPE)),
            CellRef::LossDelta { .. } => ("L".to_string(), of_batch(&[CLASSES])),
            CellRef::Output { layer: l, .. } => {
                let (name, _, shape) = layer(*l)?;
                (trf!("y of {layer}", layer = name.clone()), of_batch(shape))
            }
            CellRef::Delta { layer: l, .. } => {
                let (name, _, _) = layer(*l)?;
                let input = match l {
                    0 => INPUT_SHAPE.to_vec(),
                    l => layer(l - 1)?.2.clone(),
                };
                (trf!("D of {layer}", layer = name.clone()), of_batch(&input))
            }
            CellRef::WeightGrad { layer: l, .. } => {
                let (name, kind, _) = layer(*l)?;
                let Some((weight, _)) = kind.param_shapes() else {
                    return Err(trf!(
                        "{layer} has no weights, so no dF",
                        layer = name.clone()
                    ));
                };
                (trf!("dF of {layer}", layer = name.clone()), weight)
            }
        };
        let index = self.index();
        let dims = |d: &[usize]| d.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
        if index.len() != shape.len() {
            return Err(trf!(
                "{tensor} takes {n} indices (its shape is [{shape}])",
                tensor = name,
                n = shape.len(),
                shape = dims(&shape)
            ));
        }
        if index.iter().zip(&shape).any(|(&i, &extent)| i >= extent) {
            return Err(trf!(
                "[{index}] lies outside {tensor}, whose shape is [{shape}]",
                index = dims(index),
                tensor = name,
                shape = dims(&shape)
            ));
        }
        Ok(name)
    }

    /// Whether the cell fits the step of `trace` (see [`CellRef::check_in`]).
    pub fn fits(&self, trace: &Trace, shapes: &[Vec<usize>]) -> bool {
        self.check_in(&trace.names, &trace.kinds, shapes, trace.batch_size())
            .is_ok()
    }
}

/// One product (or routed value) contributing to the explained number.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// e.g. `x[0, 3, 4] · D[0, 2, 3]`
    pub label: String,
    pub value: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// e.g. `dF[0, 0, 1, 2] of conv1`
    pub title: String,
    /// The formula in plain Unicode.
    pub formula: String,
    /// The largest terms for the explained sample, largest magnitude first.
    pub terms: Vec<Term>,
    /// How many non-zero terms there are in all for that sample.
    pub term_count: usize,
    /// This sample's share (for batch sums), else the value itself.
    pub sample_sum: f32,
    /// The terms added up (over the whole batch for batch sums).
    pub total: f32,
    /// The number the engine recorded in the trace.
    pub recorded: f32,
    /// Extra sentences: what happens next, ties, masks.
    pub notes: Vec<String>,
    /// Which terms `terms` holds.
    pub listing: Listing,
    /// A convolution's products laid out where they happen, one grid per
    /// channel pair that adds to the number (empty for other layers).
    pub grids: Vec<ProductGrid>,
}

/// The products behind one number of a convolution, for one sample and one
/// channel pair `(o, c)`, laid out as the view draws the sum: each cell the
/// two factors that meet there and their product. A forward output and a
/// delta handed down are K×K grids over the filter's taps (the delta's in
/// the turned filter's order, as rot180(F) slides over the padded D); a
/// filter gradient's share is a grid over the output cells (the input under
/// the tap times the delta there). Zero padding is a factor of 0.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductGrid {
    /// Output channel and input channel of the layer.
    pub pair: (usize, usize),
    pub rows: usize,
    pub cols: usize,
    /// The first factor of each cell: `x` (forward, dF) or `D` (a delta).
    pub left: Vec<f32>,
    /// The second: `F` (forward), `D` (dF) or `rot180(F)` (a delta).
    pub right: Vec<f32>,
    /// `left · right`, cell by cell.
    pub products: Vec<f32>,
}

impl ProductGrid {
    fn new(pair: (usize, usize), rows: usize, cols: usize) -> ProductGrid {
        let zeros = vec![0.0; rows * cols];
        ProductGrid {
            pair,
            rows,
            cols,
            left: zeros.clone(),
            right: zeros.clone(),
            products: zeros,
        }
    }

    fn set(&mut self, (r, c): (usize, usize), left: f32, right: f32) {
        let k = r * self.cols + c;
        self.left[k] = left;
        self.right[k] = right;
        self.products[k] = left * right;
    }

    /// The products added up (in f64, as the explanation adds its terms).
    pub fn sum(&self) -> f32 {
        self.products.iter().map(|&p| p as f64).sum::<f64>() as f32
    }
}

/// Which terms an explanation lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The largest (non-zero) ones of the explained sample.
    LargestOfSample,
    /// One per sample of the batch (a dense layer's dW).
    OnePerSample,
    /// Every one, in order, zeros included (a one-channel conv output: all
    /// K×K products and the bias).
    All,
}

impl Explanation {
    /// Whether the terms add up to the recorded number (f32 rounding aside).
    pub fn agrees(&self) -> bool {
        (self.total - self.recorded).abs()
            <= 1e-5 + 1e-4 * self.recorded.abs().max(self.total.abs())
    }
}

/// How many terms to list.
pub const SHOWN_TERMS: usize = 8;

fn at(t: &Tensor, index: &[usize]) -> Option<f32> {
    t.get(index).copied()
}

/// A factor of a term, four significant digits with its own magnitude.
fn number(v: f32) -> String {
    own_magnitude(v, 4)
}

/// `x[0,0,8,6] · D[0,0,8,6] = 1.103 · 4.857e−3`: the two factors with the
/// formula's own indices, then their values (the term's value follows).
fn product(a: (&str, &[usize], f32), b: (&str, &[usize], f32)) -> String {
    format!(
        "{}{} · {}{} = {} · {}",
        a.0,
        indices(a.1),
        b.0,
        indices(b.1),
        number(a.2),
        number(b.2)
    )
}

fn fmt_index(index: &[usize]) -> String {
    index
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `i+1`, `i−2` or `i` for an index shifted by `offset`.
fn shifted(index: &str, offset: isize) -> String {
    match offset {
        0 => index.to_string(),
        o if o > 0 => format!("{index}+{o}"),
        o => format!("{index}−{}", -o),
    }
}

/// Sorts terms by magnitude, keeps the top ones, and fills in the sums.
#[allow(clippy::too_many_arguments)]
fn finish(
    title: String,
    formula: String,
    terms: Vec<Term>,
    sample_sum: f64,
    total: f64,
    recorded: f32,
    notes: Vec<String>,
) -> Explanation {
    finish_listing(
        Listing::LargestOfSample,
        title,
        formula,
        terms,
        sample_sum,
        total,
        recorded,
        notes,
    )
}

/// `finish` with another listing than the largest terms of the sample.
#[allow(clippy::too_many_arguments)]
fn finish_listing(
    listing: Listing,
    title: String,
    formula: String,
    mut terms: Vec<Term>,
    sample_sum: f64,
    total: f64,
    recorded: f32,
    notes: Vec<String>,
) -> Explanation {
    let term_count = terms.iter().filter(|t| t.value != 0.0).count();
    if listing != Listing::All {
        terms.retain(|t| t.value != 0.0);
        terms.sort_by(|a, b| b.value.abs().total_cmp(&a.value.abs()));
        terms.truncate(SHOWN_TERMS);
    }
    Explanation {
        listing,
        title,
        formula,
        terms,
        term_count,
        sample_sum: sample_sum as f32,
        total: total as f32,
        recorded,
        notes,
        grids: Vec::new(),
    }
}

/// Explains `cell` of `trace`, listing the terms of batch sample `sample`.
/// `None` when the cell is out of range or its phase has not run yet.
pub fn explain(trace: &Trace, cell: &CellRef, sample: usize) -> Option<Explanation> {
    let layers = trace.names.len();
    match cell {
        CellRef::WeightGrad { layer, .. }
        | CellRef::Delta { layer, .. }
        | CellRef::Output { layer, .. }
            if *layer >= layers =>
        {
            None
        }
        CellRef::Input { index } => {
            let v = at(&trace.input, index)?;
            Some(finish(
                trf!("pixel [{index}] of the batch", index = fmt_index(index)),
                tr("x = byte / 255").into(),
                vec![Term {
                    label: format!("byte / 255 = {:.0} / 255", v * 255.0),
                    value: v,
                }],
                v as f64,
                v as f64,
                v,
                vec![],
            ))
        }
        CellRef::LossDelta { index } => loss_delta(trace, index),
        CellRef::WeightGrad { layer, index } => weight_grad(trace, *layer, index, sample),
        CellRef::Delta { layer, index } => delta(trace, *layer, index),
        CellRef::Output { layer, index } => output(trace, *layer, index),
    }
}

fn weight_grad(trace: &Trace, layer: usize, index: &[usize], sample: usize) -> Option<Explanation> {
    let name = &trace.names[layer];
    let lt = &trace.layers[layer];
    let recorded = at(lt.weight_grad.as_ref()?, index)?;
    let x = trace.layer_input(layer)?;
    let d = trace.delta_from_above(layer)?;
    let n_batch = trace.batch_size();
    match trace.kinds[layer] {
        LayerKind::Conv { .. } => {
            let &[o, c, u, v] = index else { return None };
            let g = trace.conv_geometry(layer)?;
            let mut total = 0.0f64;
            let mut sample_sum = 0.0f64;
            let mut terms = Vec::new();
            let mut grid = ProductGrid::new((o, c), g.ho, g.wo);
            for n in 0..n_batch {
                for i in 0..g.ho {
                    for j in 0..g.wo {
                        // Zero padding contributes nothing.
                        let Some((y, xx)) = g.input_cell((i, j), (u, v)) else {
                            if n == sample {
                                grid.set((i, j), 0.0, d[[n, o, i, j]]);
                            }
                            continue;
                        };
                        let a = x[[n, c, y, xx]];
                        let b = d[[n, o, i, j]];
                        let ab = a * b;
                        total += ab as f64;
                        if n == sample {
                            sample_sum += ab as f64;
                            grid.set((i, j), a, b);
                            terms.push(Term {
                                label: product(("x", &[n, c, y, xx], a), ("D", &[n, o, i, j], b)),
                                value: ab,
                            });
                        }
                    }
                }
            }
            let mut e = finish(
                trf!("dF[{index}] of {layer}", index = fmt_index(index), layer = name),
                format!(
                    "dF[{o},{c},{u},{v}] = Σ_n Σ_ij x[n, {c}, {}, {}] · D[n, {o}, i, j]   ({})",
                    shifted("i", u as isize - g.p as isize),
                    shifted("j", v as isize - g.p as isize),
                    trf!("the input under tap ({u},{v}) correlated with the delta from above", u = u, v = v)
                ),
                terms,
                sample_sum,
                total,
                recorded,
                vec![trf!("Sample {sample}'s share is listed; the batch of {batch} adds its samples' shares (the loss is a mean, so D already carries 1/N).", sample = sample, batch = n_batch)],
            );
            if sample < n_batch {
                e.grids.push(grid);
            }
            Some(e)
        }
        LayerKind::Convtranspose { .. } => {
            // dF[i,o,u,v]: every input cell x[i] paired with the cell of D
            // it reached through tap (u,v) in the forward pass.
            let &[ci, co, u, v] = index else { return None };
            let g = trace.transposed_geometry(layer)?;
            let (mut total, mut sample_sum, mut terms) = (0.0f64, 0.0f64, Vec::new());
            for n in 0..n_batch {
                for a in 0..g.ho {
                    for b in 0..g.wo {
                        let Some((r, c)) = g.input_cell((a, b), (u, v)) else {
                            continue;
                        };
                        let (xv, dv) = (x[[n, ci, a, b]], d[[n, co, r, c]]);
                        total += (xv * dv) as f64;
                        if n == sample {
                            sample_sum += (xv * dv) as f64;
                            terms.push(Term {
                                label: product(
                                    ("x", &[n, ci, a, b], xv),
                                    ("D", &[n, co, r, c], dv),
                                ),
                                value: xv * dv,
                            });
                        }
                    }
                }
            }
            Some(finish(
                trf!("dF[{index}] of {layer}", index = fmt_index(index), layer = name),
                format!(
                    "dF[{ci},{co},{u},{v}] = Σ_n Σ_ab x[n, {ci}, a, b] · D[n, {co}, {}, {}]",
                    shifted(&format!("{}·a", g.stride), u as isize - g.p as isize),
                    shifted(&format!("{}·b", g.stride), v as isize - g.p as isize),
                ),
                terms,
                sample_sum,
                total,
                recorded,
                vec![trf!("Sample {sample}'s share is listed; the batch of {batch} adds its samples' shares (the loss is a mean, so D already carries 1/N).", sample = sample, batch = n_batch)],
            ))
        }
        LayerKind::Batchnorm { .. } => {
            let &[c] = index else { return None };
            let norm = lt.norm_terms.as_ref()?;
            let (mut total, mut sample_sum, mut terms) = (0.0f64, 0.0f64, Vec::new());
            for n in 0..n_batch {
                let (h, w) = (d.shape()[2], d.shape()[3]);
                for (r, col) in (0..h).flat_map(|r| (0..w).map(move |col| (r, col))) {
                    let dv = d[[n, c, r, col]];
                    let xh = norm.normalized[[n, c, r, col]];
                    total += (dv * xh) as f64;
                    if n == sample {
                        sample_sum += (dv * xh) as f64;
                        terms.push(Term {
                            label: product(("D", &[n, c, r, col], dv), ("z", &[n, c, r, col], xh)),
                            value: dv * xh,
                        });
                    }
                }
            }
            Some(finish(
                trf!("dγ[{index}] of {layer}", index = c, layer = name),
                format!("dγ[{c}] = Σ_n Σ_ij D[n, {c}, i, j] · z[n, {c}, i, j]"),
                terms,
                sample_sum,
                total,
                recorded,
                vec![trf!("Sample {sample}'s share is listed; the batch of {batch} adds its samples' shares (the loss is a mean, so D already carries 1/N).", sample = sample, batch = n_batch)],
            ))
        }
        LayerKind::Dense { .. } => {
            let &[o, k] = index else { return None };
            let mut total = 0.0f64;
            let mut sample_sum = 0.0f64;
            let mut terms = Vec::new();
            for n in 0..n_batch {
                let (a, b) = (x[[n, k]], d[[n, o]]);
                total += (a * b) as f64;
                if n == sample {
                    sample_sum += (a * b) as f64;
                }
                terms.push(Term {
                    label: product(("δ", &[n, o], b), ("x", &[n, k], a)),
                    value: a * b,
                });
            }
            Some(finish_listing(
                Listing::OnePerSample,
                trf!(
                    "dW[{index}] of {layer}",
                    index = format!("{o}, {k}"),
                    layer = name
                ),
                format!(
                    "dW[{o},{k}] = Σ_n δ[n, {o}] · x[n, {k}]   ({})",
                    tr("\"input times delta\", summed over the batch")
                ),
                terms,
                sample_sum,
                total,
                recorded,
                vec![],
            ))
        }
        _ => None,
    }
}

fn delta(trace: &Trace, layer: usize, index: &[usize]) -> Option<Explanation> {
    let name = &trace.names[layer];
    let recorded = at(trace.layers[layer].delta.as_ref()?, index)?;
    let x = trace.layer_input(layer)?;
    let d = trace.delta_from_above(layer)?;
    let n = index[0];
    let idx = fmt_index(index);
    let single = |formula: String, terms: Vec<Term>, total: f32, notes: Vec<String>| {
        Some(finish(
            trf!(
                "D[{index}] handed down by {layer}",
                index = idx,
                layer = name
            ),
            formula,
            terms,
            total as f64,
            total as f64,
            recorded,
            notes,
        ))
    };
    match &trace.kinds[layer] {
        LayerKind::Conv { .. } => {
            let &[_, c, y, xx] = index else { return None };
            let weight = trace.layers[layer].weight.as_ref()?;
            let g = trace.conv_geometry(layer)?;
            let (cout, k) = (g.cout, g.k);
            let mut terms = Vec::new();
            let mut total = 0.0f64;
            let mut grids = Vec::new();
            for o in 0..cout {
                let mut grid = ProductGrid::new((o, c), k, k);
                for u in 0..k {
                    for v in 0..k {
                        // As rot180(F) lies over the padded D.
                        let turned = g.rot180_tap((u, v));
                        // The output cell that read input (y, x) through
                        // tap (u, v), if any.
                        let Some((i, j)) = g.output_cell((y, xx), (u, v)) else {
                            grid.set(turned, 0.0, weight[[o, c, u, v]]);
                            continue;
                        };
                        let (dv, f) = (d[[n, o, i, j]], weight[[o, c, u, v]]);
                        grid.set(turned, dv, f);
                        total += (dv * f) as f64;
                        terms.push(Term {
                            label: format!(
                                "{}  ({})",
                                product(("D", &[o, i, j], dv), ("F", &[o, c, u, v], f)),
                                {
                                    let (row, col) = g.rot180_tap((u, v));
                                    trf!("rot180 position [{row}, {col}]", row = row, col = col)
                                }
                            ),
                            value: dv * f,
                        });
                    }
                }
                grids.push(grid);
            }
            let mut notes = vec![tr("This is the full convolution of D with the filter rotated by 180°: every output that read this input sends its delta back through the weight it used.").to_string()];
            if layer > 0 {
                if let LayerKind::Relu | LayerKind::Sigmoid | LayerKind::Tanh =
                    trace.kinds[layer - 1]
                {
                    notes.push(trf!("Next, {layer} multiplies it by its derivative (for ReLU: 1 where its input was > 0, else 0).", layer = trace.names[layer - 1]));
                }
            }
            let mut e = finish(
                trf!(
                    "D[{index}] handed down by {layer}",
                    index = idx,
                    layer = name
                ),
                "D_below[c, y, x] = Σ_o Σ_uv D[o, y−u+P, x−v+P] · F[o, c, u, v]".into(),
                terms,
                total,
                total,
                recorded,
                notes,
            );
            e.grids = grids;
            Some(e)
        }
        LayerKind::Convtranspose { .. } => {
            // The conv's forward pass on D: F[i,o] read over D every S cells.
            let &[_, ci, a, b] = index else { return None };
            let weight = trace.layers[layer].weight.as_ref()?;
            let g = trace.transposed_geometry(layer)?;
            let (mut terms, mut total) = (Vec::new(), 0.0f64);
            for co in 0..g.cin {
                for u in 0..g.k {
                    for v in 0..g.k {
                        let Some((r, c)) = g.input_cell((a, b), (u, v)) else {
                            continue;
                        };
                        let (f, dv) = (weight[[ci, co, u, v]], d[[n, co, r, c]]);
                        total += (f * dv) as f64;
                        terms.push(Term {
                            label: product(("F", &[ci, co, u, v], f), ("D", &[co, r, c], dv)),
                            value: f * dv,
                        });
                    }
                }
            }
            Some(finish(
                trf!("D[{index}] handed down by {layer}", index = idx, layer = name),
                format!(
                    "D_below[{ci}, {a}, {b}] = Σ_o Σ_uv F[{ci}, o, u, v] · D[o, {}, {}]",
                    shifted("u", (g.stride * a) as isize - g.p as isize),
                    shifted("v", (g.stride * b) as isize - g.p as isize),
                ),
                terms,
                total,
                total,
                recorded,
                vec![tr("A transposed conv's forward pass is a conv's backward pass, so its backward pass is that conv's forward pass: D read through the same filter, every S cells.").to_string()],
            ))
        }
        LayerKind::Batchnorm { .. } => {
            let &[_, c, r, col] = index else { return None };
            let norm = trace.layers[layer].norm_terms.as_ref()?;
            let at4 = |t: &Tensor| t[[n, c, r, col]];
            let parts = [
                (tr("γ/s · D (μ and σ held still)"), at4(&norm.direct)),
                (
                    tr("− γ/s · dβ/m (through the mean)"),
                    at4(&norm.through_mean),
                ),
                (
                    tr("− γ/s · z · dγ/m (through the variance)"),
                    at4(&norm.through_var),
                ),
            ];
            let total: f64 = parts.iter().map(|(_, v)| *v as f64).sum();
            let terms = parts
                .into_iter()
                .map(|(label, value)| Term {
                    label: format!("{label} = {}", number(value)),
                    value,
                })
                .collect();
            let m = x.len() / x.shape()[1].max(1);
            single(
                "D_below = γ/s · (D − dβ/m − z·dγ/m)".into(),
                terms,
                total as f32,
                vec![trf!(
                    "Each x moved the channel's mean and variance, which every other cell of the channel was normalised by: those two paths are the second and third terms (m = {m} values in the channel).",
                    m = m
                )],
            )
        }
        LayerKind::Dense { .. } => {
            let &[_, kk] = index else { return None };
            let weight = trace.layers[layer].weight.as_ref()?;
            let mut terms = Vec::new();
            let mut total = 0.0f64;
            for o in 0..weight.shape()[0] {
                let (w, dv) = (weight[[o, kk]], d[[n, o]]);
                total += (w * dv) as f64;
                terms.push(Term {
                    label: product(("W", &[o, kk], w), ("δ", &[o], dv)),
                    value: w * dv,
                });
            }
            Some(finish(
                trf!(
                    "D[{index}] handed down by {layer}",
                    index = idx,
                    layer = name
                ),
                format!("D_below[{kk}] = Σ_o W[o, {kk}] · δ[o]   (Wᵀ·δ)"),
                terms,
                total,
                total,
                recorded,
                vec![],
            ))
        }
        LayerKind::Relu | LayerKind::Sigmoid | LayerKind::Tanh => {
            let (xv, dv) = (at(x, index)?, at(d, index)?);
            let yv = at(trace.layers[layer].out.as_ref()?, index)?;
            let (derivative, why) = match trace.kinds[layer] {
                LayerKind::Relu => (
                    if xv > 0.0 { 1.0 } else { 0.0 },
                    trf!(
                        "ReLU′ = 1 if x > 0 else 0; here x = {x}",
                        x = format!("{xv:.4}")
                    ),
                ),
                LayerKind::Sigmoid => (
                    yv * (1.0 - yv),
                    trf!("σ′ = y·(1−y) with y = {y}", y = format!("{yv:.4}")),
                ),
                _ => (
                    1.0 - yv * yv,
                    trf!("tanh′ = 1 − y² with y = {y}", y = format!("{yv:.4}")),
                ),
            };
            single(
                "D_below = D · f′(x)".into(),
                vec![Term {
                    label: format!("D · f′ = {} · {}", number(dv), number(derivative)),
                    value: dv * derivative,
                }],
                dv * derivative,
                vec![why],
            )
        }
        LayerKind::Maxpool { .. } | LayerKind::Avgpool { .. } => {
            let &[_, c, y, xx] = index else { return None };
            let g = crate::engine::layers::pool::PoolGeometry::of(&trace.kinds[layer], x.shape())?;
            let s = g.size;
            // Every window the cell is in (one, unless they overlap); each
            // sends it its share and the shares add up.
            let windows = g.windows_of((y, xx));
            if windows.is_empty() {
                return single(
                    tr("outside every window").into(),
                    vec![],
                    0.0,
                    vec![tr("This row or column does not fill a window: it gets no delta.").into()],
                );
            }
            let avg = matches!(trace.kinds[layer], LayerKind::Avgpool { .. });
            let (mut terms, mut notes, mut total) = (Vec::new(), Vec::new(), 0.0);
            for &(i, j) in &windows {
                let dv = d[[n, c, i, j]];
                if avg {
                    let share = dv / (s * s) as f32;
                    terms.push(Term {
                        label: format!(
                            "D{} / {} = {} / {}",
                            indices(&[c, i, j]),
                            s * s,
                            number(dv),
                            s * s
                        ),
                        value: share,
                    });
                    total += share;
                    continue;
                }
                let window: Vec<f32> = (0..s * s)
                    .map(|t| {
                        let (r, col) = g.cell((i, j), (t / s, t % s));
                        x[[n, c, r, col]]
                    })
                    .collect();
                let mut best = 0;
                for t in 1..window.len() {
                    if window[t] > window[best] {
                        best = t;
                    }
                }
                let winner = g.cell((i, j), (best / s, best % s));
                let won = winner == (y, xx);
                let ties = window.iter().filter(|&&v| v == window[best]).count();
                notes.push(trf!(
                    "Window ({i}, {j}) holds {values}; the maximum {max} was at ({y}, {x}).",
                    i = i,
                    j = j,
                    values = window
                        .iter()
                        .map(|v| format!("{v:.3}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    max = format!("{:.4}", window[best]),
                    y = winner.0,
                    x = winner.1
                ));
                if ties > 1 {
                    notes.push(trf!("{ties} cells tie for the maximum: the first in row-major order wins, as in PyTorch.", ties = ties));
                }
                let value = if won { dv } else { 0.0 };
                total += value;
                terms.push(Term {
                    label: format!(
                        "D{} = {} {}",
                        indices(&[c, i, j]),
                        number(dv),
                        if won {
                            tr("→ here (winner)")
                        } else {
                            tr("→ went to the winner, not here")
                        }
                    ),
                    value,
                });
            }
            if avg {
                notes.push(tr("Average pooling spreads the delta evenly over its window.").into());
            }
            if windows.len() > 1 {
                notes.push(trf!(
                    "The windows overlap: this cell is in {k} of them, and what each sends it adds up.",
                    k = windows.len()
                ));
            }
            let formula = if avg {
                format!("D_below = D / {}", s * s)
            } else {
                tr("D_below = D at the window's winner, 0 elsewhere").into()
            };
            single(formula, terms, total, notes)
        }
        LayerKind::Flatten => {
            let dv = at(d, &[n, flat_index(x.shape(), index)])?;
            single(
                tr("D_below = reshape(D): the FC layer's vector back into maps").into(),
                vec![Term { label: trf!("D[{k}] of the flat vector", k = flat_index(x.shape(), index)), value: dv }],
                dv,
                vec![tr("Entry k of the vector is channel k / (H·W), row (k mod H·W) / W, column k mod W.").into()],
            )
        }
    }
}

/// The position in the flattened vector of `index` `[n, c, y, x]`.
fn flat_index(shape: &[usize], index: &[usize]) -> usize {
    let mut k = 0;
    for (axis, &i) in index.iter().enumerate().skip(1) {
        k = k * shape[axis] + i;
    }
    k
}

fn output(trace: &Trace, layer: usize, index: &[usize]) -> Option<Explanation> {
    let name = &trace.names[layer];
    let recorded = at(trace.layers[layer].out.as_ref()?, index)?;
    let x = trace.layer_input(layer)?;
    let n = index[0];
    let title = trf!(
        "{layer} output [{index}]",
        layer = name,
        index = fmt_index(index)
    );
    match &trace.kinds[layer] {
        LayerKind::Conv { .. } => {
            let &[_, o, i, j] = index else { return None };
            let weight = trace.layers[layer].weight.as_ref()?;
            let bias = trace.layers[layer].bias.as_ref()?[[o]];
            let g = trace.conv_geometry(layer)?;
            let (cin, k) = (g.cin, g.k);
            let mut terms = vec![Term {
                label: trf!("bias b[{o}]", o = o),
                value: bias,
            }];
            let mut total = bias as f64;
            let mut grids = Vec::new();
            for c in 0..cin {
                let mut grid = ProductGrid::new((o, c), k, k);
                for u in 0..k {
                    for v in 0..k {
                        let f = weight[[o, c, u, v]];
                        let Some((y, xx)) = g.input_cell((i, j), (u, v)) else {
                            grid.set((u, v), 0.0, f);
                            // The zero padding: a product of 0, listed so
                            // that all K×K taps are there.
                            terms.push(Term {
                                label: format!(
                                    "F{} · 0 = {} · 0 ({})",
                                    indices(&[o, c, u, v]),
                                    number(f),
                                    tr("padding")
                                ),
                                value: 0.0,
                            });
                            continue;
                        };
                        let a = x[[n, c, y, xx]];
                        grid.set((u, v), a, f);
                        total += (f * a) as f64;
                        terms.push(Term {
                            label: product(("F", &[o, c, u, v], f), ("x", &[c, y, xx], a)),
                            value: f * a,
                        });
                    }
                }
                grids.push(grid);
            }
            let mut e = finish_listing(
                if cin == 1 {
                    Listing::All
                } else {
                    Listing::LargestOfSample
                },
                title,
                "y[o, i, j] = b[o] + Σ_c Σ_uv F[o, c, u, v] · x[c, i+u−P, j+v−P]".into(),
                terms,
                total,
                total,
                recorded,
                vec![],
            );
            e.grids = grids;
            Some(e)
        }
        LayerKind::Dense { .. } => {
            let &[_, o] = index else { return None };
            let weight = trace.layers[layer].weight.as_ref()?;
            let bias = trace.layers[layer].bias.as_ref()?[[o]];
            let mut terms = vec![Term {
                label: trf!("bias b[{o}]", o = o),
                value: bias,
            }];
            let mut total = bias as f64;
            for k in 0..weight.shape()[1] {
                let (wv, a) = (weight[[o, k]], x[[n, k]]);
                total += (wv * a) as f64;
                terms.push(Term {
                    label: product(("W", &[o, k], wv), ("x", &[k], a)),
                    value: wv * a,
                });
            }
            Some(finish(
                title,
                "y[o] = b[o] + Σ_k W[o, k] · x[k]".into(),
                terms,
                total,
                total,
                recorded,
                vec![],
            ))
        }
        LayerKind::Convtranspose { .. } => {
            // Every input cell that scattered onto this one, through the
            // tap that links them.
            let &[_, o, r, c] = index else { return None };
            let weight = trace.layers[layer].weight.as_ref()?;
            let g = trace.transposed_geometry(layer)?;
            let bias = trace.layers[layer].bias.as_ref()?[[o]];
            let mut terms = vec![Term {
                label: trf!("bias b[{o}]", o = o),
                value: bias,
            }];
            let mut total = bias as f64;
            for i in 0..g.cout {
                for u in 0..g.k {
                    for v in 0..g.k {
                        let Some((a, b)) = g.output_cell((r, c), (u, v)) else {
                            continue;
                        };
                        let (xv, f) = (x[[n, i, a, b]], weight[[i, o, u, v]]);
                        total += (xv * f) as f64;
                        terms.push(Term {
                            label: product(("x", &[i, a, b], xv), ("F", &[i, o, u, v], f)),
                            value: xv * f,
                        });
                    }
                }
            }
            Some(finish(
                title,
                format!("y[{o}, {r}, {c}] = b[{o}] + Σ x[i, a, b] · F[i, {o}, u, v] over S·a + u − P = {r}, S·b + v − P = {c}"),
                terms,
                total,
                total,
                recorded,
                vec![],
            ))
        }
        LayerKind::Batchnorm { eps, .. } => {
            // The batch's statistics, by the layer's own code.
            let &[_, c, ..] = index else { return None };
            let stats = crate::engine::layers::batchnorm::Stats::of(x);
            let s = (stats.var[c] + eps).sqrt();
            let z = (at(x, index)? - stats.mean[c]) / s;
            let gamma = trace.layers[layer].weight.as_ref()?[[c]];
            let beta = trace.layers[layer].bias.as_ref()?[[c]];
            let terms = vec![
                Term {
                    label: format!("γ · z = {} · {}", number(gamma), number(z)),
                    value: gamma * z,
                },
                Term {
                    label: format!("β = {}", number(beta)),
                    value: beta,
                },
            ];
            let total = (gamma * z + beta) as f64;
            Some(finish(
                title,
                "y = γ · z + β,  z = (x − μ) / s,  s = √(σ² + ε)".into(),
                terms,
                total,
                total,
                recorded,
                vec![trf!(
                    "Channel {c} of the batch: μ = {mean}, σ² = {var} over its {m} values; this x = {x}.",
                    c = c,
                    mean = number(stats.mean[c]),
                    var = number(stats.var[c]),
                    m = stats.count,
                    x = number(at(x, index)?)
                )],
            ))
        }
        _ => {
            let value = recorded;
            Some(finish(
                title,
                trf!("{kind} of its input", kind = trace.kinds[layer].word()),
                vec![Term {
                    label: tr("value").into(),
                    value,
                }],
                value as f64,
                value as f64,
                recorded,
                vec![],
            ))
        }
    }
}

fn loss_delta(trace: &Trace, index: &[usize]) -> Option<Explanation> {
    let &[n, k] = index else { return None };
    let recorded = at(trace.logits_delta.as_ref()?, index)?;
    let p = at(trace.probs.as_ref()?, index)?;
    let label = *trace.labels.get(n)? as usize;
    let one_hot = if k == label { 1.0 } else { 0.0 };
    let batch = trace.batch_size() as f32;
    let value = (p - one_hot) / batch;
    Some(finish(
        trf!("D[{n}, {k}] from the loss", n = n, k = k),
        "dL/dlogit = (softmax − one_hot) / N".into(),
        vec![Term {
            label: format!(
                "(p[{k}] − one_hot[{k}]) / N = ({} − {one_hot}) / {batch}",
                number(p)
            ),
            value,
        }],
        value as f64,
        value as f64,
        recorded,
        vec![trf!("Sample {n}'s label is {label}: its logit is pushed up (negative delta), all others down.", n = n, label = label)],
    ))
}
