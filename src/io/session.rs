//! A whole session, to stop a lesson and pick it up later exactly where it
//! was: the model, the optimizer's state, the position in the data, the
//! training settings and the plots. A safetensors file like the others
//! (`format = backprop-viz-session`): the model's tensors under their usual
//! names (so PyTorch can read the weights from it too), the optimizer's
//! under `optimizer.NAME.weight.m` / `.v`, the plots as `plot.*`, and the
//! settings and position as JSON in the metadata entry `session`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::file::{FileError, Problem};
use super::model::{model_entries, network_from};
use super::tensors::{error, metadata, parse, read_file, Entry, Parsed, TensorFile};
use crate::engine::network::Network;
use crate::engine::optim::{Optimizer, OptimizerKind, Slot};
use crate::engine::Tensor;
use crate::training::{Progress, TrainConfig};

pub const FORMAT: &str = "backprop-viz-session";

/// The training settings a session continues with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSettings {
    /// The network's preset and how it trains.
    #[serde(flatten)]
    pub config: TrainConfig,
    pub optimizer_steps: u64,
    pub progress: Progress,
    /// Correct answers and samples so far in this epoch (train accuracy).
    pub epoch_correct: usize,
    pub epoch_seen: usize,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub network: Network,
    pub optimizer: Optimizer,
    pub settings: SessionSettings,
    /// `(batch, loss)` after each batch.
    pub losses: Vec<(u64, f32)>,
    /// `(epoch, train accuracy, test accuracy)`.
    pub epochs: Vec<(usize, f32, f32)>,
    /// The learner's prediction record (JSON, as *Save my predictions*
    /// writes it), kept with the session; checked by the app on load.
    pub predictions: Option<String>,
    /// A record this program could not read when the session was opened,
    /// kept aside as it was (metadata `predictions_unread`) so that no
    /// save ever loses it.
    pub predictions_unread: Option<String>,
}

/// Plots longer than this are refused (a million batches is 16 years of a
/// weekly lesson; the bound keeps a hostile file from asking for gigabytes).
pub const MAX_PLOT_ROWS: usize = 10_000_000;

/// The largest counter a session may hold: 2⁵³, where an `f64` (a plot's
/// batch axis) stops counting exactly.
pub const MAX_COUNT: u64 = 1 << 53;

/// A preset path longer than this is no path.
const MAX_PRESET_LEN: usize = 4096;

fn session_file<'a>(
    session: &'a Session,
    losses: &'a Tensor,
    epochs: &'a Tensor,
) -> TensorFile<'a> {
    let mut entries = model_entries(&session.network);
    // The optimizer's slots follow the model's tensors: weight, bias, layer
    // by layer.
    let names: Vec<String> = entries.iter().map(|(name, _)| name.clone()).collect();
    for (name, slot) in names.into_iter().zip(session.optimizer.slots()) {
        for (suffix, state) in [("m", &slot.m), ("v", &slot.v)] {
            if let Some(t) = state {
                entries.push((format!("optimizer.{name}.{suffix}"), Entry::F32(t)));
            }
        }
    }
    entries.push(("plot.losses".into(), Entry::F32(losses)));
    entries.push(("plot.epochs".into(), Entry::F32(epochs)));
    let settings = serde_json::to_string(&session.settings).expect("settings serialise");
    let mut extra = vec![("session".into(), settings)];
    if let Some(record) = &session.predictions {
        extra.push(("predictions".into(), record.clone()));
    }
    if let Some(record) = &session.predictions_unread {
        extra.push(("predictions_unread".into(), record.clone()));
    }
    TensorFile {
        format: FORMAT,
        specs: &session.network.specs,
        extra,
        entries,
    }
}

/// The plots as tensors: `[batches, 2]` (batch, loss) and `[epochs, 3]`.
fn plot_tensors(session: &Session) -> (Tensor, Tensor) {
    let losses = Tensor::from_shape_fn(vec![session.losses.len(), 2], |ix| {
        let (batch, loss) = session.losses[ix[0]];
        if ix[1] == 0 {
            batch as f32
        } else {
            loss
        }
    });
    let epochs = Tensor::from_shape_fn(vec![session.epochs.len(), 3], |ix| {
        let (epoch, train, test) = session.epochs[ix[0]];
        [epoch as f32, train, test][ix[1]]
    });
    (losses, epochs)
}

pub fn session_bytes(session: &Session) -> Vec<u8> {
    let (losses, epochs) = plot_tensors(session);
    session_file(session, &losses, &epochs).to_bytes()
}

/// Writes the session atomically.
pub fn save_session(session: &Session, path: &Path) -> Result<(), FileError> {
    let (losses, epochs) = plot_tensors(session);
    session_file(session, &losses, &epochs).save(path)
}

/// Parses session bytes; `path` only names the source in errors. A session
/// is as untrusted as a model: the network passes the one validation, the
/// batch size the memory limit, and every counter, optimizer tensor and plot
/// is checked (shape, finiteness, range) before the app can use it.
pub fn read_session(path: &Path, bytes: &[u8]) -> Result<Session, FileError> {
    let fail = |problem| error(path, problem);
    let parsed = parse(path, bytes, FORMAT)?;
    let network = network_from(&parsed)?;
    let text = metadata(path, &parsed.meta, "session")?;
    let settings: SessionSettings = serde_json::from_str(text).map_err(|e| {
        fail(Problem::BadSettings {
            detail: e.to_string(),
        })
    })?;
    check_settings(&settings, &network).map_err(fail)?;
    let mut slots = Vec::new();
    for (name, entry) in model_entries(&network) {
        let Entry::F32(tensor) = entry else { continue };
        let mut slot = Slot::default();
        for (suffix, state) in [("m", &mut slot.m), ("v", &mut slot.v)] {
            let key = format!("optimizer.{name}.{suffix}");
            if parsed.has(&key) {
                let value = parsed.f32(&key, Some(tensor.shape()))?;
                if value.iter().any(|v| !v.is_finite()) {
                    return Err(fail(Problem::NotFinite { name: key }));
                }
                // Adam's second moment is a running mean of squares.
                if suffix == "v" && value.iter().any(|&v| v < 0.0) {
                    return Err(fail(Problem::Negative { name: key }));
                }
                *state = Some(value);
            }
        }
        slots.push(slot);
    }
    let needs = match settings.config.optimizer {
        OptimizerKind::Sgd => (false, false),
        OptimizerKind::Momentum => (true, false),
        OptimizerKind::Adam => (true, true),
    };
    // Slots fill in on the first update; after one, every slot must be there.
    if settings.optimizer_steps > 0
        && slots
            .iter()
            .any(|s| (needs.0 && s.m.is_none()) || (needs.1 && s.v.is_none()))
    {
        return Err(fail(Problem::OptimizerIncomplete {
            optimizer: settings.config.optimizer.name().into(),
        }));
    }
    let optimizer = Optimizer::resume(
        settings.config.optimizer,
        settings.config.lr,
        settings.optimizer_steps,
        if settings.optimizer_steps > 0 {
            slots
        } else {
            Vec::new()
        },
    );
    let losses = plot(&parsed, "plot.losses", 2, |row| {
        let batch = count(row[0])?;
        Some((batch, row[1]))
    })?;
    let epochs = plot(&parsed, "plot.epochs", 3, |row| {
        let epoch = usize::try_from(count(row[0])?).ok()?;
        let share = |v: f32| (0.0..=1.0).contains(&v).then_some(v);
        Some((epoch, share(row[1])?, share(row[2])?))
    })?;
    // At most 1 MiB, like every metadata entry; the app parses it.
    let optional = |key: &str| -> Result<Option<String>, FileError> {
        match parsed.meta.contains_key(key) {
            true => Ok(Some(metadata(path, &parsed.meta, key)?.to_string())),
            false => Ok(None),
        }
    };
    let predictions = optional("predictions")?;
    let predictions_unread = optional("predictions_unread")?;
    Ok(Session {
        network,
        optimizer,
        settings,
        losses,
        epochs,
        predictions,
        predictions_unread,
    })
}

/// A plot's value that counts something: a whole number from 0 to 2⁵³.
fn count(v: f32) -> Option<u64> {
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && f64::from(v) <= MAX_COUNT as f64)
        .then_some(v as u64)
}

/// The plot tensor `name`, `[rows, columns]`, each row read by `row`
/// (`None`: an impossible value).
fn plot<T>(
    parsed: &Parsed,
    name: &str,
    columns: usize,
    row: impl Fn(&[f32]) -> Option<T>,
) -> Result<Vec<T>, FileError> {
    let fail = |problem| error(parsed.path, problem);
    let tensor = parsed.f32(name, None)?;
    let &[rows, found] = tensor.shape() else {
        return Err(fail(Problem::WrongShape {
            name: name.into(),
            found: tensor.shape().to_vec(),
            expected: format!("[rows, {columns}]"),
        }));
    };
    if found != columns {
        return Err(fail(Problem::WrongShape {
            name: name.into(),
            found: tensor.shape().to_vec(),
            expected: format!("[rows, {columns}]"),
        }));
    }
    if rows > MAX_PLOT_ROWS {
        return Err(fail(Problem::TooManyRows {
            name: name.into(),
            rows,
            limit: MAX_PLOT_ROWS,
        }));
    }
    let values = tensor
        .as_slice()
        .expect("a tensor read from a file is contiguous");
    values
        .chunks_exact(columns)
        .map(|r| row(r).ok_or_else(|| fail(Problem::BadPlot { name: name.into() })))
        .collect()
}

/// The settings a session continues with, checked against what the app
/// can run: the learning rate, the preset's name, the batch size (the one
/// memory limit), and counters that are possible and far from overflow.
fn check_settings(settings: &SessionSettings, network: &Network) -> Result<(), Problem> {
    let config = &settings.config;
    if !(config.lr.is_finite() && config.lr > 0.0) {
        return Err(Problem::BadLearningRate { lr: config.lr });
    }
    if config.preset.is_empty()
        || config.preset.len() > MAX_PRESET_LEN
        || config.preset.chars().any(char::is_control)
    {
        return Err(Problem::BadPreset);
    }
    network.plan.check_batch(config.batch)?;
    let progress = &settings.progress;
    let impossible = |field: &str, value: String| {
        Err(Problem::ImpossiblePosition {
            field: field.into(),
            value,
        })
    };
    for (field, value) in [
        ("optimizer_steps", settings.optimizer_steps),
        ("batches", progress.batches),
        ("epoch", progress.epoch as u64),
        ("cursor", progress.cursor as u64),
        ("seen", progress.seen as u64),
        ("epoch_seen", settings.epoch_seen as u64),
    ] {
        if value > MAX_COUNT {
            return impossible(field, value.to_string());
        }
    }
    if progress.cursor > progress.seen {
        return impossible(
            "cursor",
            format!("{} > seen {}", progress.cursor, progress.seen),
        );
    }
    if settings.epoch_correct > settings.epoch_seen {
        return impossible(
            "epoch_correct",
            format!(
                "{} > epoch_seen {}",
                settings.epoch_correct, settings.epoch_seen
            ),
        );
    }
    Ok(())
}

pub fn load_session(path: &Path) -> Result<Session, FileError> {
    let bytes = read_file(path)?;
    read_session(path, &bytes)
}
