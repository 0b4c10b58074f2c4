//! A moment of training as a link: the network, seed, batch size, learning
//! rate and optimizer, the batch number and phase, the sample, the selected
//! cell, the tab, the lesson step and the language, in a URL fragment
//!
//! `#preset=seed&seed=1&batch=16&lr=0.05&opt=sgd&step=3&phase=backward:conv2&sample=0&cell=dF:0,0,1,1&tab=backprop&lang=ru`
//!
//! The engine is deterministic, so opening a link replays training to that
//! exact moment: the same loss, dF and deltas as where it was made.
//! *File → Share this moment* copies one; `--link` opens one at start.
//! Only the built-in presets travel in a link (a JSON file's path means
//! nothing on another machine).
//!
//! A drawing being taught travels too: `teach=3:<base64url>` is its label
//! and its 784 pixels, a byte each (as MNIST keeps them); the moment's
//! batch `step` is then that drawing alone, taught after `step − 1`
//! batches, in place of MNIST's batch `step`.

use crate::engine::network::preset_specs;
use crate::engine::optim::OptimizerKind;
use crate::engine::stepper::Phase;
use crate::i18n::Lang;
use crate::teach::explain::CellRef;
use crate::teach::lesson::Tab;
use crate::trf;

/// Why a link was refused: the field named, worded for the learner in the
/// current language when shown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinkError {
    #[error("{}", trf!("the link is longer than {n} characters", n = MAX_LINK))]
    TooLong,
    #[error("{}", trf!("the link's {key}={value} is not valid", key = .key, value = .value))]
    Field { key: String, value: String },
    #[error("{}", trf!("the link's preset {value} is not one of seed, lenet, strided", value = .0))]
    Preset(String),
    #[error("{}", trf!("the link has an unknown field {key}", key = .0))]
    Unknown(String),
    #[error("{}", trf!("the link's batch={batch} is too large: {error}", batch = .batch, error = .error))]
    Batch {
        batch: usize,
        error: crate::engine::EngineError,
    },
    #[error("{}", trf!("the link's step={step} with batch={batch} would replay {samples} samples; at most {limit} are replayed", step = .step, batch = .batch, samples = .samples, limit = MAX_REPLAY_SAMPLES))]
    Replay {
        step: u64,
        batch: usize,
        samples: u64,
    },
    #[error("{}", trf!("the link's cell={cell} is not valid: {why}", cell = .cell, why = .why))]
    Cell { cell: String, why: String },
    /// A built-in preset that does not plan: the program's own mistake.
    #[error("{0}")]
    Network(crate::engine::EngineError),
}

/// One moment, as a link holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    pub preset: String,
    pub seed: u64,
    pub batch: usize,
    pub lr: f32,
    pub optimizer: OptimizerKind,
    /// The batch, counted from 1.
    pub step: u64,
    /// The phase just run in that batch (`None`: the batch loaded, nothing run).
    pub phase: Option<Phase>,
    pub sample: usize,
    /// The (out, in) channel pair the conv views show.
    pub channels: [usize; 2],
    pub cell: Option<CellRef>,
    pub tab: Tab,
    pub lesson: Option<usize>,
    pub lang: Lang,
    /// The moment's batch is this drawing taught.
    pub teach: Option<Drawing>,
}

/// A drawing and the label it is taught with, as a link carries it: its
/// pixels a byte each, what the network sees being `byte / 255`.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    pub label: u8,
    pub pixels: Vec<u8>,
}

/// A drawing's pixels, and their text in a link (784 bytes in base64url).
const DRAWING_PIXELS: usize = 784;
const DRAWING_TEXT: usize = (DRAWING_PIXELS * 4).div_ceil(3);

impl Drawing {
    /// Pixels in `[0, 1]` as the nearest byte.
    pub fn from_pixels(label: u8, pixels: &[f32]) -> Drawing {
        Drawing {
            label,
            pixels: pixels.iter().map(|&v| to_byte(v)).collect(),
        }
    }

    /// The pixels the network sees (exactly MNIST's for MNIST's digits).
    pub fn values(&self) -> Vec<f32> {
        self.pixels.iter().map(|&b| f32::from(b) / 255.0).collect()
    }

    fn to_text(&self) -> String {
        use base64::Engine;
        format!(
            "{}:{}",
            self.label,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.pixels)
        )
    }

    /// `LABEL:PIXELS`, the length checked before anything is decoded.
    fn parse(text: &str) -> Option<Drawing> {
        use base64::Engine;
        let (label, pixels) = text.split_once(':')?;
        let label = label.parse::<u8>().ok().filter(|&l| l <= 9)?;
        if pixels.len() != DRAWING_TEXT {
            return None;
        }
        let pixels = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(pixels)
            .ok()
            .filter(|p| p.len() == DRAWING_PIXELS)?;
        Some(Drawing { label, pixels })
    }
}

/// A pixel in `[0, 1]` as the nearest of 256 levels (NaN: 0).
pub fn to_byte(v: f32) -> u8 {
    if v.is_nan() {
        0
    } else {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }
}

/// The longest link read, and the most batches one may replay (a link is
/// typed by people and can come from anywhere).
const MAX_LINK: usize = 2048;
pub const MAX_STEP: u64 = 100_000;
const MAX_CHANNEL: usize = 4096;

fn tab_name(tab: Tab) -> &'static str {
    match tab {
        Tab::Backprop => "backprop",
        Tab::Draw => "draw",
        Tab::Data => "data",
        Tab::Experiment => "experiment",
        Tab::Mistakes => "mistakes",
        Tab::Architecture => "architecture",
    }
}

/// A cell as a link writes it: `dF:0,0,1,1`, or `D@relu2:0,0,3,4` when the
/// cell belongs to another layer than the phase's (the delta arriving at a
/// conv layer is the layer above's).
fn cell_text(names: &[String], phase: Option<Phase>, cell: &CellRef) -> String {
    let (kind, layer, index) = match cell {
        CellRef::WeightGrad { layer, index } => ("dF", Some(*layer), index),
        CellRef::Delta { layer, index } => ("D", Some(*layer), index),
        CellRef::Output { layer, index } => ("y", Some(*layer), index),
        CellRef::Input { index } => ("x", None, index),
        CellRef::LossDelta { index } => ("L", None, index),
    };
    let phase_layer = match phase {
        Some(Phase::Forward(i)) | Some(Phase::Backward(i)) => Some(i),
        _ => None,
    };
    let at = match layer {
        Some(l) if Some(l) != phase_layer => names
            .get(l)
            .map(|name| format!("@{name}"))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let index: Vec<String> = index.iter().map(usize::to_string).collect();
    format!("{kind}{at}:{}", index.join(","))
}

/// The most samples a link may replay: (step − 1) × batch. 100,000 steps of
/// the default batch of 16, about 27 epochs of MNIST: seconds for `seed`,
/// a minute or two for `lenet`, and Escape stops it at any moment.
pub const MAX_REPLAY_SAMPLES: u64 = 1_600_000;

impl Moment {
    /// The size of the moment's batch: the drawing alone when one is taught.
    pub fn shown_batch(&self) -> usize {
        if self.teach.is_some() {
            1
        } else {
            self.batch
        }
    }

    /// The link's fragment (with its `#`).
    pub fn to_fragment(&self) -> String {
        let names = preset_specs(&self.preset)
            .map(|s| s.into_iter().map(|l| l.name).collect::<Vec<_>>())
            .unwrap_or_default();
        let mut parts = vec![
            format!("preset={}", self.preset),
            format!("seed={}", self.seed),
            format!("batch={}", self.batch),
            format!("lr={}", self.lr),
            format!("opt={}", self.optimizer.name()),
            format!("step={}", self.step),
        ];
        if let Some(drawing) = &self.teach {
            parts.push(format!("teach={}", drawing.to_text()));
        }
        if let Some(phase) = self.phase {
            parts.push(format!("phase={}", phase.id(&names)));
        }
        parts.push(format!("sample={}", self.sample));
        if self.channels != [0, 0] {
            parts.push(format!("ch={},{}", self.channels[0], self.channels[1]));
        }
        if let Some(cell) = &self.cell {
            parts.push(format!("cell={}", cell_text(&names, self.phase, cell)));
        }
        parts.push(format!("tab={}", tab_name(self.tab)));
        if let Some(step) = self.lesson {
            parts.push(format!("lesson={}", step + 1));
        }
        parts.push(format!(
            "lang={}",
            match self.lang {
                Lang::En => "en",
                Lang::Ru => "ru",
            }
        ));
        format!("#{}", parts.join("&"))
    }

    /// Reads a link (the whole URL or only its fragment), checking every
    /// field: a bad one is named in the error.
    pub fn parse(link: &str) -> Result<Moment, LinkError> {
        if link.len() > MAX_LINK {
            return Err(LinkError::TooLong);
        }
        let fragment = link.rsplit_once('#').map_or(link, |(_, f)| f);
        let mut m = Moment {
            preset: "seed".into(),
            seed: crate::presets::defaults::SEED,
            batch: crate::presets::defaults::BATCH,
            lr: super::APP_LR,
            optimizer: OptimizerKind::Sgd,
            step: 1,
            phase: None,
            sample: 0,
            channels: [0, 0],
            cell: None,
            tab: Tab::Backprop,
            lesson: None,
            lang: Lang::En,
            teach: None,
        };
        let mut phase_text = None;
        let mut cell_text = None;
        let bad = |key: &str, value: &str| LinkError::Field {
            key: key.into(),
            value: value.into(),
        };
        for part in fragment.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| bad(part, ""))?;
            match key {
                "preset" => {
                    if preset_specs(value).is_none() {
                        return Err(LinkError::Preset(value.into()));
                    }
                    m.preset = value.into();
                }
                "seed" => m.seed = value.parse().map_err(|_| bad(key, value))?,
                "batch" => {
                    m.batch = value
                        .parse()
                        .ok()
                        .filter(|&b| (1..=super::worker::APP_MAX_BATCH).contains(&b))
                        .ok_or_else(|| bad(key, value))?
                }
                "lr" => {
                    m.lr = value
                        .parse()
                        .ok()
                        .filter(|l: &f32| l.is_finite() && *l > 0.0 && *l <= 10.0)
                        .ok_or_else(|| bad(key, value))?
                }
                "opt" => {
                    m.optimizer = OptimizerKind::parse(value).ok_or_else(|| bad(key, value))?
                }
                "step" => {
                    m.step = value
                        .parse()
                        .ok()
                        .filter(|&s| (1..=MAX_STEP).contains(&s))
                        .ok_or_else(|| bad(key, value))?
                }
                "phase" => phase_text = Some(value.to_string()),
                "teach" => m.teach = Some(Drawing::parse(value).ok_or_else(|| bad(key, value))?),
                "sample" => m.sample = value.parse().map_err(|_| bad(key, value))?,
                "cell" => cell_text = Some(value.to_string()),
                // (The views clamp a pair to the layer shown; the bound
                // only keeps the number sane.)
                "ch" => {
                    let pair: Vec<usize> = value
                        .split(',')
                        .map(|v| v.parse().ok().filter(|&c| c < MAX_CHANNEL))
                        .collect::<Option<_>>()
                        .ok_or_else(|| bad(key, value))?;
                    m.channels = match pair[..] {
                        [o, i] => [o, i],
                        _ => return Err(bad(key, value)),
                    };
                }
                "tab" => {
                    m.tab = [
                        Tab::Backprop,
                        Tab::Draw,
                        Tab::Data,
                        Tab::Experiment,
                        Tab::Mistakes,
                        Tab::Architecture,
                    ]
                    .into_iter()
                    .find(|t| tab_name(*t) == value)
                    .ok_or_else(|| bad(key, value))?
                }
                "lesson" => {
                    let n: usize = value.parse().map_err(|_| bad(key, value))?;
                    let count = crate::teach::lesson::steps().len();
                    m.lesson = Some(
                        (1..=count)
                            .contains(&n)
                            .then(|| n - 1)
                            .ok_or_else(|| bad(key, value))?,
                    );
                }
                "lang" => {
                    m.lang = match value {
                        "en" => Lang::En,
                        "ru" => Lang::Ru,
                        _ => return Err(bad(key, value)),
                    }
                }
                _ => return Err(LinkError::Unknown(key.into())),
            }
        }
        // A drawing taught is a batch of one.
        if m.sample >= m.shown_batch() {
            return Err(bad("sample", &m.sample.to_string()));
        }
        let specs = preset_specs(&m.preset).ok_or_else(|| bad("preset", &m.preset))?;
        let names: Vec<String> = specs.iter().map(|l| l.name.clone()).collect();
        // The built-in presets always plan; a failure would be ours, but a
        // link is still refused with a message rather than a panic.
        let plan = crate::engine::limits::plan(&specs).map_err(LinkError::Network)?;
        // The batch the app can hold with its history, and a replay that
        // ends in reasonable time (it can be stopped in any case).
        super::worker::check_app_batch(&plan, m.batch).map_err(|error| LinkError::Batch {
            batch: m.batch,
            error,
        })?;
        let replayed = (m.step - 1).saturating_mul(m.batch as u64);
        if replayed > MAX_REPLAY_SAMPLES {
            return Err(LinkError::Replay {
                step: m.step,
                batch: m.batch,
                samples: replayed,
            });
        }
        if let Some(text) = phase_text {
            let layer = |name: &str| {
                names
                    .iter()
                    .position(|n| n == name)
                    .ok_or_else(|| bad("phase", &text))
            };
            m.phase = Some(match text.split_once(':') {
                Some(("forward", name)) => Phase::Forward(layer(name)?),
                Some(("backward", name)) => Phase::Backward(layer(name)?),
                None if text == "loss" => Phase::Loss,
                None if text == "update" => Phase::Update,
                _ => return Err(bad("phase", &text)),
            });
        }
        if let Some(text) = cell_text {
            let cell = parse_cell(&text, m.phase, &names).ok_or_else(|| bad("cell", &text))?;
            check_cell(&cell, &m, &specs, &plan).map_err(|why| LinkError::Cell {
                cell: text.clone(),
                why,
            })?;
            m.cell = Some(cell);
        }
        Ok(m)
    }
}

/// `KIND[@LAYER]:i,j,…` (at most four indices, each below 65,536); the
/// layer is the phase's when not named. Only the syntax is checked here.
fn parse_cell(text: &str, phase: Option<Phase>, names: &[String]) -> Option<CellRef> {
    let (head, index) = text.split_once(':')?;
    let index: Vec<usize> = index
        .split(',')
        .map(|i| i.parse::<usize>().ok().filter(|&i| i < 1 << 16))
        .collect::<Option<Vec<usize>>>()
        .filter(|i| !i.is_empty() && i.len() <= 4)?;
    let (kind, named) = match head.split_once('@') {
        Some((kind, name)) => (kind, Some(names.iter().position(|n| n == name)?)),
        None => (head, None),
    };
    let layer = || match (named, phase) {
        (Some(l), _) => Some(l),
        (None, Some(Phase::Forward(i)) | Some(Phase::Backward(i))) => Some(i),
        _ => None,
    };
    Some(match kind {
        "dF" => CellRef::WeightGrad {
            layer: layer()?,
            index,
        },
        "D" => CellRef::Delta {
            layer: layer()?,
            index,
        },
        "y" => CellRef::Output {
            layer: layer()?,
            index,
        },
        "x" if named.is_none() => CellRef::Input { index },
        "L" if named.is_none() => CellRef::LossDelta { index },
        _ => return None,
    })
}

/// Whether the moment's step holds `cell` (see [`CellRef::check_in`]), and
/// the tensor has been computed by the moment's phase (outputs from their
/// forward phase on, the loss's delta from the loss on, deltas and weight
/// gradients from their backward phase on). The reason, worded for the
/// learner, when it does not.
fn check_cell(
    cell: &CellRef,
    m: &Moment,
    specs: &[crate::engine::layers::LayerSpec],
    plan: &crate::engine::limits::Plan,
) -> Result<(), String> {
    let kinds: Vec<_> = specs.iter().map(|s| s.kind.clone()).collect();
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let tensor = cell.check_in(&names, &kinds, &plan.shapes, m.shown_batch())?;
    let layers = specs.len();
    let now = m.phase.map_or(0, |p| p.order(layers));
    if cell.computed_at(layers) > now {
        return Err(trf!(
            "{tensor} is not computed yet at that phase",
            tensor = tensor
        ));
    }
    Ok(())
}
