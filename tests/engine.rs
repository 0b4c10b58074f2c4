//! The fast kernels against the naive oracle, batched against per-sample,
//! and the same numbers on any number of threads.

mod common;

use backprop_viz::engine::layers::conv::{backward_naive_strided, forward_naive_strided};
use backprop_viz::engine::layers::Conv2d;
use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::{Phase, Stepper};
use backprop_viz::engine::Tensor;
use common::{check_close, flat, rng, uniform};
use ndarray::{Array1, Array4, Axis};
use proptest::prelude::*;
use std::sync::Arc;

fn random_conv(cin: usize, cout: usize, k: usize, p: usize, seed: u64) -> Conv2d {
    let mut r = rng(seed);
    let mut conv = Conv2d::zeros(cin, cout, k, p);
    conv.weight.value = Arc::new(uniform(&[cout, cin, k, k], -1.0, 1.0, &mut r));
    conv.bias.value = Arc::new(uniform(&[cout], -1.0, 1.0, &mut r));
    conv
}

/// Fast conv (direct or im2col+GEMM, whichever the layer picks) against the
/// six-loop oracle, forward and backward.
/// `[n, cin, cout, k, p, h, w]`: batch, channels in and out, kernel,
/// padding, input height and width.
fn conv_matches_oracle(shape: [usize; 7], seed: u64) {
    strided_conv_matches_oracle(shape, (1, 1), seed);
}

/// The same with stride S and dilation Dl, `(S, Dl)`.
fn strided_conv_matches_oracle(shape: [usize; 7], (st, dl): (usize, usize), seed: u64) {
    let [n, cin, cout, k, p, h, w] = shape;
    let mut conv = random_conv(cin, cout, k, p, seed).strided(st, dl);
    let mut r = rng(seed + 1);
    let x = uniform(&[n, cin, h, w], -1.0, 1.0, &mut r);
    let y = conv.forward(&x);
    let x4: Array4<f32> = x.clone().into_dimensionality().unwrap();
    let w4: Array4<f32> = conv
        .weight
        .value
        .as_ref()
        .clone()
        .into_dimensionality()
        .unwrap();
    let b1: Array1<f32> = conv
        .bias
        .value
        .as_ref()
        .clone()
        .into_dimensionality()
        .unwrap();
    let y_ref = forward_naive_strided(&x4, &w4, &b1, p, (st, dl));
    assert_eq!(y.shape(), y_ref.shape());
    let label = format!("conv n{n} {cin}->{cout} k{k} p{p} s{st} d{dl} {h}x{w}");
    check_close(
        &flat(&y),
        &y_ref.iter().copied().collect::<Vec<_>>(),
        1e-4,
        1e-5,
        &format!("{label} forward"),
    );

    let d = uniform(y.shape(), -1.0, 1.0, &mut r);
    let d_in = conv.backward(&x, &d, true).unwrap();
    let (d_w, d_b, d_in_ref) = backward_naive_strided(
        &x4,
        &w4,
        &d.clone().into_dimensionality().unwrap(),
        p,
        (st, dl),
    );
    check_close(
        &flat(&conv.weight.grad),
        &d_w.iter().copied().collect::<Vec<_>>(),
        1e-3,
        1e-5,
        &format!("{label} dF"),
    );
    check_close(
        &flat(&conv.bias.grad),
        &d_b.to_vec(),
        1e-3,
        1e-5,
        &format!("{label} dB"),
    );
    check_close(
        &flat(&d_in),
        &d_in_ref.iter().copied().collect::<Vec<_>>(),
        1e-4,
        1e-5,
        &format!("{label} D_below"),
    );
}

#[test]
fn conv_kernels_match_the_naive_oracle() {
    // The presets' shapes (stride 1: the direct kernels; odd channel counts
    // and tap counts reach their one-output and one-tap blocks), more than
    // one parallel chunk (n > 8), 5x5 kernels, no and wide padding.
    conv_matches_oracle([3, 1, 1, 3, 1, 28, 28], 1);
    conv_matches_oracle([19, 1, 1, 3, 1, 14, 14], 2);
    conv_matches_oracle([2, 1, 8, 3, 1, 28, 28], 3);
    conv_matches_oracle([10, 8, 16, 3, 1, 14, 14], 4);
    conv_matches_oracle([2, 2, 2, 5, 2, 9, 7], 5);
    conv_matches_oracle([2, 3, 4, 5, 0, 8, 8], 6);
    conv_matches_oracle([1, 2, 1, 3, 2, 3, 3], 7);
}

#[test]
fn strided_and_dilated_kernels_match_the_naive_oracle() {
    // Stride 2 in place of pooling (28 → 14: im2col + GEMM), a stride that
    // leaves the last row unread, stride 3; dilation at stride 1 (the direct
    // kernels) and with stride 2; more than one parallel chunk.
    strided_conv_matches_oracle([3, 1, 4, 3, 1, 28, 28], (2, 1), 1);
    strided_conv_matches_oracle([2, 2, 3, 3, 0, 8, 7], (2, 1), 2);
    strided_conv_matches_oracle([2, 3, 2, 2, 1, 10, 10], (3, 1), 3);
    strided_conv_matches_oracle([10, 1, 2, 3, 2, 14, 14], (1, 2), 4);
    strided_conv_matches_oracle([2, 4, 4, 3, 1, 11, 9], (1, 3), 5);
    strided_conv_matches_oracle([2, 2, 2, 3, 2, 12, 12], (2, 2), 6);
    strided_conv_matches_oracle([1, 1, 1, 5, 0, 9, 9], (2, 2), 7);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn conv_matches_oracle_for_any_shape(
        n in 1usize..4, cin in 1usize..4, cout in 1usize..5,
        k in prop::sample::select(vec![1usize, 3, 5]), p in 0usize..3,
        h in 5usize..11, w in 5usize..11, seed in 0u64..1000,
    ) {
        conv_matches_oracle([n, cin, cout, k, p, h, w], seed);
    }

    #[test]
    fn strided_conv_matches_oracle_for_any_shape(
        n in 1usize..3, cin in 1usize..4, cout in 1usize..4,
        k in prop::sample::select(vec![1usize, 2, 3]), p in 0usize..3,
        st in 1usize..4, dl in 1usize..3,
        h in 7usize..12, w in 7usize..12, seed in 0u64..1000,
    ) {
        strided_conv_matches_oracle([n, cin, cout, k, p, h, w], (st, dl), seed);
    }
}

/// The whole network on a batch equals the network on each sample alone, and
/// the batch's gradient (mean loss) is the mean of the per-sample gradients.
#[test]
fn batched_equals_per_sample() {
    for preset in ["seed", "lenet", "strided"] {
        let net = Network::preset(preset, 7).unwrap();
        let mut r = rng(8);
        let x = uniform(&[11, 1, 28, 28], 0.0, 1.0, &mut r);
        let labels: Vec<u8> = (0..11).map(|i| (i * 7 % 10) as u8).collect();
        let logits = net.forward(&x);
        for (i, row) in logits.axis_iter(Axis(0)).enumerate() {
            let single = net.forward(&x.index_axis(Axis(0), i).insert_axis(Axis(0)).to_owned());
            check_close(
                &row.iter().copied().collect::<Vec<_>>(),
                &flat(&single),
                1e-5,
                1e-5,
                &format!("{preset} logits[{i}]"),
            );
        }

        let grads = |x: Tensor, labels: Vec<u8>| {
            let mut s = Stepper::new(net.clone(), Optimizer::new(OptimizerKind::Sgd, 0.0));
            s.begin(x, labels);
            while s.next_phase() != Phase::Update {
                s.step();
            }
            s.network
                .layers
                .iter()
                .filter_map(|l| l.params())
                .flat_map(|(w, b)| flat(&w.grad).into_iter().chain(flat(&b.grad)))
                .collect::<Vec<f32>>()
        };
        let batch = grads(x.clone(), labels.clone());
        let mut mean = vec![0.0f32; batch.len()];
        for (i, &label) in labels.iter().enumerate() {
            let one = grads(
                x.index_axis(Axis(0), i).insert_axis(Axis(0)).to_owned(),
                vec![label],
            );
            mean.iter_mut().zip(one).for_each(|(m, g)| *m += g / 11.0);
        }
        check_close(
            &batch,
            &mean,
            1e-6,
            1e-4,
            &format!("{preset} batch gradient"),
        );
    }
}

/// Bit-identical training on 1, 2 and 3 threads.
#[test]
fn same_numbers_on_any_thread_count() {
    let run = |threads: usize| -> Vec<f32> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut r = rng(9);
            let mut s = Stepper::new(
                Network::preset("lenet", 3).unwrap(),
                Optimizer::new(OptimizerKind::Adam, 1e-3),
            );
            let mut losses = Vec::new();
            for _ in 0..5 {
                let x = uniform(&[37, 1, 28, 28], 0.0, 1.0, &mut r);
                let labels: Vec<u8> = (0..37).map(|i| (i % 10) as u8).collect();
                losses.push(s.train_batch(x, labels));
            }
            let params = s
                .network
                .layers
                .iter()
                .filter_map(|l| l.params())
                .flat_map(|(w, b)| flat(&w.value).into_iter().chain(flat(&b.value)));
            losses.into_iter().chain(params).collect()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2), "1 vs 2 threads");
    assert_eq!(one, run(3), "1 vs 3 threads");
}

/// The stepper runs the phases in order and records every number.
#[test]
fn stepper_phase_order_and_trace() {
    let net = Network::preset("seed", 1).unwrap();
    let n = net.layers.len();
    let mut s = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.1));
    s.record = true;
    let x = uniform(&[4, 1, 28, 28], 0.0, 1.0, &mut rng(2));
    s.begin(x, vec![1, 2, 3, 4]);
    let mut phases = Vec::new();
    loop {
        let p = s.step();
        if p == Phase::Done {
            break;
        }
        phases.push(p);
    }
    let mut expected: Vec<Phase> = (0..n).map(Phase::Forward).collect();
    expected.push(Phase::Loss);
    expected.extend((0..n).rev().map(Phase::Backward));
    expected.push(Phase::Update);
    assert_eq!(phases, expected);

    let t = s.trace();
    for (i, layer) in t.layers.iter().enumerate() {
        assert!(layer.out.is_some() && layer.delta.is_some(), "layer {i}");
    }
    // The update used the recorded gradient: after = before − η·dF (SGD).
    let conv1 = &t.layers[0];
    let (before, grad, after) = (
        conv1.weight.as_ref().unwrap(),
        conv1.weight_grad.as_ref().unwrap(),
        conv1.weight_after.as_ref().unwrap(),
    );
    let expected_after: Vec<f32> = before
        .iter()
        .zip(grad.iter())
        .map(|(w, g)| w - 0.1 * g)
        .collect();
    assert_eq!(flat(after), expected_after);
    assert_ne!(flat(before), flat(after));
}

/// Frozen conv layers keep their filters; dense layers still learn.
#[test]
fn freeze_conv_keeps_filters() {
    let net = Network::preset("seed", 1).unwrap();
    let before = net.clone();
    let mut s = Stepper::new(net, Optimizer::new(OptimizerKind::Adam, 1e-2));
    s.freeze_conv = true;
    let x = uniform(&[8, 1, 28, 28], 0.0, 1.0, &mut rng(3));
    s.train_batch(x, vec![0, 1, 2, 3, 4, 5, 6, 7]);
    for (a, b) in before.layers.iter().zip(&s.network.layers) {
        let (wa, wb) = (a.params(), b.params());
        if let (Some((wa, _)), Some((wb, _))) = (wa, wb) {
            let frozen = matches!(a, backprop_viz::engine::layers::Layer::Conv(_));
            assert_eq!(wa.value == wb.value, frozen);
        }
    }
}

#[test]
fn spec_errors_are_clear() {
    let bad = r#"{"layers": [{"name": "c", "kind": "conv", "in_channels": 2, "out_channels": 1, "kernel": 3}]}"#;
    let specs = Network::specs_from_json(bad).unwrap();
    let err = Network::new(specs).unwrap_err().to_string();
    assert!(
        err.contains("expects 2 input channels but receives 1"),
        "{err}"
    );
    let ends_wrong = r#"[{"name": "f", "kind": "flatten"}, {"name": "d", "kind": "dense", "in": 784, "out": 5}]"#;
    let err = Network::new(Network::specs_from_json(ends_wrong).unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("must end in 10 outputs"), "{err}");
    assert!(Network::specs_from_json("{").is_err());
    assert!(Network::preset("nope", 1).is_err());
}

/// The JSON spec round-trips, in the exact form CONTRACTS.md shows.
#[test]
fn spec_json_round_trip() {
    let specs = backprop_viz::engine::network::preset_specs("seed").unwrap();
    let json = Network::specs_to_json(&specs);
    assert!(json.contains(r#"{"name":"conv1","kind":"conv","in_channels":1,"out_channels":1,"kernel":3,"padding":1,"stride":1}"#), "{json}");
    assert!(json.contains(r#"{"name":"pool1","kind":"maxpool","size":2}"#));
    assert!(json.contains(r#"{"name":"fc1","kind":"dense","in":49,"out":49}"#));
    assert_eq!(Network::specs_from_json(&json).unwrap(), specs);
}

/// Batch norm's running statistics after one training step, worked by
/// hand in f64 from the batch that reached it: PyTorch's rule, momentum
/// 0.1 from mean 0 and variance 1, the variance unbiased (m − 1).
/// Inference then normalises by them, and a model file keeps them.
#[test]
fn batch_norm_running_statistics_follow_pytorch_and_are_saved() {
    use backprop_viz::engine::layers::Layer;
    let net = Network::preset("bn", 2).unwrap();
    let mut r = rng(9);
    let input = uniform(&[4, 1, 28, 28], 0.0, 1.0, &mut r);
    let mut stepper = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.0));
    stepper.record = true;
    stepper.begin(input.clone(), vec![1, 2, 3, 4]);
    stepper.finish();
    let x = stepper.trace().layer_input(1).unwrap().clone();
    let Layer::BatchNorm(bn) = &stepper.network.layers[1] else {
        panic!("bn1 is layer 1")
    };
    let m = (4 * 28 * 28) as f64;
    for c in 0..bn.channels {
        let plane = x.index_axis(Axis(1), c);
        let mean = plane.iter().map(|&v| v as f64).sum::<f64>() / m;
        let var = plane
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / (m - 1.0);
        let (rm, rv) = (bn.running_mean[c] as f64, bn.running_var[c] as f64);
        assert!(
            (rm - 0.1 * mean).abs() < 1e-6,
            "channel {c}: {rm} vs {}",
            0.1 * mean
        );
        assert!((rv - (0.9 + 0.1 * var)).abs() < 1e-5, "channel {c}: {rv}");
    }
    // Inference: (x − running mean) / √(running var + ε) · γ + β.
    let y = bn.infer(&x);
    let (c, at) = (3, [2, 3, 5, 7]);
    let expected = (x[at] - bn.running_mean[c]) / (bn.running_var[c] + bn.eps).sqrt()
        * bn.weight.value[c]
        + bn.bias.value[c];
    assert!((y[at] - expected).abs() < 1e-6);
    // A model keeps them, and the network read back infers the same.
    let bytes = backprop_viz::io::model_bytes(&stepper.network);
    let back = backprop_viz::io::read_model(std::path::Path::new("m"), &bytes).unwrap();
    let Layer::BatchNorm(read) = &back.layers[1] else {
        panic!("bn1 is layer 1")
    };
    assert_eq!(read.running_mean, bn.running_mean);
    assert_eq!(read.running_var, bn.running_var);
    assert_eq!(back.forward(&input), stepper.network.forward(&input));
    // A model from elsewhere whose running variance is negative (a square
    // root of it would be NaN) is refused, naming the tensor.
    let mut hostile = stepper.network.clone();
    if let Layer::BatchNorm(bn) = &mut hostile.layers[1] {
        bn.running_var[2] = -1.0;
    }
    let bytes = backprop_viz::io::model_bytes(&hostile);
    let err = backprop_viz::io::read_model(std::path::Path::new("m"), &bytes).unwrap_err();
    assert!(err.to_string().contains("bn1.running_var"), "{err}");
}

/// Max pooling's 2x2 backward (the presets' fast path, which finds each
/// window's winner from the forward's output) routes every delta to the
/// cell `winners` names — the window's first maximum in row-major order —
/// on planes full of ties, signed zeros and NaNs, at even and odd sides
/// (an odd side's last row or column is in no window and gets 0).
#[test]
fn max_pool_2x2_backward_follows_the_first_maximum() {
    use backprop_viz::engine::layers::{Pool, PoolKind};
    let pool = Pool::new(PoolKind::Max, 2, 2);
    let values = [0.0, -0.0, 0.5, 1.0, -1.0, f32::NAN];
    for (side, seed) in [(28, 1u32), (14, 2), (7, 3), (9, 4)] {
        let mut state = seed;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let x = Tensor::from_shape_fn(vec![11, 3, side, side], |_| {
            values[next() as usize % values.len()]
        });
        let y = pool.forward(&x);
        let d = Tensor::from_shape_fn(y.raw_dim(), |_| (next() % 1000) as f32 / 100.0 + 1.0);
        let d_in = pool.backward(&x, &y, &d);
        let winners = pool.winners(&x).expect("max pooling has winners");
        let mut want = vec![0.0f32; x.len()];
        let plane = side * side;
        for (k, (&at, &g)) in winners.iter().zip(d.iter()).enumerate() {
            let windows = y.len() / (x.len() / plane);
            want[k / windows * plane + at as usize] += g;
        }
        let got: Vec<f32> = d_in.iter().copied().collect();
        assert_eq!(got, want, "side {side}");
    }
}
