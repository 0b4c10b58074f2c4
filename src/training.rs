//! Epochs and batches over a dataset, driving the stepper: shuffling with the
//! seed, optional augmentation, evaluation. Used by the command line and by
//! the app's worker thread alike.

use std::sync::Arc;

use ndarray::Axis;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::augment::augment;
use crate::data::dataset::Dataset;
use crate::engine::network::Network;
use crate::engine::parallel::map_ordered;
use crate::engine::stepper::{Phase, Stepper};
use crate::engine::Tensor;

/// Seeds for the batch order and augmentation are derived from the run's
/// seed so that they never coincide with the initialisation stream.
const ORDER_STREAM: u64 = 0x6261_7463_685f_6f72; // "batch_or"
const AUGMENT_STREAM: u64 = 0x6175_676d_656e_7421; // "augment!"

/// Share of a scheduled run spent warming up (see `Trainer::schedule_over`).
const WARMUP: f32 = 0.25;

/// Walks a dataset in seeded, reshuffled-every-epoch batches. Cloning it is
/// a checkpoint: the network, optimizer state, trace and position in the
/// epoch (the data and the order are shared).
#[derive(Clone)]
pub struct Trainer {
    pub stepper: Stepper,
    pub data: Arc<Dataset>,
    pub batch_size: usize,
    /// Train on randomly shifted, rotated, scaled and thickened digits.
    pub augment: bool,
    seed: u64,
    /// This epoch's sample order, shared by clones (history checkpoints).
    order: Arc<Vec<usize>>,
    cursor: usize,
    /// Completed epochs.
    pub epoch: usize,
    /// Batches started since the beginning.
    pub batches: u64,
    /// When set, the learning rate climbs linearly from 0 to the optimizer's
    /// initial rate over the first quarter of this many samples (a run of
    /// known length), then falls linearly back to 0 at the end; otherwise it
    /// stays constant (the app's open-ended training).
    pub schedule_over: Option<usize>,
    base_lr: f32,
    seen: usize,
}

impl Trainer {
    pub fn new(stepper: Stepper, data: Arc<Dataset>, batch_size: usize, seed: u64) -> Trainer {
        let mut trainer = Trainer {
            stepper,
            data,
            batch_size: batch_size.max(1),
            augment: false,
            seed,
            order: Arc::new(Vec::new()),
            cursor: 0,
            epoch: 0,
            batches: 0,
            schedule_over: None,
            base_lr: 0.0,
            seen: 0,
        };
        trainer.base_lr = trainer.stepper.optimizer.lr;
        trainer.shuffle();
        trainer
    }

    fn shuffle(&mut self) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ ORDER_STREAM ^ self.epoch as u64);
        let mut order: Vec<usize> = (0..self.data.len()).collect();
        order.shuffle(&mut rng);
        self.order = Arc::new(order);
        self.cursor = 0;
    }

    /// Samples in one epoch.
    pub fn epoch_len(&self) -> usize {
        self.data.len()
    }

    /// Position within the current epoch, in samples.
    pub fn position(&self) -> usize {
        self.cursor
    }

    /// Where the walk through the data stands. With `rewind_current`, the
    /// batch under way (begun, not yet applied) counts as not taken, so that
    /// resuming from here runs it again from its first phase.
    pub fn progress(&self, rewind_current: bool) -> Progress {
        let current = if rewind_current {
            self.stepper.trace().batch_size()
        } else {
            0
        };
        Progress {
            epoch: self.epoch,
            cursor: self.cursor.saturating_sub(current),
            batches: self.batches.saturating_sub(u64::from(current > 0)),
            seen: self.seen.saturating_sub(current),
        }
    }

    /// Continues from `progress` (same data, batch size and seed): the epoch's
    /// order is drawn again from the seed, so the same batches follow.
    pub fn resume(&mut self, progress: Progress) {
        self.epoch = progress.epoch;
        self.shuffle();
        self.cursor = progress.cursor.min(self.order.len());
        self.batches = progress.batches;
        self.seen = progress.seen;
    }

    /// Loads the next batch into the stepper (ready for `step()`), moving to
    /// the next epoch when this one is used up. Returns the batch indices.
    pub fn begin_batch(&mut self) -> Vec<usize> {
        if self.cursor >= self.order.len() {
            self.epoch += 1;
            self.shuffle();
        }
        let end = self
            .cursor
            .saturating_add(self.batch_size)
            .min(self.order.len());
        let indices = self.order[self.cursor..end].to_vec();
        self.cursor = end;
        let input = if self.augment {
            augmented_batch(
                &self.data,
                &indices,
                self.seed ^ AUGMENT_STREAM ^ self.batches,
            )
        } else {
            self.data.batch_input(&indices)
        };
        self.batches += 1;
        if let Some(total) = self.schedule_over {
            // Measured at the middle of the batch, so no step gets a rate of 0.
            let middle = self.seen as f32 + indices.len() as f32 / 2.0;
            let progress = (middle / total.max(1) as f32).min(1.0);
            let share = if progress < WARMUP {
                progress / WARMUP
            } else {
                (1.0 - progress) / (1.0 - WARMUP)
            };
            self.stepper.optimizer.lr = self.base_lr * share;
        }
        self.seen += indices.len();
        self.stepper.begin(input, self.data.batch_labels(&indices));
        indices
    }

    /// Finishes the current batch if one is under way, else runs a whole new
    /// one; returns its loss.
    pub fn run_batch(&mut self) -> f32 {
        if matches!(self.stepper.next_phase(), Phase::Done) {
            self.begin_batch();
        }
        self.stepper.finish()
    }

    /// Whether the epoch ends with the batch that just finished.
    pub fn epoch_done(&self) -> bool {
        self.cursor >= self.order.len() && matches!(self.stepper.next_phase(), Phase::Done)
    }

    /// Runs the rest of the current epoch, calling `on_batch(loss, samples)`
    /// after each batch. Stops early at a loss that is not finite: from
    /// there every weight is NaN or infinite and no later batch can mend it.
    pub fn run_epoch(&mut self, mut on_batch: impl FnMut(f32, usize)) {
        loop {
            let loss = self.run_batch();
            on_batch(loss, self.stepper.trace().batch_size());
            if self.epoch_done() || !loss.is_finite() {
                break;
            }
        }
    }
}

/// What the network is and how it trains: everything Reset rebuilds from.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    /// `seed`, `lenet`, `strided`, or a path to a JSON layer list.
    pub preset: String,
    pub seed: u64,
    pub lr: f32,
    pub batch: usize,
    pub optimizer: crate::engine::optim::OptimizerKind,
    pub freeze_conv: bool,
}

/// A position in training: completed epochs, samples taken from this
/// epoch's order, batches begun and samples seen since the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    pub epoch: usize,
    pub cursor: usize,
    pub batches: u64,
    pub seen: usize,
}

/// A batch of augmented copies; each sample's randomness comes from its own
/// seed, so the result does not depend on how the work is split over threads.
fn augmented_batch(data: &Dataset, indices: &[usize], seed: u64) -> Tensor {
    let pixels = data.rows * data.cols;
    let mut out = Tensor::zeros(vec![indices.len(), 1, data.rows, data.cols]);
    let work: Vec<_> = out
        .axis_iter_mut(Axis(0))
        .zip(indices.iter().enumerate())
        .collect();
    map_ordered(work, |(mut dst, (k, &i))| {
        let mut rng =
            ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ k as u64);
        let dst = dst.as_slice_mut().expect("standard layout");
        augment(
            data.image(i),
            data.rows,
            data.cols,
            &mut rng,
            &mut dst[..pixels],
        );
    });
    out
}

/// What `evaluate` measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    pub accuracy: f32,
    pub loss: f32,
    pub samples: usize,
}

/// Memory a forward-only pass over a dataset may take at once: chunks of
/// up to 1000 samples, fewer for a network whose layers are large.
const FORWARD_BUDGET: u64 = 256 << 20;

/// Samples per forward-only chunk for `net`.
pub fn forward_chunk(net: &Network) -> usize {
    net.plan.forward_chunk(FORWARD_BUDGET, 1000)
}

/// Accuracy and mean loss of `net` on `data`, forward only.
pub fn evaluate(net: &Network, data: &Dataset) -> Evaluation {
    let all: Vec<usize> = (0..data.len()).collect();
    let mut correct = 0usize;
    let mut loss_sum = 0.0f64;
    for chunk in all.chunks(forward_chunk(net)) {
        let logits = net.forward(&data.batch_input(chunk));
        let labels = data.batch_labels(chunk);
        let out = crate::engine::loss::softmax_cross_entropy(&logits, &labels);
        loss_sum += out.loss as f64 * chunk.len() as f64;
        correct += predictions(&logits)
            .iter()
            .zip(&labels)
            .filter(|(p, &l)| **p == l as usize)
            .count();
    }
    let n = data.len().max(1);
    Evaluation {
        accuracy: correct as f32 / n as f32,
        loss: (loss_sum / n as f64) as f32,
        samples: data.len(),
    }
}

/// The arg-max class of each row of `[N, K]` scores.
pub fn predictions(scores: &Tensor) -> Vec<usize> {
    scores
        .axis_iter(Axis(0))
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                    if v > best.1 {
                        (i, v)
                    } else {
                        best
                    }
                })
                .0
        })
        .collect()
}

/// How a network's answers on `data` fall: `matrix[label][predicted]` counts
/// and the misclassified samples `(index, predicted)` in dataset order.
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    pub matrix: [[u32; 10]; 10],
    pub mistakes: Vec<(usize, usize)>,
}

pub fn confusion(net: &Network, data: &Dataset) -> Confusion {
    let mut matrix = [[0u32; 10]; 10];
    let mut mistakes = Vec::new();
    let all: Vec<usize> = (0..data.len()).collect();
    for chunk in all.chunks(forward_chunk(net)) {
        let predicted = predictions(&net.forward(&data.batch_input(chunk)));
        for (&i, &p) in chunk.iter().zip(&predicted) {
            let label = data.label(i) as usize;
            matrix[label][p.min(9)] += 1;
            if p != label {
                mistakes.push((i, p));
            }
        }
    }
    Confusion { matrix, mistakes }
}

/// The batch `backprop-viz bench` and the browser's measurement train at.
pub const BENCH_BATCH: usize = 64;

/// Samples per second training `net` with plain SGD (as the PyTorch
/// comparison in the README) at `batch` on `data` for about `time`, after
/// 20 batches of warm-up, on the current rayon pool: what `backprop-viz
/// bench` measures on the desktop and the page measures in the browser.
pub fn throughput(
    net: Network,
    data: Arc<Dataset>,
    batch: usize,
    seed: u64,
    time: std::time::Duration,
) -> f64 {
    use crate::engine::optim::{Optimizer, OptimizerKind};
    let stepper = Stepper::new(net, Optimizer::new(OptimizerKind::Sgd, 0.01));
    let mut trainer = Trainer::new(stepper, data, batch, seed);
    for _ in 0..20 {
        trainer.run_batch();
    }
    let started = web_time::Instant::now();
    let mut samples = 0usize;
    while started.elapsed() < time {
        trainer.run_batch();
        samples += trainer.stepper.trace().batch_size();
    }
    samples as f64 / started.elapsed().as_secs_f64()
}
