//! The app's gradient check agrees with backpropagation on every preset.

use backprop_viz::data::dataset::{default_data_dir, load_dir};
use backprop_viz::engine::gradcheck::{check_weight, largest_gradient};
use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;

#[test]
fn finite_differences_match_the_trace_on_each_preset() {
    let data = load_dir(&default_data_dir()).unwrap();
    let batch: Vec<usize> = (0..16).collect();
    for preset in ["seed", "lenet"] {
        let mut s = Stepper::new(
            Network::preset(preset, 1).unwrap(),
            Optimizer::new(OptimizerKind::Adam, 0.005),
        );
        s.record = true;
        s.begin(
            data.train.batch_input(&batch),
            data.train.batch_labels(&batch),
        );
        s.finish();
        let t = s.trace();
        for layer in 0..t.names.len() {
            let Some(index) = largest_gradient(t, layer) else {
                continue;
            };
            let fd = check_weight(t, layer, &index).unwrap();
            eprintln!(
                "{preset} {}{index:?}: analytic {} numeric {} relative error {:.2e}",
                t.names[layer], fd.analytic, fd.numeric, fd.relative_error
            );
            assert!(
                fd.relative_error < 1e-3,
                "{preset} {}: {fd:?}",
                t.names[layer]
            );
        }
    }
}
