//! Find the bug: every mistake a teacher can switch on in the backward pass
//! is caught by the app's gradient check at the layer it names (the
//! finite-difference gradient and the wrong backprop differ by more than
//! 1e-2), and the reveal's right result is the one without the bug.

use backprop_viz::check::bugs::{bugs_for, caught_at, right_result, tamper};
use backprop_viz::check::Part;
use backprop_viz::data::dataset::{default_data_dir, load_dir};
use backprop_viz::engine::gradcheck::{check_weight, largest_gradient};
use backprop_viz::engine::layers::LayerKind;
use backprop_viz::engine::network::{Downsample, Network, TwoStage};
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;

#[test]
fn every_injectable_bug_is_caught_by_the_gradient_check_at_its_layer() {
    let data = load_dir(&default_data_dir()).unwrap();
    let batch: Vec<usize> = (0..16).collect();
    // The architecture editor's dilated network (dilation 2, "same").
    let mut dilated = Network::new(
        TwoStage {
            filters: [4, 8],
            kernel: 3,
            padding: 2,
            dilation: 2,
            downsample: Downsample::MaxPool,
            batchnorm: false,
            activation: LayerKind::Relu,
            hidden: 32,
        }
        .specs()
        .unwrap(),
    )
    .unwrap();
    dilated.init(1);
    // Overlapping max and average pools, and a 2x2 average pool.
    let mut pools =
        Network::new(Network::specs_from_json(include_str!("fixtures/pools.json")).unwrap())
            .unwrap();
    pools.init(1);
    // Transposed convs 4→2 and 2→2 with a batch norm between.
    let mut updown2 =
        Network::new(Network::specs_from_json(include_str!("fixtures/updown2.json")).unwrap())
            .unwrap();
    updown2.init(1);
    let networks = ["seed", "lenet", "strided", "bn", "updown"]
        .map(|p| (p, Network::preset(p, 1).unwrap()))
        .into_iter()
        .chain([("dilated", dilated), ("pools", pools), ("updown2", updown2)]);
    for (preset, net) in networks {
        let specs = net.specs.clone();
        let bugs = bugs_for(&specs);
        assert!(bugs.len() >= 8, "{preset}: only {} bugs", bugs.len());
        for bug in bugs {
            let mut s = Stepper::new(net.clone(), Optimizer::new(OptimizerKind::Sgd, 0.05));
            s.record = true;
            s.tamper = Some(tamper(bug));
            s.begin(
                data.train.batch_input(&batch),
                data.train.batch_labels(&batch),
            );
            s.finish();
            let t = s.trace();
            let what = format!("{preset} {} at {}", bug.mistake.id(), t.names[bug.layer]);
            // The bug is in the trace: the layer's result is not the right one.
            let right = right_result(t, bug).unwrap();
            let done = match bug.part {
                Part::WeightGrad => t.layers[bug.layer].weight_grad.clone(),
                _ => t.layers[bug.layer].delta.clone(),
            }
            .unwrap()
            .mapv(f64::from);
            let off = done
                .iter()
                .zip(&right)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(off > 0.0, "{what}: made no difference");
            // The gradient check at the layer it names sees it.
            // On the question's network (the app's), at the weight with
            // the largest gradient, the first one a class would check; on
            // lenet at some weight of that layer (a near-symmetric 3x3
            // filter at its start hides a missing rotation from most taps).
            let layer = caught_at(&specs, bug).unwrap();
            let largest = largest_gradient(t, layer).unwrap();
            let fd = check_weight(t, layer, &largest).unwrap();
            let worst = if preset == "seed" {
                fd.relative_error
            } else {
                // The 8 weights with the largest gradients.
                let g = t.layers[layer].weight_grad.as_ref().unwrap();
                let mut taps: Vec<(Vec<usize>, f32)> = g
                    .indexed_iter()
                    .map(|(i, v)| (ndarray::Dimension::slice(&i).to_vec(), v.abs()))
                    .collect();
                taps.sort_by(|a, b| b.1.total_cmp(&a.1));
                taps.iter()
                    .take(8)
                    .map(|(index, _)| check_weight(t, layer, index).unwrap().relative_error)
                    .fold(0.0, f64::max)
            };
            eprintln!(
                "{what}: caught at {}, relative error {:.2e} (at the largest gradient {largest:?}: {:.2e})",
                t.names[layer], worst, fd.relative_error
            );
            assert!(worst > 1e-2, "{what}: {fd:?}");
        }
    }
    // Without a bug the same check passes (the test above can fail).
    let mut s = Stepper::new(
        Network::preset("seed", 1).unwrap(),
        Optimizer::new(OptimizerKind::Sgd, 0.05),
    );
    s.record = true;
    s.begin(
        data.train.batch_input(&batch),
        data.train.batch_labels(&batch),
    );
    s.finish();
    let t = s.trace();
    for layer in [0, 3, 7, 9] {
        let index = largest_gradient(t, layer).unwrap();
        assert!(check_weight(t, layer, &index).unwrap().relative_error < 1e-3);
    }
}
