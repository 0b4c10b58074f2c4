//! Flatten: `[N, C, H, W]` → `[N, C·H·W]` in (channel, row, column) order, as
//! `torch.flatten(x, 1)`. Backward is the same reshape in reverse: the FC
//! layer's 49-vector delta becomes the 7x7 map the pooling layer understands.

use crate::engine::Tensor;

pub fn forward(x: &Tensor) -> Tensor {
    let n = x.shape()[0];
    let f = x.len() / n.max(1);
    x.as_standard_layout()
        .into_owned()
        .into_shape_with_order(vec![n, f])
        .expect("flatten keeps the element count")
}

pub fn backward(x: &Tensor, d_out: &Tensor) -> Tensor {
    d_out
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order(x.raw_dim())
        .expect("unflatten keeps the element count")
}
