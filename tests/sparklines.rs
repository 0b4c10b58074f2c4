//! Learning over time: the conv filters and their dF after each batch of a
//! run, kept within bounds (every batch, then every 2nd, 4th…, always the
//! latest) and drawn tap by tap under the update, each tap's last value the
//! trace's own.

mod app_common;

use std::sync::Arc;

use app_common::{harness, new_app, screen_texts, settle, snapshot};
use backprop_viz::app::state::{spark_stride, ConvState, History, SPARK_POINTS};
use backprop_viz::app::widgets::heatmap::fmt_value;
use backprop_viz::app::worker::BatchDone;
use backprop_viz::app::UiCommand;
use backprop_viz::engine::stepper::Phase;
use backprop_viz::engine::Tensor;

fn batch(b: u64) -> BatchDone {
    let w = Tensor::from_elem(vec![1, 1, 3, 3], b as f32);
    BatchDone {
        batch: b,
        loss: 1.0,
        accuracy: 0.5,
        epochs: 0.0,
        filters: Some(Arc::new(vec![ConvState {
            layer: 0,
            weight: w.clone(),
            grad: w,
        }])),
    }
}

#[test]
fn the_trail_keeps_a_power_of_two_stride_and_the_latest_batch() {
    let mut h = History::default();
    for b in 1..=5000u64 {
        h.add_batch(batch(b));
        let kept: Vec<u64> = h.filters.iter().map(|p| p.batch).collect();
        assert!(
            kept.len() as u64 <= 2 * SPARK_POINTS + 1,
            "{b}: {} points",
            kept.len()
        );
        assert_eq!(*kept.last().unwrap(), b, "the latest batch is kept");
        let stride = spark_stride(b);
        assert!(kept[..kept.len() - 1].iter().all(|k| k % stride == 0));
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        // The values are the batches' own.
        assert!(h
            .filters
            .iter()
            .all(|p| p.layers[0].weight[[0, 0, 1, 1]] == p.batch as f32));
    }
    // Early batches: every one; after 5000 a stride of 32 (5000 / 256 + 1 = 20,
    // rounded up to a power of two).
    assert_eq!(spark_stride(100), 1);
    assert_eq!(spark_stride(5000), 32);
    assert!(h.filters.len() > SPARK_POINTS as usize / 2);
    // A batch done again (after Back) replaces what came after it.
    h.add_batch(batch(4000));
    assert_eq!(h.filters.last().unwrap().batch, 4000);
    assert!(h.filters.iter().all(|p| p.batch <= 4000));
}

#[test]
fn the_update_view_draws_each_taps_run_ending_at_the_trace() {
    let mut h = harness(new_app());
    settle(&mut h);
    for _ in 0..6 {
        h.state_mut().command(UiCommand::StepBatch);
        settle(&mut h);
    }
    let s = snapshot(&h);
    assert_eq!(s.last, Some(Phase::Update));
    h.run_steps(3);
    let t = &s.trace;
    let texts = screen_texts(&h);
    for (i, name) in t.names.iter().enumerate() {
        let (Some(after), Some(grad)) = (
            t.layers[i].weight_after.as_deref(),
            t.layers[i].weight_grad.as_deref(),
        ) else {
            continue;
        };
        if after.ndim() != 4 {
            continue;
        }
        let line = |title: &str, x: &Tensor| {
            let mut line = title.to_string();
            for u in 0..3 {
                for v in 0..3 {
                    line.push_str(&format!(" [{u},{v}] {}", fmt_value(x[[0, 0, u, v]])));
                }
            }
            line
        };
        let f = line(
            &format!("F after each batch, to batch {}", s.batches),
            after,
        );
        let df = line("dF of each batch", grad);
        for want in [f, df] {
            assert!(
                texts.iter().any(|t| t.trim() == want.trim()),
                "{name}: {want:?} not drawn"
            );
        }
    }
}
