//! Where networks come from by name: the two presets, a JSON layer-list
//! file, the pretrained model that ships inside the program, and the
//! defaults every entry point (command line, app) shares.

use std::path::Path;

use crate::engine::network::{preset_specs, Network};
use crate::io::file::{read_bounded, FileError, Problem, MAX_PRESET_BYTES};

/// The defaults every entry point shares (CLI, app): chosen so that the
/// fragile one-filter `seed` network learns from every seed (README).
pub mod defaults {
    use crate::engine::optim::OptimizerKind;

    pub const PRESET: &str = "seed";
    pub const EPOCHS: usize = 3;
    pub const BATCH: usize = 16;
    pub const LR: f32 = 0.005;
    pub const OPTIMIZER: OptimizerKind = OptimizerKind::Adam;
    pub const SEED: u64 = 1;
}

/// Whether `preset` names a built-in network (`seed`, `lenet`, `strided`) rather than
/// a file.
pub fn is_builtin(preset: &str) -> bool {
    preset_specs(preset).is_some()
}

/// A preset name or a JSON layer-list file, initialised with `seed`. The
/// file is read as any untrusted input: a regular file of at most 1 MiB,
/// and the network it describes passes the one validation.
pub fn network_from_preset(preset: &str, seed: u64) -> Result<Network, FileError> {
    if is_builtin(preset) {
        return Ok(Network::preset(preset, seed).expect("the presets build"));
    }
    let path = Path::new(preset);
    let fail = |problem| FileError::new(path, problem);
    let bytes = read_bounded(path, MAX_PRESET_BYTES).map_err(|e| match e.problem {
        Problem::NotFound => fail(Problem::NoSuchPreset),
        _ => e,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        fail(Problem::Network(crate::engine::EngineError::NotJson {
            detail: "not UTF-8 text".into(),
        }))
    })?;
    let specs = Network::specs_from_json(&text).map_err(|e| fail(Problem::Network(e)))?;
    let mut net = Network::new(specs).map_err(|e| fail(Problem::Network(e)))?;
    net.init(seed);
    Ok(net)
}

/// The pretrained model that ships inside the program.
#[cfg(not(target_arch = "wasm32"))]
pub const PRETRAINED: &[u8] = include_bytes!("../assets/models/pretrained.safetensors");

/// The browser's copy of the pretrained model: fetched from the site before
/// the app starts (built in, it would take a tenth of the page's wasm).
#[cfg(target_arch = "wasm32")]
pub static PRETRAINED_FETCHED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

pub fn pretrained_model() -> Network {
    #[cfg(not(target_arch = "wasm32"))]
    let bytes = PRETRAINED;
    #[cfg(target_arch = "wasm32")]
    let bytes = PRETRAINED_FETCHED.get().map_or(&[][..], Vec::as_slice);
    crate::io::read_model(Path::new("assets/models/pretrained.safetensors"), bytes)
        .expect("the shipped model is valid (tested; the page fetches it before starting)")
}
