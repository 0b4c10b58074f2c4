//! The guided lesson's steps, with no window: short explained steps that
//! walk the question from the forward pass to the filter update on the
//! app's own network and numbers. Each step names the phase training must
//! stand at (reached through the worker's history, so going back works
//! too), the tab to open and the view to outline; the app moves there and
//! draws the strip (`app/panels/lesson.rs`).

use crate::engine::stepper::Phase;
use crate::i18n::tr;

/// The app's tabs (a lesson step opens one; a link names one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    Backprop,
    Draw,
    Data,
    Experiment,
    Mistakes,
    Architecture,
}

/// The places a lesson step can point at. Views record where they were drawn
/// this frame; the lesson outlines the one it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    Pipeline,
    Controls,
    /// The forward view's output map.
    Output,
    /// The filter (weights) shown next to it.
    Filter,
    Loss,
    /// The delta arriving from above.
    DeltaIn,
    /// The filter gradient dF (or dW).
    Gradient,
    /// The delta handed down to the layer below.
    DeltaDown,
    Update,
    Plots,
    Tabs,
    Explain,
    /// Where the views are visible (the central panel below the tabs).
    Views,
    /// The lesson's own strip.
    LessonPanel,
    /// The map a Predict question is answered on (a click question's).
    Question,
}

impl Mark {
    /// Marks of a map inside the views (outlined on the map's own edge,
    /// never over a title), as against whole areas of the window.
    pub fn is_map(self) -> bool {
        !matches!(
            self,
            Mark::Pipeline
                | Mark::Controls
                | Mark::Plots
                | Mark::Tabs
                | Mark::Explain
                | Mark::Views
                | Mark::LessonPanel
        )
    }
}

/// Where training must stand for a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// This built-in network (the question's `seed`, or the chapter's
    /// `strided`), untrained, its first batch loaded.
    Fresh(&'static str),
    /// Just after this phase of the current batch.
    After(Phase),
    /// Wherever the learner has got to.
    Anywhere,
}

pub struct Step {
    pub title: &'static str,
    pub text: &'static str,
    pub tab: Tab,
    pub goal: Goal,
    pub mark: Mark,
}

/// Where the optional chapter "What changes with stride 2" starts: the
/// main lesson is the steps before it.
pub const CHAPTER: usize = 16;

/// The steps of the part (the main lesson, or the chapter) that step
/// `index` belongs to: its strip counts and ends within it.
pub fn part(index: usize) -> std::ops::Range<usize> {
    if index < CHAPTER {
        0..CHAPTER
    } else {
        CHAPTER..steps().len()
    }
}

/// The built-in network step `index`'s part is taught on.
pub fn network(index: usize) -> &'static str {
    if index < CHAPTER {
        "seed"
    } else {
        "strided"
    }
}

/// The main lesson on the `seed` network's layers: conv1 relu1 pool1 conv2
/// relu2 pool2 flatten fc1 relu3 fc2 (0 … 9); then the chapter on the
/// `strided` network's: conv1 relu1 conv2 relu2 flatten fc1 relu3 fc2.
pub fn steps() -> [Step; 21] {
    use Goal::*;
    use Phase::*;
    [
        Step {
            title: tr("The question"),
            text: tr("A student wrote this network by hand: two convolution layers with one 3x3 filter each, pooling, and two fully connected layers. Backpropagation through the FC layers worked, but the filters stayed random (94 % accuracy). The question: how does the error get from the FC layers back into a 3x3 filter? This lesson follows one batch forward through the network, then the error back into the filters."),
            tab: Tab::Backprop,
            goal: Fresh("seed"),
            mark: Mark::Pipeline,
        },
        Step {
            title: tr("One batch at the input"),
            // Fresh again: the same untrained network and first batch,
            // before conv1 has run.
            text: tr("The network has just been reset: nothing learned yet (each filter starts as a pass-through with a little random noise). A batch of training digits waits at the input. The strip at the top shows every layer with the shape of its output; the coloured block is where the numbers are now."),
            tab: Tab::Backprop,
            goal: Fresh("seed"),
            mark: Mark::Pipeline,
        },
        Step {
            title: tr("Forward: the first convolution"),
            text: tr("conv1 slides its 3x3 filter F over the 28x28 image: each output cell is b + Σ F·x over the 3x3 patch under the filter. Click any cell of the output map: the panel on the right lists the nine products that make it, with the engine's own numbers."),
            tab: Tab::Backprop,
            goal: After(Forward(0)),
            mark: Mark::Output,
        },
        Step {
            title: tr("ReLU and max pooling"),
            text: tr("ReLU keeps positive values and sets the rest to 0. Max pooling keeps the largest value of each 2x2 window, so 28x28 becomes 14x14. Remember which cell won each window: the way back needs it."),
            tab: Tab::Backprop,
            goal: After(Forward(2)),
            mark: Mark::Output,
        },
        Step {
            title: tr("Down to 49 numbers"),
            text: tr("conv2, a second ReLU and a second pooling give a 7x7 map; flatten lays its 49 values out in a row. From here on come the fully connected layers the student had already written."),
            tab: Tab::Backprop,
            goal: After(Forward(6)),
            mark: Mark::Output,
        },
        Step {
            title: tr("The output and the loss"),
            text: tr("fc1 and fc2 turn the 49 values into 10 scores (logits), and softmax turns those into probabilities. The loss is the cross-entropy averaged over the batch. Its delta, (p − one_hot) / N, is the error that starts the backward pass."),
            tab: Tab::Backprop,
            goal: After(Loss),
            mark: Mark::Loss,
        },
        Step {
            title: tr("Backward through the FC layers"),
            text: tr("fc2 receives the loss's delta and does what the student's code already did: dW = input × delta, and the delta handed down = Wᵀ · delta. ReLU then multiplies it by its derivative: 1 where its input was positive, 0 elsewhere."),
            tab: Tab::Backprop,
            goal: After(Backward(9)),
            mark: Mark::Gradient,
        },
        Step {
            title: tr("Back to a 7x7 map"),
            text: tr("After fc1 and its ReLU, flatten reshapes the 49 deltas into a 7x7 map again. This is the first delta matrix of the convolution part: the error has left the FC layers."),
            tab: Tab::Backprop,
            goal: After(Backward(6)),
            mark: Mark::DeltaDown,
        },
        Step {
            title: tr("Through max pooling"),
            text: tr("Max pooling sends each delta to the cell that won its window and 0 to the other three. Click a cell of the delta handed down: the panel shows its window and the winner."),
            tab: Tab::Backprop,
            goal: After(Backward(5)),
            mark: Mark::DeltaDown,
        },
        Step {
            title: tr("Through ReLU"),
            text: tr("ReLU lets the delta through where its input was positive and blocks it elsewhere (the mask). What comes out is the delta D that conv2 receives."),
            tab: Tab::Backprop,
            goal: After(Backward(4)),
            mark: Mark::DeltaDown,
        },
        Step {
            title: tr("The answer, part 1: dF"),
            text: tr("conv2 now does the two jobs of the answer. First: dF is the correlation of the layer's input with the delta from above, summed over the batch. Each of the 9 cells of dF says how the loss changes when one filter weight changes. Click a cell of dF to see its terms."),
            tab: Tab::Backprop,
            goal: After(Backward(3)),
            mark: Mark::Gradient,
        },
        Step {
            title: tr("The answer, part 2: the delta handed down"),
            text: tr("Second: the delta for the layer below is the full convolution of D with the filter rotated by 180°. Every output cell that read an input cell sends its delta back through the weight it used."),
            tab: Tab::Backprop,
            goal: After(Backward(3)),
            mark: Mark::DeltaDown,
        },
        Step {
            title: tr("All the way to the first filter"),
            text: tr("pool1 and relu1 route and mask the delta in the same way, and conv1 computes its dF from the input images themselves. The error has reached the first filter."),
            tab: Tab::Backprop,
            goal: After(Backward(0)),
            mark: Mark::Gradient,
        },
        Step {
            title: tr("The update"),
            text: tr("Now every weight moves against its gradient: F ← F − η · dF. The app trains with plain SGD, so the view shows exactly that for every layer: the filter before, η · dF, and the filter after."),
            tab: Tab::Backprop,
            goal: After(Update),
            mark: Mark::Update,
        },
        Step {
            title: tr("Let it learn"),
            text: tr("Press Run: batch after batch the loss falls (the plot at the bottom) and the filters change. ← goes back in time, even into a finished batch, and → comes forward again."),
            tab: Tab::Backprop,
            goal: Anywhere,
            // The plot the text points at, open (on a projector the plots
            // are folded otherwise).
            mark: Mark::Plots,
        },
        Step {
            title: tr("The question's experiment"),
            text: tr("This tab trains two copies of the network from the same start, one with its filters frozen (the student's situation) and one with them learning, and plots their test accuracy side by side. Then draw a digit in the Draw tab and watch the network's answer."),
            tab: Tab::Experiment,
            goal: Anywhere,
            mark: Mark::Tabs,
        },
        // The optional chapter (CHAPTER …), on the `strided` network.
        Step {
            title: tr("What changes with stride 2"),
            text: tr("An optional chapter on lenet without pooling: each convolution moves 2 cells at a time, so 28x28 becomes 14x14, then 7x7, as in most modern CNNs. How does the error get back into filters that skip every other position?"),
            tab: Tab::Backprop,
            goal: Fresh("strided"),
            mark: Mark::Pipeline,
        },
        Step {
            title: tr("Forward with stride 2"),
            text: tr("conv1 reads its 3x3 window at every second position: output cell (i, j) reads the padded input from (2i, 2j). Each output cell is drawn twice as large: it stands for 2 input positions."),
            tab: Tab::Backprop,
            goal: After(Forward(0)),
            mark: Mark::Output,
        },
        Step {
            title: tr("dF with stride 2: the taps read every second cell"),
            text: tr("dF is still the input correlated with the delta from above, but tap (u, v) meets D[i, j] at input cell (2i + u, 2j + v): each tap reads every second cell. Click a cell of dF: what it read is outlined."),
            tab: Tab::Backprop,
            goal: After(Backward(2)),
            mark: Mark::Gradient,
        },
        Step {
            title: tr("The delta handed down: D dilated"),
            text: tr("D is dilated first: a zero between its cells (boxed), since output (i, j) sat at input (2i, 2j). Then it is stride 1's full convolution with rot180(F), one more ring of padding at the bottom and right."),
            tab: Tab::Backprop,
            goal: After(Backward(2)),
            mark: Mark::DeltaDown,
        },
        Step {
            title: tr("The rule for any stride"),
            text: tr("conv1 does the same with the images. Any stride S: put S − 1 zeros between D's cells, then do what stride 1 does. A dilated filter keeps its holes on the way back. Predict mode and File → Check my backprop test both."),
            tab: Tab::Backprop,
            goal: After(Backward(0)),
            mark: Mark::Gradient,
        },
    ]
}

/// The lesson's place: `Some(step)` while it is open.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Lesson {
    pub open: Option<usize>,
    /// Where the learner left it (to continue from the same step).
    pub left_at: Option<usize>,
    /// Where a start waiting for the learner's go-ahead opens (the main
    /// lesson's first step or the chapter's).
    pub start_at: usize,
}

impl Lesson {
    /// The mark the open step points at.
    pub fn mark(&self) -> Option<Mark> {
        self.open.map(|i| steps()[i].mark)
    }
}

/// What a step's sentence of numbers speaks of.
#[derive(Debug, Clone, PartialEq)]
pub struct Spoken {
    /// The sentence, with the numbers of the step on screen.
    pub text: String,
    /// The cell it is about (lit on the maps while the sentence is hovered).
    pub cell: crate::teach::explain::CellRef,
}

/// The numbers a step talks about, read from the trace on screen: the
/// loss's delta at the sample's label (step 6), the sign of conv2's and
/// conv1's middle dF and what the update will make of it (steps 11 and 13,
/// under plain SGD `sgd`), and the update as the engine made it (step 14).
/// `None` for the other steps, or before the phase has run.
pub fn spoken(
    step: usize,
    t: &crate::engine::trace::Trace,
    sample: usize,
    sgd: bool,
    numbering: &crate::teach::notation::Numbering,
) -> Option<Spoken> {
    use crate::engine::layers::LayerKind;
    use crate::teach::explain::CellRef;
    use crate::teach::notation::own_magnitude;
    use crate::trf;
    let n = sample.min(t.batch_size().checked_sub(1)?);
    let convs: Vec<usize> = (0..t.kinds.len())
        .filter(|&i| matches!(t.kinds[i], LayerKind::Conv { .. }))
        .collect();
    let num = |v: f32| own_magnitude(v, 4);
    // The learning rate as it was set (0.05, not 0.0500).
    let (eta, eta_text) = (t.lr, format!("{}", t.lr));
    let middle = |layer: usize| -> Option<(Vec<usize>, f32, f32)> {
        let w = t.layers[layer].weight.as_ref()?;
        let g = t.layers[layer].weight_grad.as_ref()?;
        let &[_, _, k, _] = w.shape() else {
            return None;
        };
        let index = vec![0, 0, k / 2, k / 2];
        Some((index.clone(), w[&index[..]], g[&index[..]]))
    };
    match step {
        5 => {
            let label = *t.labels.get(n)? as usize;
            let p = t.probs.as_ref()?[[n, label]];
            let d = t.logits_delta.as_ref()?[[n, label]];
            Some(Spoken {
                text: trf!(
                    "Sample {n} is a {label}: {d}[{n},{label}] = (p[{label}] − 1) / {batch} = ({p} − 1) / {batch} = {value} < 0, so the loss pushes its logit up.",
                    n = n,
                    label = label,
                    d = numbering.delta(t.names.len()),
                    batch = t.batch_size(),
                    p = num(p),
                    value = num(d)
                ),
                cell: CellRef::LossDelta { index: vec![n, label] },
            })
        }
        10 | 12 => {
            let layer = if step == 10 {
                *convs.get(1)?
            } else {
                *convs.first()?
            };
            let (index, f, g) = middle(layer)?;
            let (u, v) = (index[2], index[3]);
            let grows = g < 0.0;
            let direction = if grows { tr("grows") } else { tr("shrinks") };
            let text = if sgd {
                trf!(
                    "{layer}: dF[{u},{v}] = {g} {sign} 0, so F[{u},{v}] {direction} in the update: F − η·dF = {f} − {eta} × ({g}) = {after}.",
                    layer = t.names[layer],
                    u = u,
                    v = v,
                    g = num(g),
                    sign = if grows { "<" } else { "≥" },
                    direction = direction,
                    f = num(f),
                    eta = eta_text,
                    after = num(f - eta * g)
                )
            } else {
                trf!(
                    "{layer}: dF[{u},{v}] = {g} {sign} 0, so F[{u},{v}] {direction} in the update (it moves against its gradient).",
                    layer = t.names[layer],
                    u = u,
                    v = v,
                    g = num(g),
                    sign = if grows { "<" } else { "≥" },
                    direction = direction
                )
            };
            Some(Spoken {
                text,
                cell: CellRef::WeightGrad { layer, index },
            })
        }
        13 => {
            let layer = *convs.first()?;
            let (index, f, g) = middle(layer)?;
            let after = t.layers[layer].weight_after.as_ref()?[&index[..]];
            let (u, v) = (index[2], index[3]);
            let text = if sgd {
                trf!(
                    "{layer}: F[{u},{v}] − η·dF[{u},{v}] = {f} − {eta} × ({g}) = {after}, the engine's new weight.",
                    layer = t.names[layer],
                    u = u,
                    v = v,
                    f = num(f),
                    eta = eta_text,
                    g = num(g),
                    after = num(after)
                )
            } else {
                trf!(
                    "{layer}: F[{u},{v}] moved from {f} to {after} (dF[{u},{v}] = {g}).",
                    layer = t.names[layer],
                    u = u,
                    v = v,
                    f = num(f),
                    after = num(after),
                    g = num(g)
                )
            };
            Some(Spoken {
                text,
                cell: CellRef::WeightGrad { layer, index },
            })
        }
        _ => None,
    }
}
