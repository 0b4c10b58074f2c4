//! A whole session, to stop a lesson and pick it up later exactly where it
//! was: the model, the optimizer's state, the position in the data, the
//! training settings and the plots. A safetensors file like the others
//! (`format = backprop-viz-session`): the model's tensors under their usual
//! names (so PyTorch can read the weights from it too), the optimizer's
//! under `optimizer.NAME.weight.m` / `.v`, the plots as `plot.*`, and the
//! settings and position as JSON in the metadata entry `session`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model::{model_entries, network_from};
use super::tensors::{error, parse, read_file, to_bytes_with, Entry};
use crate::data::dataset::DataError;
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
}

pub fn session_bytes(session: &Session) -> Vec<u8> {
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
    entries.push(("plot.losses".into(), Entry::F32(&losses)));
    entries.push(("plot.epochs".into(), Entry::F32(&epochs)));
    let settings = serde_json::to_string(&session.settings).expect("settings serialise");
    to_bytes_with(
        FORMAT,
        &session.network.specs,
        vec![("session".into(), settings)],
        entries,
    )
}

pub fn save_session(session: &Session, path: &Path) -> Result<(), DataError> {
    std::fs::write(path, session_bytes(session))
        .map_err(|e| error(path, format!("cannot write: {e}")))
}

/// Parses session bytes; `path` only names the source in errors.
pub fn read_session(path: &Path, bytes: &[u8]) -> Result<Session, DataError> {
    let parsed = parse(path, bytes, FORMAT)?;
    let network = network_from(&parsed)?;
    let text = parsed
        .meta
        .get("session")
        .ok_or_else(|| error(path, "metadata has no \"session\" entry"))?;
    let settings: SessionSettings =
        serde_json::from_str(text).map_err(|e| error(path, format!("metadata session: {e}")))?;
    if !(settings.config.lr.is_finite() && settings.config.lr > 0.0) || settings.config.batch == 0 {
        return Err(error(
            path,
            "metadata session: the learning rate and batch size must be positive",
        ));
    }
    let mut slots = Vec::new();
    for (name, entry) in model_entries(&network) {
        let Entry::F32(tensor) = entry else { continue };
        let mut slot = Slot::default();
        for (suffix, state) in [("m", &mut slot.m), ("v", &mut slot.v)] {
            let key = format!("optimizer.{name}.{suffix}");
            if parsed.has(&key) {
                *state = Some(parsed.f32(&key, Some(tensor.shape()))?);
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
        return Err(error(
            path,
            format!(
                "the {} optimizer's state is incomplete",
                settings.config.optimizer.name()
            ),
        ));
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
    let losses = parsed
        .f32("plot.losses", None)?
        .outer_iter()
        .filter(|row| row.len() == 2)
        .map(|row| (row[0] as u64, row[1]))
        .collect();
    let epochs = parsed
        .f32("plot.epochs", None)?
        .outer_iter()
        .filter(|row| row.len() == 3)
        .map(|row| (row[0] as usize, row[1], row[2]))
        .collect();
    Ok(Session {
        network,
        optimizer,
        settings,
        losses,
        epochs,
    })
}

pub fn load_session(path: &Path) -> Result<Session, DataError> {
    let bytes = read_file(path)?;
    read_session(path, &bytes)
}
