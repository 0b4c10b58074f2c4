//! Numbers small enough to check by hand. Each expected literal says where it
//! comes from.

mod common;

use backprop_viz::engine::layers::{conv, Activation, Conv2d, Dense, Pool, PoolKind};
use backprop_viz::engine::loss::softmax_cross_entropy;
use backprop_viz::engine::Tensor;
use common::{check_close, flat};
use std::sync::Arc;

/// x = arange(16) as 4x4: x[r][c] = 4r + c.
fn x_4x4() -> Tensor {
    Tensor::from_shape_fn(vec![1, 1, 4, 4], |d| (4 * d[2] + d[3]) as f32)
}

/// F = arange(9) as 3x3: F[u][v] = 3u + v; Σ F = 36.
fn conv_3x3(padding: usize) -> Conv2d {
    let mut conv = Conv2d::zeros(1, 1, 3, padding);
    conv.weight.value = Arc::new(Tensor::from_shape_fn(vec![1, 1, 3, 3], |d| {
        (3 * d[2] + d[3]) as f32
    }));
    conv
}

#[test]
fn conv_forward_4x4_by_3x3_valid() {
    // y[0][0] = Σ_uv (3u+v)(4u+v) = (0+1+4) + (12+20+30) + (48+63+80) = 258.
    // Moving one column right adds Σ F = 36 (every x grows by 1): 294.
    // Moving one row down adds 4·36 = 144: 402 and 438.
    let y = conv_3x3(0).forward(&x_4x4());
    assert_eq!(y.shape(), &[1, 1, 2, 2]);
    assert_eq!(flat(&y), vec![258.0, 294.0, 402.0, 438.0]);
}

#[test]
fn conv_backward_4x4_by_3x3_valid() {
    // D = [[1, 2], [3, 4]], Σ D = 10.
    let mut conv = conv_3x3(0);
    let x = x_4x4();
    let d = Tensor::from_shape_vec(vec![1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let d_in = conv.backward(&x, &d, true).unwrap();

    // dF[u][v] = Σ_ij D[i][j]·x[i+u][j+v] = Σ_ij D[i][j]·(4(i+u) + (j+v))
    //          = 10·(4u + v) + Σ_ij D[i][j]·(4i + j) = 10·(4u + v) + (0 + 2 + 12 + 20)
    //          = 40u + 10v + 34.
    let expected_d_f: Vec<f32> = (0..9)
        .map(|k| (40 * (k / 3) + 10 * (k % 3) + 34) as f32)
        .collect();
    assert_eq!(flat(&conv.weight.grad), expected_d_f);
    // dB = Σ D = 10.
    assert_eq!(flat(&conv.bias.grad), vec![10.0]);

    // D_below = full_conv(D, rot180(F)): D_below[r][c] = Σ_ij D[i][j]·F[r−i][c−j].
    // e.g. [0][0] = D00·F00 = 0; [0][1] = D00·F01 + D01·F00 = 1;
    // [1][1] = D00·F11 + D01·F10 + D10·F01 + D11·F00 = 4 + 6 + 3 + 0 = 13;
    // [3][3] = D11·F22 = 32.
    let expected = [
        0., 1., 4., 4., 3., 13., 23., 18., 15., 43., 53., 36., 18., 45., 52., 32.,
    ];
    assert_eq!(flat(&d_in), expected.to_vec());
}

#[test]
fn conv_same_padding_4x4() {
    // With padding 1 the centre 2x2 equals the valid result above; a corner
    // sees only 4 inputs: y[0][0] = F11·x00 + F12·x01 + F21·x10 + F22·x11
    // = 4·0 + 5·1 + 7·4 + 8·5 = 73.
    let mut conv = conv_3x3(1);
    let x = x_4x4();
    let y = conv.forward(&x);
    let expected = [
        73., 121., 154., 103., 171., 258., 294., 186., 279., 402., 438., 270., 139., 187., 202.,
        113.,
    ];
    assert_eq!(flat(&y), expected.to_vec());

    // D = ones(4x4): dF[u][v] = sum of the 4x4 window of the padded input
    // that tap (u, v) sees. Centre tap: Σ x = 120. Corner (0,0): x[0..3][0..3]
    // = 0+1+2 + 4+5+6 + 8+9+10 = 45.
    let ones = Tensor::from_elem(vec![1, 1, 4, 4], 1.0);
    let d_in = conv.backward(&x, &ones, true).unwrap();
    assert_eq!(
        flat(&conv.weight.grad),
        vec![45., 66., 54., 84., 120., 96., 81., 114., 90.]
    );
    assert_eq!(flat(&conv.bias.grad), vec![16.0]);
    // D_below[r][c] = sum of the F taps that read x[r][c] (D is all ones).
    // An inner pixel is read through all nine taps: Σ F = 36. x[0][0] is read
    // by outputs (i, j) ∈ {0,1}² through tap (1−i, 1−j): F11 + F10 + F01 + F00
    // = 4 + 3 + 1 + 0 = 8. x[3][3] through taps (1,1), (1,2), (2,1), (2,2): 4 + 5 + 7 + 8 = 24.
    let expected = [
        8., 15., 15., 12., 21., 36., 36., 27., 21., 36., 36., 27., 20., 33., 33., 24.,
    ];
    assert_eq!(flat(&d_in), expected.to_vec());
}

#[test]
fn naive_oracle_agrees_with_hand_numbers() {
    let x = x_4x4().into_dimensionality().unwrap();
    let conv = conv_3x3(0);
    let w = conv
        .weight
        .value
        .as_ref()
        .clone()
        .into_dimensionality()
        .unwrap();
    let b = ndarray::Array1::zeros(1);
    let y = conv::forward_naive(&x, &w, &b, 0);
    assert_eq!(
        y.iter().copied().collect::<Vec<_>>(),
        vec![258.0, 294.0, 402.0, 438.0]
    );
    let d = ndarray::Array4::from_shape_vec((1, 1, 2, 2), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let (d_f, d_b, d_in) = conv::backward_naive(&x, &w, &d, 0);
    assert_eq!(d_f[[0, 0, 2, 2]], 134.0); // 40·2 + 10·2 + 34
    assert_eq!(d_b[0], 10.0);
    assert_eq!(d_in[[0, 0, 1, 1]], 13.0);
}

#[test]
fn maxpool_routes_to_first_maximum() {
    // One 4x4 map, 2x2 windows:
    //  1 3 | 0 0      window 0: max 3 at (0,1)
    //  2 3 | 0 0      window 1: all equal (a tie, like blank MNIST): first, (0,2)
    //  ----+----      window 2: max 9 at (3,0)
    //  5 1 | 7 7      window 3: tie 7,7 at (2,2),(2,3): first, (2,2)
    //  9 2 | 7 1
    let x = Tensor::from_shape_vec(
        vec![1, 1, 4, 4],
        vec![
            1., 3., 0., 0., 2., 3., 0., 0., 5., 1., 7., 7., 9., 2., 7., 1.,
        ],
    )
    .unwrap();
    let pool = Pool::new(PoolKind::Max, 2, 2);
    assert_eq!(flat(&pool.forward(&x)), vec![3., 0., 9., 7.]);
    let d = Tensor::from_shape_vec(vec![1, 1, 2, 2], vec![10., 20., 30., 40.]).unwrap();
    let d_in = pool.backward(&x, &pool.forward(&x), &d);
    let expected = [
        0., 10., 20., 0., 0., 0., 0., 0., 0., 0., 40., 0., 30., 0., 0., 0.,
    ];
    assert_eq!(flat(&d_in), expected.to_vec());
}

#[test]
fn avgpool_spreads_evenly() {
    let x = Tensor::from_shape_fn(vec![1, 1, 2, 2], |d| (2 * d[2] + d[3]) as f32); // 0 1 / 2 3
    let pool = Pool::new(PoolKind::Avg, 2, 2);
    assert_eq!(flat(&pool.forward(&x)), vec![1.5]); // (0+1+2+3)/4
    let d_in = pool.backward(
        &x,
        &pool.forward(&x),
        &Tensor::from_elem(vec![1, 1, 1, 1], 8.0),
    );
    assert_eq!(flat(&d_in), vec![2.0; 4]); // 8 / 4 each
}

/// Overlapping windows, worked by hand: 2x2 windows 1 apart on a 3x3 map,
/// so the middle cell is in all four windows and an edge's middle in two.
#[test]
fn overlapping_pools_sum_what_each_window_sends() {
    //  1 2 1      windows (0,0): 1 2 / 0 9 → 9 at (1,1)
    //  0 9 0      (0,1): 2 1 / 9 0 → 9 at (1,1)
    //  3 0 4      (1,0): 0 9 / 3 0 → 9 at (1,1); (1,1): 9 0 / 0 4 → 9
    let x =
        Tensor::from_shape_vec(vec![1, 1, 3, 3], vec![1., 2., 1., 0., 9., 0., 3., 0., 4.]).unwrap();
    let d = Tensor::from_shape_vec(vec![1, 1, 2, 2], vec![1., 10., 100., 1000.]).unwrap();
    let max = Pool::new(PoolKind::Max, 2, 1);
    assert_eq!(flat(&max.forward(&x)), vec![9., 9., 9., 9.]);
    // The middle cell won all four windows: it gets 1 + 10 + 100 + 1000.
    let mut want = vec![0.; 9];
    want[4] = 1111.;
    assert_eq!(flat(&max.backward(&x, &max.forward(&x), &d)), want);
    // Average: each window sends a quarter of its delta to each of its cells.
    let avg = Pool::new(PoolKind::Avg, 2, 1);
    assert_eq!(flat(&avg.forward(&x)), vec![3., 3., 3., 3.25]);
    let q = |v: f32| v / 4.0;
    assert_eq!(
        flat(&avg.backward(&x, &avg.forward(&x), &d)),
        vec![
            q(1.),
            q(1. + 10.),
            q(10.),
            q(1. + 100.),
            q(1. + 10. + 100. + 1000.),
            q(10. + 1000.),
            q(100.),
            q(100. + 1000.),
            q(1000.),
        ]
    );
}

#[test]
fn relu_masks_with_zero_derivative_at_zero() {
    let x = Tensor::from_shape_vec(vec![1, 4], vec![-1.0, 0.0, 0.5, 2.0]).unwrap();
    let y = Activation::Relu.forward(&x);
    assert_eq!(flat(&y), vec![0.0, 0.0, 0.5, 2.0]);
    let d = Tensor::from_elem(vec![1, 4], 3.0);
    assert_eq!(
        flat(&Activation::Relu.backward(&x, &y, &d)),
        vec![0.0, 0.0, 3.0, 3.0]
    );
}

#[test]
fn dense_input_times_delta() {
    // W = [[1, 2], [3, 4], [5, 6]] (3 outputs, 2 inputs), b = [0.5, 0, −1], x = [1, −1].
    // y = W·x + b = [1−2+0.5, 3−4, 5−6−1] = [−0.5, −1, −2].
    let mut dense = Dense::zeros(2, 3);
    dense.weight.value =
        Arc::new(Tensor::from_shape_vec(vec![3, 2], vec![1., 2., 3., 4., 5., 6.]).unwrap());
    dense.bias.value = Arc::new(Tensor::from_shape_vec(vec![3], vec![0.5, 0.0, -1.0]).unwrap());
    let x = Tensor::from_shape_vec(vec![1, 2], vec![1.0, -1.0]).unwrap();
    assert_eq!(flat(&dense.forward(&x)), vec![-0.5, -1.0, -2.0]);
    // D = [1, 0, 2]: dW = D ⊗ x = [[1, −1], [0, 0], [2, −2]]; db = D;
    // D_below = Wᵀ·D = [1·1 + 3·0 + 5·2, 2·1 + 4·0 + 6·2] = [11, 14].
    let d = Tensor::from_shape_vec(vec![1, 3], vec![1.0, 0.0, 2.0]).unwrap();
    let d_in = dense.backward(&x, &d, true).unwrap();
    assert_eq!(flat(&dense.weight.grad), vec![1., -1., 0., 0., 2., -2.]);
    assert_eq!(flat(&dense.bias.grad), vec![1.0, 0.0, 2.0]);
    assert_eq!(flat(&d_in), vec![11.0, 14.0]);
}

#[test]
fn cross_entropy_of_uniform_logits() {
    // Equal logits: p = 1/10 each, L = ln 10 = 2.302585;
    // dL/dlogits = (p − one_hot)/N with N = 2: 0.05, and −0.45 at the label.
    let logits = Tensor::zeros(vec![2, 10]);
    let out = softmax_cross_entropy(&logits, &[3, 7]);
    check_close(&[out.loss], &[std::f32::consts::LN_10], 1e-6, 0.0, "loss");
    let mut expected = vec![0.05f32; 20];
    expected[3] = -0.45;
    expected[10 + 7] = -0.45;
    check_close(&flat(&out.d_logits), &expected, 1e-7, 0.0, "d_logits");
}

#[test]
fn cross_entropy_is_exact_for_extreme_logits() {
    // p_label underflows to 0 in f32, yet the loss is the logit gap: 200.
    let mut logits = Tensor::zeros(vec![1, 10]);
    logits[[0, 0]] = 200.0;
    let out = softmax_cross_entropy(&logits, &[1]);
    check_close(&[out.loss], &[200.0], 1e-3, 0.0, "loss");
}

/// F = [[1, 0], [0, −1]]: each output is one cell minus the one diagonally
/// below-right of it (`dilation` apart), the windows `stride` apart.
fn conv_diagonal(stride: usize, dilation: usize) -> Conv2d {
    let mut conv = Conv2d::zeros(1, 1, 2, 0).strided(stride, dilation);
    conv.weight.value =
        Arc::new(Tensor::from_shape_vec(vec![1, 1, 2, 2], vec![1.0, 0.0, 0.0, -1.0]).unwrap());
    conv
}

/// The diagonal filter at `(stride, dilation)` on x[r][c] = 4r + c with
/// D = [[1, 2], [3, 4]]: every output is `y`, and the layer and the oracle
/// written as taught (D dilated, then the full convolution with rot180 F)
/// both give `d_f` and `below`.
fn diagonal_by_hand(spacing: (usize, usize), y: f32, d_f: [f32; 4], below: [f32; 16]) {
    let mut conv = conv_diagonal(spacing.0, spacing.1);
    let x = x_4x4();
    let out = conv.forward(&x);
    assert_eq!(out.shape(), &[1, 1, 2, 2]);
    assert_eq!(flat(&out), vec![y; 4]);
    let d = Tensor::from_shape_vec(vec![1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    let d_in = conv.backward(&x, &d, true).unwrap();
    assert_eq!(flat(&conv.weight.grad), d_f.to_vec());
    assert_eq!(flat(&conv.bias.grad), vec![10.0]);
    assert_eq!(flat(&d_in), below.to_vec());
    let w = conv
        .weight
        .value
        .as_ref()
        .clone()
        .into_dimensionality()
        .unwrap();
    let (naive_f, _, naive_in) = conv::backward_naive_strided(
        &x.into_dimensionality().unwrap(),
        &w,
        &d.into_dimensionality().unwrap(),
        0,
        spacing,
    );
    assert_eq!(naive_f.iter().copied().collect::<Vec<_>>(), d_f.to_vec());
    assert_eq!(naive_in.iter().copied().collect::<Vec<_>>(), below.to_vec());
}

/// Stride 2: y[i][j] = x[2i][2j] − x[2i+1][2j+1] = −5 everywhere (the cell
/// below-right is 4 + 1 more).
/// dF[u][v] = Σ D[i][j]·x[2i+u][2j+v] = Σ D·(8i + 2j) + (4u + v)·Σ D
///          = (2·2 + 3·8 + 4·10) + 10·(4u + v) = 68 + 10·(4u + v);
/// D_below: D[i][j] lands on (2i, 2j) times 1 and on (2i+1, 2j+1) times −1,
/// the cells between the windows' taps get nothing (the delta dilated by
/// the stride: its zeros).
#[test]
fn conv_stride_2_by_hand() {
    #[rustfmt::skip]
    let below = [
        1.0,  0.0, 2.0,  0.0,
        0.0, -1.0, 0.0, -2.0,
        3.0,  0.0, 4.0,  0.0,
        0.0, -3.0, 0.0, -4.0,
    ];
    diagonal_by_hand((2, 1), -5.0, [68.0, 78.0, 108.0, 118.0], below);
}

/// Dilation 2: the taps 2 apart, y[i][j] = x[i][j] − x[i+2][j+2] = −10.
/// dF[u][v] = Σ D[i][j]·x[i+2u][j+2v] = Σ D·(4i + j) + (8u + 2v)·Σ D
///          = (2·1 + 3·4 + 4·5) + 10·(8u + 2v) = 34 + 10·(8u + 2v);
/// D_below: D lands on its own cells times 1 and two cells down-right
/// times −1.
#[test]
fn conv_dilation_2_by_hand() {
    #[rustfmt::skip]
    let below = [
        1.0, 2.0,  0.0,  0.0,
        3.0, 4.0,  0.0,  0.0,
        0.0, 0.0, -1.0, -2.0,
        0.0, 0.0, -3.0, -4.0,
    ];
    diagonal_by_hand((1, 2), -10.0, [34.0, 54.0, 114.0, 134.0], below);
}
