//! Fully connected layer. Shapes: x `[N, Fin]`, W `[Fout, Fin]` (PyTorch's
//! `nn.Linear` layout), b `[Fout]`, y `[N, Fout]`.
//!
//! - forward:  `y = x · Wᵀ + b`
//! - backward, given `D = dL/dy`: `dW = Dᵀ · x` ("input times delta"),
//!   `db = Σ_n D`, `D_below = D · W` ("delta times weights"; the activation's
//!   derivative is applied by the activation layer below).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Ix1, Ix2};

use super::vector::dot;
use super::Param;
use crate::engine::parallel::{self, map_ordered};

/// Up to this many samples, the forward pass uses dot products, not GEMM.
const SMALL_BATCH: usize = 4;
use crate::engine::Tensor;

#[derive(Debug, Clone)]
pub struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    /// W `[Fout, Fin]`
    pub weight: Param,
    /// `[Fout]`
    pub bias: Param,
}

impl Dense {
    pub fn zeros(inputs: usize, outputs: usize) -> Dense {
        Dense {
            inputs,
            outputs,
            weight: Param::new(Tensor::zeros(vec![outputs, inputs])),
            bias: Param::new(Tensor::zeros(vec![outputs])),
        }
    }

    pub fn forward(&self, x: &Tensor) -> Tensor {
        let x = matrix(x, "dense input");
        let w = matrix(&self.weight.value, "dense weight");
        let b = self
            .bias
            .value
            .view()
            .into_dimensionality::<Ix1>()
            .expect("1-D bias");
        let mut y = Array2::<f32>::zeros((x.nrows(), self.outputs));
        if x.nrows() <= SMALL_BATCH {
            // A few samples (inference, the drawing pad): one dot product per
            // output beats GEMM, which would repack all of W on every call.
            let w = w.as_standard_layout();
            let w = w.as_slice().expect("standard layout");
            for (x_n, mut y_n) in x.rows().into_iter().zip(y.rows_mut()) {
                let x_n = x_n.to_vec();
                for (o, y_o) in y_n.iter_mut().enumerate() {
                    *y_o = b[o] + dot(&w[o * self.inputs..(o + 1) * self.inputs], &x_n);
                }
            }
            return y.into_dyn();
        }
        y.rows_mut().into_iter().for_each(|mut row| row.assign(&b));
        gemm_rows(x, w.t(), 1.0, y.view_mut());
        y.into_dyn()
    }

    pub fn backward(&mut self, x: &Tensor, d_out: &Tensor, need_d_in: bool) -> Option<Tensor> {
        let x = matrix(x, "dense input");
        let d = matrix(d_out, "dense delta");
        {
            let d_w = self
                .weight
                .grad
                .view_mut()
                .into_dimensionality::<Ix2>()
                .expect("2-D weight grad");
            gemm_rows(d.t(), x, 1.0, d_w);
        }
        self.bias.grad += &d.sum_axis(Axis(0)).into_dyn();
        need_d_in.then(|| {
            let w = matrix(&self.weight.value, "dense weight");
            let mut d_in = parallel::zeros((d.nrows(), self.inputs));
            // β = 0: `c` is overwritten, not added to (as `d.dot(w)`: a sum of
            // −0 products stays −0).
            gemm_rows(d, w, 0.0, d_in.view_mut());
            d_in.into_dyn()
        })
    }
}

/// `c = a · b + β·c`, its rows cut into one block per thread of the pool. The
/// numbers do not depend on the cut: GEMM orders each value's sum by the
/// inner dimension alone, which no cut of the rows changes (a cut of the
/// inner dimension, the batch in `dW = Dᵀ · x`, would).
fn gemm_rows(a: ArrayView2<f32>, b: ArrayView2<f32>, beta: f32, mut c: ArrayViewMut2<f32>) {
    let rows = a.nrows().div_ceil(rayon::current_num_threads()).max(1);
    let work: Vec<_> = a
        .axis_chunks_iter(Axis(0), rows)
        .zip(c.axis_chunks_iter_mut(Axis(0), rows))
        .collect();
    map_ordered(work, |(a, mut c)| {
        general_mat_mul(1.0, &a, &b, beta, &mut c)
    });
}

/// `t` as the `[rows, columns]` matrix it is (`what` names it in the panic,
/// which would be a wiring bug: the network checks shapes when built).
fn matrix<'a>(t: &'a Tensor, what: &str) -> ArrayView2<'a, f32> {
    t.view()
        .into_dimensionality::<Ix2>()
        .unwrap_or_else(|_| panic!("{what} must be 2-D, got {:?}", t.shape()))
}
