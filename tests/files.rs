//! What the app exports opens again: models (same predictions), traces (the
//! engine's reader), tensors as CSV (parse back to the same numbers).

use backprop_viz::app::files::{open_model, write_file, FileEvent};
use backprop_viz::engine::network::Network;
use backprop_viz::engine::optim::{Optimizer, OptimizerKind};
use backprop_viz::engine::stepper::Stepper;
use backprop_viz::engine::Tensor;
use backprop_viz::io::tensor_csv;
use backprop_viz::io::{model_bytes, read_trace, trace_bytes};

fn stepped() -> Stepper {
    let mut s = Stepper::new(
        Network::preset("lenet", 3).unwrap(),
        Optimizer::new(OptimizerKind::Adam, 0.01),
    );
    s.record = true;
    let x = Tensor::from_shape_fn(vec![3, 1, 28, 28], |d| {
        ((d[2] * 7 + d[3] * 3 + d[0]) % 11) as f32 / 10.0
    });
    s.train_batch(x, vec![1, 2, 3]);
    s
}

#[test]
fn saved_model_opens_with_the_same_predictions() {
    let s = stepped();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    write_file(&path, &model_bytes(&s.network)).unwrap();
    let FileEvent::Opened(net, _) = open_model(&backprop_viz::io::file::Input::path(&path)) else {
        panic!("the saved model opens")
    };
    let x = Tensor::from_shape_fn(vec![4, 1, 28, 28], |d| {
        ((d[2] + d[3] * d[0]) % 5) as f32 / 4.0
    });
    assert_eq!(net.forward(&x), s.network.forward(&x));
    std::fs::write(&path, b"garbage").unwrap();
    assert!(
        matches!(open_model(&backprop_viz::io::file::Input::path(&path)), FileEvent::Refused(e) if e.file == path && e.to_string().contains("not a safetensors file"))
    );
}

#[test]
fn exported_trace_loads_with_the_engines_reader() {
    let s = stepped();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.safetensors");
    write_file(&path, &trace_bytes(s.trace()).unwrap()).unwrap();
    let t = read_trace(&path).unwrap();
    assert_eq!(t.labels, vec![1, 2, 3]);
    assert_eq!(t.names, s.trace().names);
    assert_eq!(t.layers[3].weight_grad, s.trace().layers[3].weight_grad);
    assert_eq!(t.layers[0].delta, s.trace().layers[0].delta);
}

#[test]
fn tensor_csv_parses_back() {
    let s = stepped();
    let g = s.trace().layers[3].weight_grad.as_deref().unwrap().clone(); // conv2 dF [16, 8, 3, 3]
    let csv = tensor_csv(&g);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("i0,i1,i2,i3,value"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), g.len());
    for row in rows {
        let index: Vec<usize> = row[..4].iter().map(|&i| i as usize).collect();
        assert_eq!(row[4] as f32, g[[index[0], index[1], index[2], index[3]]]);
    }
}

#[test]
fn view_png_decodes() {
    let mut image = egui::ColorImage::filled([4, 3], egui::Color32::from_rgb(10, 20, 30));
    image.pixels[5] = egui::Color32::from_rgb(200, 100, 50);
    let bytes = backprop_viz::app::files::png_bytes(&image).unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap().to_rgba8();
    assert_eq!(decoded.dimensions(), (4, 3));
    assert_eq!(decoded.get_pixel(1, 1).0, [200, 100, 50, 255]);
    assert_eq!(decoded.get_pixel(0, 0).0, [10, 20, 30, 255]);
}
