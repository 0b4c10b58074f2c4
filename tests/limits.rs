//! The one validation every network goes through (`engine::limits::plan`,
//! called by `Network::new`): each limit refused with a message that names
//! it, shape arithmetic that cannot wrap, memory estimates that hold, and the
//! counters a session can carry that cannot overflow.

use backprop_viz::engine::layers::{LayerKind, LayerSpec};
use backprop_viz::engine::limits::{
    plan, MAX_ACTIVATIONS, MAX_BATCH_BYTES, MAX_KERNEL, MAX_LAYERS, MAX_PADDING, MAX_PARAMETERS,
};
use backprop_viz::engine::network::{preset_specs, Network};
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::{EngineError, Tensor};

fn spec(name: &str, kind: LayerKind) -> LayerSpec {
    LayerSpec {
        name: name.into(),
        kind,
    }
}

fn conv(cin: usize, cout: usize, kernel: usize, padding: usize) -> LayerKind {
    LayerKind::Conv {
        in_channels: cin,
        out_channels: cout,
        kernel,
        padding,
        stride: 1,
        dilation: 1,
    }
}

fn dense(inputs: usize, outputs: usize) -> LayerKind {
    LayerKind::Dense { inputs, outputs }
}

/// conv → flatten → dense(…→10): the smallest complete network around one
/// conv layer whose output is `[cout, side, side]`.
fn around_conv(cout: usize, kernel: usize, padding: usize) -> Vec<LayerSpec> {
    let side = 28usize
        .saturating_add(padding.saturating_mul(2))
        .saturating_sub(kernel)
        .saturating_add(1);
    vec![
        spec("c", conv(1, cout, kernel, padding)),
        spec("f", LayerKind::Flatten),
        spec(
            "d",
            dense(cout.saturating_mul(side.saturating_mul(side)), 10),
        ),
    ]
}

fn refused(specs: Vec<LayerSpec>) -> EngineError {
    let e = plan(&specs).expect_err("the plan refuses it");
    // `Network::new` is the same door: it refuses with the same error.
    assert_eq!(Network::new(specs).unwrap_err(), e);
    e
}

#[test]
fn the_presets_are_far_inside_every_limit() {
    for name in ["seed", "lenet"] {
        let p = plan(&preset_specs(name).unwrap()).unwrap();
        assert_eq!(p.shapes.last().unwrap(), &vec![10]);
        assert!(p.parameters < 300_000, "{name}: {}", p.parameters);
        assert!(p.activations < 30_000, "{name}: {}", p.activations);
        p.check_batch(16).unwrap();
        p.check_batch(512).unwrap();
        assert!(p.largest_batch() > 5_000, "{name}: {}", p.largest_batch());
    }
    // The seed network's numbers, by hand: conv1 9 + 1, conv2 9 + 1,
    // fc1 49·49 + 49, fc2 49·10 + 10 = 2970 parameters; values per sample:
    // conv1, relu1 784 each; pool1, conv2, relu2 196 each; pool2, flatten,
    // fc1, relu3 49 each; fc2 10.
    let p = plan(&preset_specs("seed").unwrap()).unwrap();
    assert_eq!(p.parameters, 2970);
    assert_eq!(p.activations, 784 * 2 + 196 * 3 + 49 * 4 + 10);
    assert_eq!(
        p.parameters,
        Network::preset("seed", 1).unwrap().parameter_count() as u64
    );
}

#[test]
fn conv_with_a_billion_filters_is_refused_before_allocating() {
    // 36 GB of weights if it were built: refused from the description.
    let e = refused(around_conv(1_000_000_000, 3, 1));
    assert!(
        matches!(
            e,
            EngineError::TooManyParameters { .. } | EngineError::TooManyActivations { .. }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("100 million"), "{e}");
}

#[test]
fn sizes_near_the_top_of_usize_do_not_wrap() {
    for huge in [1usize << 62, usize::MAX, 1 << 40] {
        // dense 784 → 2⁶²
        let e = refused(vec![
            spec("f", LayerKind::Flatten),
            spec("d1", dense(784, huge)),
            spec("d2", dense(huge, 10)),
        ]);
        assert!(
            matches!(
                e,
                EngineError::TooManyParameters { .. } | EngineError::TooManyActivations { .. }
            ),
            "{huge}: {e:?}"
        );
        // conv 1 → 2⁶²
        let e = refused(around_conv(huge, 3, 1));
        assert!(
            matches!(
                e,
                EngineError::TooManyParameters { .. } | EngineError::TooManyActivations { .. }
            ),
            "{huge}: {e:?}"
        );
        // in_channels mismatch with a huge claim
        let e = refused(vec![spec("c", conv(huge, 1, 3, 1))]);
        assert!(matches!(e, EngineError::ChannelMismatch { .. }), "{e:?}");
    }
}

#[test]
fn kernel_and_padding_limits_name_the_limit() {
    let e = refused(around_conv(1, 1000, 500));
    assert_eq!(
        e,
        EngineError::KernelTooLarge {
            layer: "c".into(),
            kernel: 1000
        }
    );
    assert!(e.to_string().contains("limit of 15"), "{e}");
    let e = refused(around_conv(1, 3, 1 << 63));
    assert_eq!(
        e,
        EngineError::PaddingTooLarge {
            layer: "c".into(),
            padding: 1 << 63
        }
    );
    assert!(e.to_string().contains("limit of 7"), "{e}");
    let e = refused(around_conv(1, 3, usize::MAX));
    assert!(matches!(e, EngineError::PaddingTooLarge { .. }), "{e:?}");
    // At the limits themselves the network builds and runs.
    let specs = around_conv(1, MAX_KERNEL, MAX_PADDING);
    let net = Network::new(specs).unwrap();
    assert_eq!(net.shapes()[0], vec![1, 28, 28]);
    let y = net.forward(&Tensor::zeros(vec![2, 1, 28, 28]));
    assert_eq!(y.shape(), &[2, 10]);
}

#[test]
fn too_many_layers_is_refused_first() {
    // 100,000 ReLU layers: refused by count, before any shape is computed.
    let mut specs: Vec<LayerSpec> = (0..100_000)
        .map(|i| spec(&format!("r{i}"), LayerKind::Relu))
        .collect();
    specs.push(spec("f", LayerKind::Flatten));
    specs.push(spec("d", dense(784, 10)));
    let started = std::time::Instant::now();
    let e = refused(specs);
    assert_eq!(e, EngineError::TooManyLayers { count: 100_002 });
    assert!(e.to_string().contains("at most 64"), "{e}");
    // Not a timing test: a generous bound on something that used to hang.
    assert!(started.elapsed().as_secs() < 5);
    // 64 layers are fine.
    let mut specs: Vec<LayerSpec> = (0..MAX_LAYERS - 2)
        .map(|i| spec(&format!("r{i}"), LayerKind::Relu))
        .collect();
    specs.push(spec("f", LayerKind::Flatten));
    specs.push(spec("d", dense(784, 10)));
    Network::new(specs).unwrap();
    // The JSON door counts before building the specs.
    let json = format!(
        "[{}]",
        vec![r#"{"name":"r","kind":"relu"}"#; 1000].join(",")
    );
    assert_eq!(
        Network::specs_from_json(&json).unwrap_err(),
        EngineError::TooManyLayers { count: 1000 }
    );
}

#[test]
fn activation_limit_counts_every_layer() {
    // 128 filters of 28x28 = 100,352 values per layer; 1000 such layers
    // would be far over, but 64 layers of ReLU over a 1→8000 conv (6.3 M
    // values each) cross 100 M.
    let mut specs = vec![spec("c", conv(1, 8000, 3, 1))];
    for i in 0..20 {
        specs.push(spec(&format!("r{i}"), LayerKind::Relu));
    }
    specs.push(spec("f", LayerKind::Flatten));
    specs.push(spec("d", dense(8000 * 784, 10)));
    let e = refused(specs);
    assert_eq!(
        e,
        EngineError::TooManyActivations {
            limit: MAX_ACTIVATIONS
        }
    );
    assert!(e.to_string().contains("100 million values"), "{e}");
}

#[test]
fn parameter_limit_is_exact() {
    // dense 784 → h → 10 has 784h + h + 10h + 10 = 795h + 10 parameters.
    let fits = (MAX_PARAMETERS - 10) / 795;
    let net = |h: usize| {
        vec![
            spec("f", LayerKind::Flatten),
            spec("d1", dense(784, h)),
            spec("d2", dense(h, 10)),
        ]
    };
    assert_eq!(
        plan(&net(fits as usize)).unwrap().parameters,
        795 * fits + 10
    );
    assert_eq!(
        refused(net(fits as usize + 1)),
        EngineError::TooManyParameters {
            limit: MAX_PARAMETERS
        }
    );
}

#[test]
fn names_are_checked() {
    let mut specs = preset_specs("seed").unwrap();
    specs[1].name = specs[0].name.clone();
    assert!(matches!(refused(specs), EngineError::DuplicateName { .. }));
    let mut specs = preset_specs("seed").unwrap();
    specs[2].name = "x".repeat(10_000);
    let e = refused(specs);
    assert!(matches!(e, EngineError::BadName { .. }), "{e:?}");
    assert!(e.to_string().len() < 300, "the message stays short: {e}");
    let mut specs = preset_specs("seed").unwrap();
    specs[3].name = "a\nb".into();
    assert!(matches!(refused(specs), EngineError::BadName { .. }));
}

#[test]
fn shape_rules_never_overflow() {
    // Inputs the engine never produces, straight into the shape rule.
    for input in [
        vec![usize::MAX, usize::MAX, usize::MAX],
        vec![1, usize::MAX, 5],
        vec![1, usize::MAX - 3, usize::MAX - 3],
    ] {
        let _ = conv(input[0], 1, 3, 7).output_shape("c", &input);
        let _ = conv(1, 1, 15, 7).output_shape("c", &input);
        let _ = LayerKind::Maxpool {
            size: 2,
            stride: None,
        }
        .output_shape("p", &input);
        assert!(LayerKind::Flatten.output_shape("f", &input).is_err());
    }
    assert_eq!(
        LayerKind::Flatten.output_shape("f", &[3, 5, 7]).unwrap(),
        vec![105]
    );
}

#[test]
fn batch_memory_is_estimated_and_refused_above_2_gb() {
    let lenet = Network::preset("lenet", 1).unwrap();
    let p = &lenet.plan;
    // Grows with the batch, and the largest batch is the last that fits.
    assert!(p.step_bytes(2).unwrap() > p.step_bytes(1).unwrap());
    let largest = p.largest_batch();
    assert!(p.step_bytes(largest).unwrap() <= MAX_BATCH_BYTES);
    assert!(p.step_bytes(largest + 1).unwrap() > MAX_BATCH_BYTES);
    p.check_batch(largest).unwrap();
    for batch in [largest + 1, 1_000_000_000, usize::MAX] {
        let e = p.check_batch(batch).unwrap_err();
        assert!(
            matches!(e, EngineError::BatchTooLarge { largest: l, .. } if l == largest),
            "{e:?}"
        );
        let text = e.to_string();
        assert!(
            text.contains("2.0 GB") && text.contains(&largest.to_string()),
            "{text}"
        );
    }
    assert_eq!(p.check_batch(0).unwrap_err(), EngineError::ZeroBatch);
    // The estimate is not a guess: one lenet step on 64 samples allocates
    // its trace (every output and delta) and that alone is most of it.
    let per_sample_trace = 4 * 2 * p.activations;
    assert!(p.step_bytes(64).unwrap() > 64 * per_sample_trace);
    assert!(p.step_bytes(64).unwrap() < 64 * per_sample_trace * 4);
}

#[test]
fn forward_chunks_shrink_for_large_networks() {
    let seed = Network::preset("seed", 1).unwrap();
    assert_eq!(seed.plan.forward_chunk(256 << 20, 1000), 1000);
    // 12.5 M values from the conv, kept three times over: ~150 MB per
    // sample, so one sample at a time.
    let mut specs = vec![spec("c", conv(1, 16_000, 3, 1))];
    specs.push(spec("f", LayerKind::Flatten));
    specs.push(spec("p", LayerKind::Relu));
    specs.push(spec("d", dense(16_000 * 784, 1)));
    specs.push(spec("d2", dense(1, 10)));
    let p = plan(&specs).unwrap();
    assert_eq!(p.forward_chunk(256 << 20, 1000), 1);
}

/// A session may carry any step count: Adam's bias correction must not
/// wrap (it used `steps as i32`).
#[test]
fn optimizer_step_count_saturates() {
    for steps in [i32::MAX as u64, i32::MAX as u64 + 1, u64::MAX - 1, u64::MAX] {
        let net = Network::preset("seed", 1).unwrap();
        let mut s = Stepper::new(
            net,
            Optimizer::resume(OptimizerKind::Adam, 1e-3, steps, Vec::new()),
        );
        let x = Tensor::from_shape_fn(vec![2, 1, 28, 28], |d| ((d[2] + d[3]) % 3) as f32 / 2.0);
        let loss = s.train_batch(x, vec![1, 7]);
        assert!(loss.is_finite());
        for layer in &s.network.layers {
            if let Some((w, b)) = layer.params() {
                assert!(
                    w.value.iter().chain(b.value.iter()).all(|v| v.is_finite()),
                    "steps {steps}"
                );
            }
        }
        assert_eq!(s.optimizer.steps, steps.saturating_add(1));
    }
}
