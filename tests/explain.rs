//! Every explanation adds up to the number the engine recorded, for every
//! kind of cell of every layer (the app shows these sums next to the trace).

use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::trace::Trace;
use backprop_viz::engine::Tensor;
use backprop_viz::teach::explain::{explain, CellRef};
use rand::{Rng, SeedableRng};

fn trace(preset: &str) -> Trace {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut s = Stepper::new(
        Network::preset(preset, 2).unwrap(),
        Optimizer::new(OptimizerKind::Sgd, 0.1),
    );
    s.record = true;
    // Sparse, MNIST-like inputs: many exact zeros, so pooling windows tie.
    let x = Tensor::from_shape_fn(vec![4, 1, 28, 28], |_| {
        if rng.random::<f32>() < 0.7 {
            0.0
        } else {
            rng.random()
        }
    });
    s.begin(x, vec![3, 1, 4, 1]);
    s.finish();
    s.trace().clone()
}

fn random_index(shape: &[usize], rng: &mut impl Rng) -> Vec<usize> {
    shape.iter().map(|&d| rng.random_range(0..d)).collect()
}

#[test]
fn explanations_add_up_to_the_trace() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    for preset in ["seed", "lenet"] {
        let t = trace(preset);
        let mut checked = 0;
        for layer in 0..t.names.len() {
            let l = &t.layers[layer];
            for _ in 0..25 {
                let mut cells = vec![
                    CellRef::Delta {
                        layer,
                        index: random_index(l.delta.as_ref().unwrap().shape(), &mut rng),
                    },
                    CellRef::Output {
                        layer,
                        index: random_index(l.out.as_ref().unwrap().shape(), &mut rng),
                    },
                ];
                if let Some(g) = &l.weight_grad {
                    cells.push(CellRef::WeightGrad {
                        layer,
                        index: random_index(g.shape(), &mut rng),
                    });
                }
                for cell in cells {
                    let sample = rng.random_range(0..4);
                    let e = explain(&t, &cell, sample)
                        .unwrap_or_else(|| panic!("{preset}: no explanation for {cell:?}"));
                    assert!(
                        e.agrees(),
                        "{preset} {}: terms add up to {}, the trace holds {} ({cell:?})",
                        e.title,
                        e.total,
                        e.recorded
                    );
                    match e.listing {
                        // A one-channel conv output lists its K×K products
                        // and the bias, every one.
                        backprop_viz::teach::explain::Listing::All => {
                            assert_eq!(e.terms.len(), 9 + 1)
                        }
                        _ => assert!(e.terms.len() <= backprop_viz::teach::explain::SHOWN_TERMS),
                    }
                    checked += 1;
                }
            }
        }
        let loss_cell = CellRef::LossDelta { index: vec![2, 4] };
        assert!(explain(&t, &loss_cell, 2).unwrap().agrees());
        assert!(explain(
            &t,
            &CellRef::Input {
                index: vec![0, 0, 14, 14]
            },
            0
        )
        .unwrap()
        .agrees());
        // Cells that do not exist are refused, not a panic.
        assert!(explain(
            &t,
            &CellRef::Delta {
                layer: 99,
                index: vec![0]
            },
            0
        )
        .is_none());
        assert!(explain(
            &t,
            &CellRef::Delta {
                layer: 0,
                index: vec![9, 9, 99, 99]
            },
            0
        )
        .is_none());
        eprintln!("{preset}: {checked} explanations agree with the trace");
    }
}

/// The per-sample dF shares add up to the batch's dF.
#[test]
fn sample_shares_sum_to_the_batch_gradient() {
    for preset in ["seed", "lenet"] {
        let t = trace(preset);
        for layer in 0..t.names.len() {
            let Some(total) = &t.layers[layer].weight_grad else {
                continue;
            };
            let mut sum = Tensor::zeros(total.raw_dim());
            for n in 0..4 {
                sum += &t.sample_weight_grad(layer, n).unwrap();
            }
            for (a, b) in sum.iter().zip(total.iter()) {
                assert!(
                    (a - b).abs() <= 1e-6 + 1e-4 * b.abs(),
                    "{preset} {}: {a} vs {b}",
                    t.names[layer]
                );
            }
        }
    }
}

#[test]
fn dead_filters_are_detected() {
    let mut net = Network::preset("seed", 1).unwrap();
    if let Some((w, b)) = net.layers[0].params_mut() {
        w.value = std::sync::Arc::new(w.value.mapv(|_| -1.0));
        b.value = std::sync::Arc::new(b.value.mapv(|_| -0.5));
    }
    let mut s = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.1));
    s.record = true;
    s.begin(Tensor::from_elem(vec![2, 1, 28, 28], 0.5), vec![1, 2]);
    s.finish();
    let t = s.trace();
    assert_eq!(t.dead_channels(1), vec![0], "relu1 passes nothing");
    // The lesson: no delta reaches conv1's filter, so it cannot learn.
    assert!(t.layers[0]
        .weight_grad
        .as_ref()
        .unwrap()
        .iter()
        .all(|&g| g == 0.0));
    assert!(t.layers[1]
        .delta
        .as_ref()
        .unwrap()
        .iter()
        .all(|&g| g == 0.0));
    assert!(trace("seed").dead_channels(1).is_empty());
}
