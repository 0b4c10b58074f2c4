//! The app's state, below every panel: what is kept between runs
//! ([`Settings`]) and what many panels read ([`AppState`]: the worker's
//! latest snapshot, what is selected and looked at, the lesson's and the
//! predictions' progress, a check's result…). Panels get it read-only;
//! the one code that changes it is the reducer ([`super::command::apply`]).
//! No egui type lives here: textures and widget state belong to the panels
//! that draw them.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::message::Message;
use super::worker::{BatchDone, Replay, Snapshot, Speed, TrainConfig};
use crate::check::bugs::Bug;
use crate::check::checked::Checked;
use crate::data::dataset::Mnist;
use crate::engine::gradcheck::FiniteDifference;
use crate::engine::network::Network;
use crate::engine::nudge::Knob;
use crate::engine::stepper::Phase;
use crate::engine::trace::Trace;
use crate::i18n::{tr, Lang};
use crate::teach::animation::{Animation, Frame};
use crate::teach::explain::CellRef;
use crate::teach::lesson::{Lesson, Mark, Tab};
use crate::teach::notation::Numbering;
use crate::teach::predict::Prediction;
use crate::teach::record::{ClassRecord, Record};

/// Which diverging colours deltas and gradients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Palette {
    /// Blue negative, red positive.
    #[default]
    BlueRed,
    /// Blue negative, orange positive: safe for red–green colour blindness.
    BlueOrange,
}

/// What is kept between runs (eframe's storage).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    pub projector: bool,
    /// The size of everything, on top of projector mode's 1.4 (a large
    /// classroom screen, a small laptop).
    pub scale: f32,
    pub dark: bool,
    pub palette: Palette,
    pub lang: Lang,
    /// Layout: the plots at the bottom, the explanation on the right, the
    /// tab that was open.
    pub show_plots: bool,
    pub show_explain: bool,
    /// Name layers and deltas as the answer to the question does.
    pub answer_notation: bool,
    /// Predict each backward step before it is shown (always so in the
    /// guided lesson).
    pub predict: bool,
    pub tab: Tab,
    /// The files or folders of the last dataset opened (the shipped MNIST
    /// when empty); loaded again at the next start.
    pub last_data: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            projector: false,
            scale: 1.0,
            dark: true,
            palette: Palette::BlueRed,
            lang: Lang::En,
            show_plots: true,
            show_explain: true,
            answer_notation: false,
            predict: false,
            tab: Tab::Backprop,
            last_data: Vec::new(),
        }
    }
}

/// The settings the style is built from: changing the layout or the last
/// dataset needs no new style.
pub type Look = (bool, bool, Palette, Lang, u32);

impl Settings {
    pub fn look(&self) -> Look {
        (
            self.projector,
            self.dark,
            self.palette,
            self.lang,
            self.scale.to_bits(),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Info,
    Warning,
    Error,
}

/// What a one-sample teaching step is made of, for the sentence that says
/// where the numbers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taught {
    /// The drawing on the pad.
    Drawing,
    /// A test image the network got wrong (its index).
    TestDigit(usize),
}

/// Where the network Reset returns to came from, when it is not a preset's.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkSource {
    /// A model file (its name).
    File(String),
    Editor,
    Pretrained,
    /// A saved session (its file name).
    Session(String),
}

impl NetworkSource {
    /// A word or two for the toolbar, in the current language.
    pub fn name(&self) -> String {
        match self {
            NetworkSource::File(name) | NetworkSource::Session(name) => name.clone(),
            NetworkSource::Editor => tr("your network").into(),
            NetworkSource::Pretrained => tr("pretrained").into(),
        }
    }

    /// The file name of a path, for the toolbar.
    pub fn file(path: &str) -> String {
        std::path::Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.to_string())
    }
}

/// The conv filters when Run was pressed: what the update view compares
/// the running filters with.
#[derive(Debug, Clone)]
pub struct RunStart {
    /// Batches started when Run was pressed.
    pub batches: u64,
    /// Each conv layer's index and its filters then.
    pub filters: Vec<(usize, Arc<crate::engine::Tensor>)>,
}

impl RunStart {
    pub fn of(s: &Snapshot) -> Self {
        let filters = s
            .network
            .layers
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(l, crate::engine::layers::Layer::Conv(_)))
            .filter_map(|(i, l)| Some((i, l.params()?.0.value.clone())))
            .collect();
        RunStart {
            batches: s.batches,
            filters,
        }
    }
}

/// One point per finished batch and one row per epoch.
#[derive(Debug, Default, Clone)]
pub struct History {
    /// `[batch, loss]`
    pub losses: Vec<[f64; 2]>,
    /// `(epoch, train accuracy, test accuracy)`
    pub epochs: Vec<(usize, f32, f32)>,
    /// `[epochs so far, %]`: training accuracy over the last
    /// `RUNNING_BATCHES` batches, so the accuracy plot moves from the first
    /// batches instead of waiting for an epoch (3,750 batches of 16).
    pub running_accuracy: Vec<[f64; 2]>,
    recent: std::collections::VecDeque<f32>,
    /// Each conv layer's filters and dF after batches of the run: every
    /// batch at first, then every 2nd, 4th… (at most `2 × SPARK_POINTS`),
    /// and always the latest.
    pub filters: Vec<FilterPoint>,
}

/// The conv layers' filters after one batch.
#[derive(Debug, Clone)]
pub struct FilterPoint {
    pub batch: u64,
    pub layers: Arc<Vec<ConvState>>,
}

/// One conv layer's filters after a batch's update, and the dF of that batch.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvState {
    pub layer: usize,
    pub weight: crate::engine::Tensor,
    pub grad: crate::engine::Tensor,
}

/// The sparklines keep between this many and twice as many points.
pub const SPARK_POINTS: u64 = 256;

/// Which batches the sparklines keep once `batch` batches have run: the
/// multiples of a power of two that leaves at most `2 × SPARK_POINTS`.
pub fn spark_stride(batch: u64) -> u64 {
    (batch / SPARK_POINTS + 1).next_power_of_two()
}

/// How many batches the running accuracy averages.
pub const RUNNING_BATCHES: usize = 50;

impl History {
    /// The plots of a saved session: its losses and epochs.
    pub fn resumed(losses: Vec<[f64; 2]>, epochs: Vec<(usize, f32, f32)>) -> History {
        History {
            losses,
            epochs,
            ..History::default()
        }
    }

    pub fn add_batch(&mut self, b: BatchDone) {
        if let Some(layers) = b.filters.clone() {
            // A batch done again (after Back) replaces what followed it.
            self.filters.retain(|p| p.batch < b.batch);
            let stride = spark_stride(b.batch);
            // The previous latest stays only if it is on the stride.
            self.filters.retain(|p| p.batch % stride == 0);
            self.filters.push(FilterPoint {
                batch: b.batch,
                layers,
            });
        }
        self.losses.push([b.batch as f64, f64::from(b.loss)]);
        if self.recent.len() == RUNNING_BATCHES {
            self.recent.pop_front();
        }
        self.recent.push_back(b.accuracy);
        let mean = self.recent.iter().sum::<f32>() / self.recent.len() as f32;
        self.running_accuracy
            .push([b.epochs, f64::from(mean) * 100.0]);
    }
}

/// Why this moment cannot be shared as a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    #[error("{}", tr("nothing has been loaded yet"))]
    NotLoaded,
    /// A network from a file or a JSON preset: the link could not rebuild it.
    #[error(
        "{}",
        tr("only the built-in networks (seed, lenet, strided) can be shared as a link")
    )]
    NotBuiltin,
    /// A drawing was taught and training went on: no link replays that.
    #[error(
        "{}",
        tr("the network has learnt from a drawing since its last reset, and no link replays that: press Reset to share again")
    )]
    Taught,
}

/// Everything the panels read. Fields are public for reading: panels only
/// ever get `&AppState`, and [`super::command::apply`] is the one writer.
pub struct AppState {
    // Training, as the worker last showed it.
    /// The worker's latest picture of training (shared, never copied).
    pub snapshot: Option<Arc<Snapshot>>,
    /// Sequence number of the last request the worker has finished.
    pub acked: u64,
    pub data: Arc<Mnist>,
    pub data_source: String,
    /// The settings being edited; preset, seed, batch and optimizer take
    /// effect on Reset, the learning rate and freezing at once.
    pub config: TrainConfig,
    /// The network Reset returns to when it is not the preset's (a loaded
    /// model), and where it came from.
    pub start_network: Option<Network>,
    pub start_source: Option<NetworkSource>,
    pub speed: Speed,
    pub history: History,
    /// The conv filters as they were when Run was last pressed, and the
    /// batch count then: the update view shows how far they have moved
    /// since. Cleared by stepping by hand, Back and Forward, and a reset.
    pub run_start: Option<RunStart>,
    /// The browser: how much of MNIST's training set has arrived (0–1),
    /// while it is on its way.
    pub arriving: Option<f32>,

    // What is looked at.
    pub tab: Tab,
    pub sample: usize,
    pub selected: Option<CellRef>,
    /// The (out, in) channel pair the conv views show.
    pub channels: [usize; 2],
    pub view_layer: Option<usize>,
    /// Conv views drawn as the dense layer they are (the Toeplitz matrix).
    pub as_matrix: bool,
    /// A layer's sum being played, and its frame now (computed once per
    /// change, read by the views).
    pub animation: Option<Animation>,
    pub frame: Option<Frame>,
    pub message: Option<(MessageKind, Message)>,
    /// Projector mode, theme, palette: kept between runs.
    pub settings: Settings,

    // Windows over the views.
    /// The first-start card is open.
    pub welcome: bool,
    /// Starting the lesson waits for a yes (it would reset training).
    pub confirm_lesson: bool,
    pub show_shortcuts: bool,
    /// The screen blanked (B, as in a presentation): the class looks at
    /// the teacher; any key brings it back.
    pub blanked: bool,
    /// A cell lit while a number about it is hovered (the lesson's
    /// sentence); it outlines like a selection without opening anything.
    pub lit: Option<CellRef>,
    pub show_find_bug: bool,

    // Teaching.
    pub lesson: Lesson,
    /// The question covering the step on screen, or answered about it.
    pub prediction: Option<Prediction>,
    /// The steps already asked about since the reset (never twice).
    pub asked: HashSet<(u64, Phase)>,
    /// Every answer given, for the learner's own record.
    pub predictions: Vec<Record>,
    /// The live class this app teaches or takes part in.
    pub class: Option<super::classroom::ClassState>,
    /// A record in an opened session that could not be read, kept as it
    /// was to be saved again with the session.
    pub unread_predictions: Option<String>,
    /// The last move was a step by hand (a phase, the lesson, history):
    /// only those are predicted, never what a run or a whole batch passed.
    pub by_hand: bool,
    pub teach_label: u8,
    /// What the current teaching step is made of.
    pub taught: Option<Taught>,
    /// Predict mode's guess of the digit the network will answer after
    /// teaching the drawing, kept with the drawing taught.
    pub teach_guess: Option<(u8, Vec<f32>)>,
    /// A student's own tensors, checked against a step (its panel).
    pub checked: Option<Box<Checked>>,
    /// Files to check once the step's backward pass is there (`--check`).
    pub pending_check: Vec<PathBuf>,
    /// A class's records summed (the teacher's window).
    pub class_record: Option<ClassRecord>,
    /// A live class's report (*File → Class report*), as text.
    pub class_report: Option<String>,
    /// The teacher's deliberate mistake in the backward pass.
    pub bug: Option<Bug>,
    /// The finite-difference check of a weight: its result, and whether one
    /// is being computed.
    pub gradcheck: Option<(CellRef, Option<FiniteDifference>)>,
    pub gradchecking: bool,
    /// A weight or a pixel of the step being moved by hand.
    pub nudge: Option<Nudge>,
}

/// A weight or an input pixel of the step on screen moved by Δ, and what
/// the engine made of it (computed on a job's thread, one at a time: a
/// drag asks for the latest Δ, never a queue of them).
#[derive(Debug, Clone)]
pub struct Nudge {
    /// The selected cell it came from: a weight's gradient or an input pixel.
    pub cell: CellRef,
    pub knob: Knob,
    /// The step it belongs to (the knob's gradient tensor): a new step
    /// starts a new nudge.
    pub step: usize,
    /// Where the slider is, and how far it goes either way.
    pub delta: f32,
    pub range: f32,
    /// `[Δ, L(w + Δ)]` across the range, once computed.
    pub curve: Option<Vec<[f64; 2]>>,
    /// The step run with the latest Δ computed.
    pub live: Option<Arc<Nudged>>,
    /// A Δ is being computed.
    pub busy: bool,
}

impl Nudge {
    /// The knob a selected cell names and the step it belongs to, if it can
    /// be moved: a weight whose gradient is recorded, or an input pixel once
    /// the input's delta is (the tangent needs the slope).
    pub fn key(trace: &Trace, cell: &CellRef) -> Option<(Knob, usize)> {
        let (knob, grad) = match cell {
            CellRef::WeightGrad { layer, index } => (
                Knob::Weight {
                    layer: *layer,
                    index: index.clone(),
                },
                trace.layers.get(*layer)?.weight_grad.as_ref()?,
            ),
            CellRef::Input { index } => (
                Knob::Pixel {
                    index: index.clone(),
                },
                trace.layers.first()?.delta.as_ref()?,
            ),
            _ => return None,
        };
        knob.gradient(trace)?;
        knob.value(trace)?;
        Some((knob, Arc::as_ptr(grad) as usize))
    }

    /// Whether this nudge is of `cell` in the step `trace` records.
    pub fn is_for(&self, trace: &Trace, cell: &CellRef) -> bool {
        Self::key(trace, cell).is_some_and(|(knob, step)| knob == self.knob && step == self.step)
    }
}

/// The step run again with the knob moved by `delta`.
#[derive(Debug)]
pub struct Nudged {
    pub delta: f32,
    /// Forward, loss and backward with the nudge (the engine's stepper).
    pub trace: Trace,
    /// `L(w + Δ)` and `L(w − Δ)` by the f64 forward pass: their secant is
    /// the finite difference at step Δ.
    pub plus: f64,
    pub minus: f64,
}

/// What a nudge job sends back.
#[derive(Debug)]
pub enum NudgeOutcome {
    Curve {
        step: usize,
        knob: Knob,
        curve: Vec<[f64; 2]>,
    },
    Live {
        step: usize,
        knob: Knob,
        nudged: Option<Arc<Nudged>>,
    },
}

impl AppState {
    pub fn new(
        config: TrainConfig,
        network: Option<Network>,
        data: Arc<Mnist>,
        source: String,
    ) -> Self {
        AppState {
            snapshot: None,
            acked: 0,
            data,
            data_source: source,
            config,
            start_source: network
                .as_ref()
                .map(|_| NetworkSource::File(tr("model").to_string())),
            start_network: network,
            speed: Speed::PerSecond(20.0),
            history: History::default(),
            run_start: None,
            arriving: None,
            tab: Tab::Backprop,
            sample: 0,
            selected: None,
            channels: [0, 0],
            view_layer: None,
            as_matrix: false,
            animation: None,
            frame: None,
            message: None,
            settings: Settings::default(),
            welcome: false,
            confirm_lesson: false,
            show_shortcuts: false,
            blanked: false,
            lit: None,
            show_find_bug: false,
            lesson: Lesson::default(),
            prediction: None,
            asked: HashSet::new(),
            predictions: Vec::new(),
            class: None,
            unread_predictions: None,
            by_hand: false,
            teach_label: 0,
            taught: None,
            teach_guess: None,
            checked: None,
            pending_check: Vec::new(),
            class_record: None,
            class_report: None,
            bug: None,
            gradcheck: None,
            gradchecking: false,
            nudge: None,
        }
    }

    /// The selected cell, if the step on screen holds it: a link's cell
    /// while its replay is under way, or a cell of another network, is set
    /// aside (views and the explanation index only with this).
    pub fn selection(&self) -> Option<&CellRef> {
        let s = self.snapshot.as_ref()?;
        self.lit
            .as_ref()
            .or(self.selected.as_ref())
            .filter(|cell| cell.fits(&s.trace, &s.network.plan.shapes))
    }

    /// The status line as it reads now (kind and text).
    pub fn message_text(&self) -> Option<(MessageKind, String)> {
        self.message.as_ref().map(|(kind, m)| (*kind, m.text()))
    }

    /// Whether steps are predicted before they are shown.
    pub fn predicting(&self) -> bool {
        self.settings.predict || self.lesson.open.is_some()
    }

    /// The network Reset builds, in a word or two (a preset's name, a
    /// file's, "your network" for the editor's).
    pub fn network_name(&self) -> String {
        match (&self.start_network, &self.start_source) {
            (Some(_), Some(source)) => source.name(),
            _ => self.config.preset.clone(),
        }
    }

    /// Training is running (Run), so the step buttons wait.
    pub fn running(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|s| s.running)
    }

    /// A link's replay under way: batches done of the total.
    pub fn replaying(&self) -> Option<Replay> {
        self.snapshot.as_ref().and_then(|s| s.replay)
    }

    /// The mark the open lesson step points at.
    pub fn lesson_mark(&self) -> Option<Mark> {
        self.lesson.mark()
    }

    /// The prediction waiting on the step on screen, if the view is covered.
    pub fn covering(&self) -> bool {
        let Some(p) = &self.prediction else {
            return false;
        };
        let here = self
            .snapshot
            .as_ref()
            .is_some_and(|s| s.batches == p.batch && s.last == Some(p.phase));
        here && !p.revealed && self.view_layer.is_none()
    }

    /// The layer the views are about: the clicked block, else the phase's
    /// layer.
    /// The numbering on screen (the app's, or the answer's when chosen).
    pub fn numbering(&self, kinds: &[crate::engine::layers::LayerKind]) -> Numbering {
        Numbering::new(kinds, self.settings.answer_notation)
    }

    pub fn focus_layer(&self) -> usize {
        let Some(s) = &self.snapshot else { return 0 };
        let n = s.trace.names.len();
        self.view_layer.unwrap_or(match s.last {
            Some(Phase::Forward(i)) | Some(Phase::Backward(i)) => i,
            Some(Phase::Loss) => n - 1,
            Some(Phase::Update) | Some(Phase::Done) | None => match s.next {
                Phase::Forward(i) | Phase::Backward(i) => i,
                _ => 0,
            },
        })
    }

    /// The sample the views show, within the step's batch.
    pub fn shown_sample(&self) -> usize {
        let batch = self.snapshot.as_ref().map_or(1, |s| s.trace.batch_size());
        self.sample.min(batch.saturating_sub(1))
    }

    /// Whether starting the lesson would throw away training or a network
    /// the user chose (then it asks first).
    pub fn lesson_would_reset_work(&self) -> bool {
        self.start_network.is_some()
            || !self.history.losses.is_empty()
            || self
                .snapshot
                .as_ref()
                .is_some_and(|s| s.batches > 1 || s.last.is_some())
    }

    /// The step on screen and its batch count, when its backward pass is
    /// complete (a check needs every delta).
    pub fn checkable_step(&self) -> Option<(crate::engine::trace::Trace, u64)> {
        let s = self.snapshot.as_ref()?;
        let complete =
            s.trace.logits_delta.is_some() && s.trace.layers.iter().all(|l| l.delta.is_some());
        complete.then(|| (s.trace.clone(), s.batches))
    }

    /// The network's probabilities for 784 preprocessed pixels, from the
    /// network as it is now (the worker's latest snapshot).
    pub fn classify(&self, pixels: &[f32]) -> Option<Vec<f32>> {
        let network = &self.snapshot.as_ref()?.network;
        let input =
            crate::engine::Tensor::from_shape_vec(vec![1, 1, 28, 28], pixels.to_vec()).ok()?;
        Some(
            crate::engine::loss::softmax(&network.forward(&input))
                .iter()
                .copied()
                .collect(),
        )
    }

    /// This moment as a link, or why it cannot be one (a network from a
    /// file, a JSON preset).
    pub fn moment(&self) -> Result<super::link::Moment, ShareError> {
        let s = self.snapshot.as_ref().ok_or(ShareError::NotLoaded)?;
        if self.start_network.is_some() || !crate::presets::is_builtin(&self.config.preset) {
            return Err(ShareError::NotBuiltin);
        }
        if s.off_link {
            return Err(ShareError::Taught);
        }
        // A drawing being taught: the link says after how many batches.
        let (step, teach) = match &s.taught {
            Some(t) => (
                t.after + 1,
                Some(super::link::Drawing::from_pixels(t.label, &t.pixels)),
            ),
            None => (s.batches.max(1), None),
        };
        Ok(super::link::Moment {
            preset: self.config.preset.clone(),
            seed: self.config.seed,
            batch: self.config.batch,
            lr: s.lr,
            optimizer: s.optimizer,
            step,
            teach,
            phase: s.last.filter(|p| *p != Phase::Done),
            sample: self.sample,
            channels: self.channels,
            cell: self.selected.clone(),
            tab: self.tab,
            lesson: self.lesson.open,
            lang: self.settings.lang,
        })
    }

    /// The moment a drawing taught now would begin (nothing of it run,
    /// the Draw tab): what a class is asked about before the step.
    pub fn drawing_moment(
        &self,
        label: u8,
        pixels: &[f32],
    ) -> Result<super::link::Moment, ShareError> {
        let mut m = self.moment()?;
        let after = self
            .snapshot
            .as_ref()
            .and_then(|s| s.teach_after)
            .ok_or(ShareError::Taught)?;
        m.step = after + 1;
        m.teach = Some(super::link::Drawing::from_pixels(label, pixels));
        m.phase = None;
        m.sample = 0;
        m.cell = None;
        m.tab = Tab::Draw;
        m.lesson = None;
        Ok(m)
    }
}
