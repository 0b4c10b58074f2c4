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
    trace_of(Network::preset(preset, 2).unwrap())
}

fn trace_of(net: Network) -> Trace {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let mut s = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.1));
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

/// Every cell of an overlapping pool's delta handed down (max 3x3 and
/// average 3x3, 2 apart), and of a 2x2 average pool's, is explained by the
/// windows it is in, adding up to the trace; a cell in several windows
/// says so.
#[test]
fn overlapping_pool_cells_explain_to_the_trace() {
    let specs = Network::specs_from_json(include_str!("fixtures/pools.json")).unwrap();
    let mut net = Network::new(specs).unwrap();
    net.init(4);
    let t = trace_of(net);
    let mut overlaps = 0;
    for layer in [2, 5, 6] {
        let shape = t.layers[layer].delta.as_ref().unwrap().shape().to_vec();
        for n in 0..shape[0] {
            for c in 0..shape[1] {
                for y in 0..shape[2] {
                    for x in 0..shape[3] {
                        let cell = CellRef::Delta {
                            layer,
                            index: vec![n, c, y, x],
                        };
                        let e = explain(&t, &cell, n).unwrap();
                        assert!(
                            e.agrees(),
                            "{} {cell:?}: {} vs the trace's {}",
                            t.names[layer],
                            e.total,
                            e.recorded
                        );
                        if e.notes.iter().any(|note| note.contains("overlap")) {
                            overlaps += 1;
                            // Each window is there: max pooling says where
                            // each one's maximum was (a window this cell did
                            // not win sends 0, a term not listed); average
                            // pooling lists each share.
                            let windows = if layer == 2 {
                                e.notes.iter().filter(|n| n.starts_with("Window (")).count()
                            } else {
                                e.terms.len()
                            };
                            assert!(windows > 1, "{cell:?}: one window ({:?})", e.notes);
                        }
                    }
                }
            }
        }
    }
    assert!(overlaps > 0, "no cell in two windows");
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

/// The grid of products behind a convolution's number: each cell the two
/// factors the formula pairs there (read back from the trace's own
/// tensors, padding a factor of 0) and their product; the grids add up to
/// the number the engine recorded (a dF grid to the sample's share, a
/// delta's over the filters, an output's over the channels plus the bias).
#[test]
fn product_grids_lay_out_the_sum_where_it_happens() {
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-6 + 1e-4 * b.abs();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for preset in ["seed", "lenet"] {
        let t = trace(preset);
        let mut checked = 0;
        for layer in 0..t.names.len() {
            let Some(g) = t.conv_geometry(layer) else {
                continue;
            };
            let l = &t.layers[layer];
            let (x, d) = (
                t.layer_input(layer).unwrap(),
                t.delta_from_above(layer).unwrap(),
            );
            let (f, b) = (l.weight.as_ref().unwrap(), l.bias.as_ref().unwrap());
            let x_at = |n: usize, c: usize, (r, q): (isize, isize)| {
                let (r, q) = (r - g.p as isize, q - g.p as isize);
                if r < 0 || q < 0 || r >= g.h as isize || q >= g.w as isize {
                    0.0
                } else {
                    x[[n, c, r as usize, q as usize]]
                }
            };
            for _ in 0..20 {
                let n = rng.random_range(0..4);
                // dF[o, c, u, v]: sample n's x under the tap times D.
                let index = random_index(l.weight_grad.as_ref().unwrap().shape(), &mut rng);
                let (o, c, u, v) = (index[0], index[1], index[2], index[3]);
                let e = explain(&t, &CellRef::WeightGrad { layer, index }, n).unwrap();
                assert_eq!(e.grids.len(), 1);
                let grid = &e.grids[0];
                assert_eq!((grid.pair, grid.rows, grid.cols), ((o, c), g.ho, g.wo));
                for i in 0..g.ho {
                    for j in 0..g.wo {
                        let k = i * g.wo + j;
                        let want = x_at(n, c, ((i + u) as isize, (j + v) as isize));
                        assert_eq!(grid.left[k], want, "{preset} dF: x under tap at ({i},{j})");
                        assert_eq!(grid.right[k], d[[n, o, i, j]]);
                        assert_eq!(grid.products[k], grid.left[k] * grid.right[k]);
                    }
                }
                let share = t.sample_weight_grad(layer, n).unwrap()[[o, c, u, v]];
                assert!(
                    close(grid.sum(), share),
                    "{preset} dF grid {} vs share {share}",
                    grid.sum()
                );

                // D_below[n, c, y, x]: rot180(F) over the padded D, summed
                // over the filters.
                let index = random_index(l.delta.as_ref().unwrap().shape(), &mut rng);
                let (n, c, y, xx) = (index[0], index[1], index[2], index[3]);
                let e = explain(
                    &t,
                    &CellRef::Delta {
                        layer,
                        index: index.clone(),
                    },
                    n,
                )
                .unwrap();
                assert_eq!(e.grids.len(), g.cout);
                let q = g.full_pad() as isize;
                for grid in &e.grids {
                    let o = grid.pair.0;
                    assert_eq!((grid.pair.1, grid.rows, grid.cols), (c, g.k, g.k));
                    for a in 0..g.k {
                        for bb in 0..g.k {
                            let k = a * g.k + bb;
                            // rot180(F)[a, b] = F[K−1−a, K−1−b] ...
                            assert_eq!(grid.right[k], f[[o, c, g.k - 1 - a, g.k - 1 - bb]]);
                            // ... over D padded by K−1−P, at (y + a, x + b).
                            let (r, s) =
                                (y as isize + a as isize - q, xx as isize + bb as isize - q);
                            let want = if r < 0 || s < 0 || r >= g.ho as isize || s >= g.wo as isize
                            {
                                0.0
                            } else {
                                d[[n, o, r as usize, s as usize]]
                            };
                            assert_eq!(
                                grid.left[k], want,
                                "{preset} D_below: padded D at ({a},{bb})"
                            );
                        }
                    }
                }
                let sum: f32 = e.grids.iter().map(|g| g.sum()).sum();
                let recorded = l.delta.as_ref().unwrap()[[n, c, y, xx]];
                assert!(
                    close(sum, recorded),
                    "{preset} D_below grids {sum} vs {recorded}"
                );

                // y[n, o, i, j]: the window of x times F, over the
                // channels, plus the bias.
                let index = random_index(l.out.as_ref().unwrap().shape(), &mut rng);
                let (n, o, i, j) = (index[0], index[1], index[2], index[3]);
                let e = explain(
                    &t,
                    &CellRef::Output {
                        layer,
                        index: index.clone(),
                    },
                    n,
                )
                .unwrap();
                assert_eq!(e.grids.len(), g.cin);
                for grid in &e.grids {
                    let c = grid.pair.1;
                    for uu in 0..g.k {
                        for vv in 0..g.k {
                            let k = uu * g.k + vv;
                            assert_eq!(grid.right[k], f[[o, c, uu, vv]]);
                            assert_eq!(
                                grid.left[k],
                                x_at(n, c, ((i + uu) as isize, (j + vv) as isize))
                            );
                        }
                    }
                }
                let sum: f32 = e.grids.iter().map(|g| g.sum()).sum::<f32>() + b[[o]];
                let recorded = l.out.as_ref().unwrap()[[n, o, i, j]];
                assert!(
                    close(sum, recorded),
                    "{preset} y grids + b = {sum} vs {recorded}"
                );
                checked += 3;
            }
        }
        assert!(checked >= 120, "{preset}: {checked} grids checked");
        // Layers that are not convolutions have no grid.
        let dense = t
            .kinds
            .iter()
            .position(|k| matches!(k, backprop_viz::engine::layers::LayerKind::Dense { .. }))
            .unwrap();
        let e = explain(
            &t,
            &CellRef::Delta {
                layer: dense,
                index: vec![0, 0],
            },
            0,
        )
        .unwrap();
        assert!(e.grids.is_empty());
    }
}
