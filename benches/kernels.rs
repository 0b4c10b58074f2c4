//! Criterion benchmarks of the kernels that dominate training: conv forward
//! and backward at the presets' shapes, pooling, and a whole training step.
//! `cargo bench --bench kernels`

use std::hint::black_box;
use std::sync::Arc;

use backprop_viz::engine::layers::{Conv2d, Layer, LayerKind};
use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::Tensor;
use criterion::{criterion_group, criterion_main, Criterion};

const BATCH: usize = 64;

fn tensor(shape: &[usize], seed: u32) -> Tensor {
    let mut state = seed.wrapping_mul(2654435761).max(1);
    Tensor::from_shape_fn(shape.to_vec(), |_| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 1000) as f32 / 1000.0 - 0.3
    })
}

fn conv(c: &mut Criterion, name: &str, cin: usize, cout: usize, hw: usize) {
    let mut layer = Conv2d::zeros(cin, cout, 3, 1);
    layer.weight.value = Arc::new(tensor(&[cout, cin, 3, 3], 1));
    let x = tensor(&[BATCH, cin, hw, hw], 2);
    let d = tensor(&[BATCH, cout, hw, hw], 3);
    c.bench_function(&format!("{name} forward (batch {BATCH})"), |b| {
        b.iter(|| black_box(layer.forward(&x)))
    });
    c.bench_function(&format!("{name} backward dF only"), |b| {
        b.iter(|| black_box(layer.backward(&x, &d, false)))
    });
    c.bench_function(&format!("{name} backward dF + D_below"), |b| {
        b.iter(|| black_box(layer.backward(&x, &d, true)))
    });
}

fn kernels(c: &mut Criterion) {
    // One thread: the kernels' own speed, not the machine's core count.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global();
    {
        conv(c, "seed conv1 1->1 28x28", 1, 1, 28);
        conv(c, "seed conv2 1->1 14x14", 1, 1, 14);
        conv(c, "lenet conv1 1->8 28x28", 1, 8, 28);
        conv(c, "lenet conv2 8->16 14x14", 8, 16, 14);
        let maxpool = Layer::from_kind(&LayerKind::Maxpool {
            size: 2,
            stride: None,
        });
        let x = tensor(&[BATCH, 8, 28, 28], 4);
        let y = maxpool.forward(&x);
        let d = tensor(y.shape(), 5);
        let mut mp = maxpool.clone();
        c.bench_function("maxpool 8x28x28 forward", |b| {
            b.iter(|| black_box(maxpool.forward(&x)))
        });
        c.bench_function("maxpool 8x28x28 backward", |b| {
            b.iter(|| black_box(mp.backward(&x, &y, &d, true)))
        });
        for preset in ["seed", "lenet"] {
            let mut stepper = Stepper::new(
                Network::preset(preset, 1).unwrap(),
                Optimizer::new(OptimizerKind::Sgd, 0.01),
            );
            let input = tensor(&[BATCH, 1, 28, 28], 6).mapv(|v| v.max(0.0));
            let labels: Vec<u8> = (0..BATCH).map(|i| (i % 10) as u8).collect();
            c.bench_function(
                &format!("{preset} training step (batch {BATCH}, 1 thread)"),
                |b| b.iter(|| black_box(stepper.train_batch(input.clone(), labels.clone()))),
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = kernels
}
criterion_main!(benches);
