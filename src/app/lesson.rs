//! The guided lesson: short explained steps that walk the question from the
//! forward pass to the filter update on the app's own network and numbers.
//! Each step moves training to the phase it talks about (through the worker's
//! history, so going back works too), opens the right tab and outlines the
//! view that matters. The learner can leave at any time and come back to the
//! same step.

use egui::{Color32, RichText, Ui};

use super::{BackpropApp, LessonMove, Tab, UiCommand};
use crate::engine::stepper::Phase;
use crate::i18n::tr;
use crate::trf;

/// The places a lesson step can point at. Views record where they were drawn
/// this frame (`BackpropApp::mark`); the lesson outlines the one it names.
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
    /// The question's network, untrained, its first batch loaded.
    Fresh,
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

/// The `seed` network's layers: conv1 relu1 pool1 conv2 relu2 pool2 flatten
/// fc1 relu3 fc2 (0 … 9).
pub fn steps() -> [Step; 16] {
    use Goal::*;
    use Phase::*;
    [
        Step {
            title: tr("The question"),
            text: tr("A student wrote this network by hand: two convolution layers with one 3x3 filter each, pooling, and two fully connected layers. Backpropagation through the FC layers worked, but the filters stayed random (94 % accuracy). The question: how does the error get from the FC layers back into a 3x3 filter? This lesson follows one batch forward through the network, then the error back into the filters."),
            tab: Tab::Backprop,
            goal: Fresh,
            mark: Mark::Pipeline,
        },
        Step {
            title: tr("One batch at the input"),
            // Fresh again: the same untrained network and first batch,
            // before conv1 has run.
            text: tr("The network has just been reset: nothing learned yet (each filter starts as a pass-through with a little random noise). A batch of training digits waits at the input. The strip at the top shows every layer with the shape of its output; the coloured block is where the numbers are now."),
            tab: Tab::Backprop,
            goal: Fresh,
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
            mark: Mark::Controls,
        },
        Step {
            title: tr("The question's experiment"),
            text: tr("This tab trains two copies of the network from the same start, one with its filters frozen (the student's situation) and one with them learning, and plots their test accuracy side by side. Then draw a digit in the Draw tab and watch the network's answer."),
            tab: Tab::Experiment,
            goal: Anywhere,
            mark: Mark::Tabs,
        },
    ]
}

/// The lesson's place: `Some(step)` while it is open.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Lesson {
    pub open: Option<usize>,
    /// Where the learner left it (to continue from the same step).
    pub left_at: Option<usize>,
}

impl BackpropApp {
    /// Opens the lesson at `step`: the tab, and training moved to the phase
    /// the step talks about.
    pub fn lesson_go(&mut self, step: usize) {
        let steps = steps();
        let step = step.min(steps.len() - 1);
        self.lesson.open = Some(step);
        self.welcome = false;
        let s = &steps[step];
        self.tab = s.tab;
        match s.goal {
            Goal::Fresh => {
                self.config = super::default_config();
                self.start_network = None;
                self.start_source = None;
                self.command(UiCommand::Pause);
                self.command(UiCommand::Reset);
            }
            Goal::After(phase) => {
                self.command(UiCommand::Pause);
                self.command(UiCommand::ViewLayer(None));
                self.command(UiCommand::GoTo(phase));
            }
            Goal::Anywhere => {}
        }
    }

    /// The mark the open lesson step points at.
    pub fn lesson_mark(&self) -> Option<Mark> {
        self.lesson.open.map(|i| steps()[i].mark)
    }

    pub fn lesson_leave(&mut self) {
        self.lesson.left_at = self.lesson.open.take();
    }

    /// The one place the lesson's state changes (`UiCommand::Lesson`).
    pub(super) fn lesson_move(&mut self, m: super::LessonMove) {
        use super::LessonMove;
        match m {
            LessonMove::Start if super::panels::welcome::lesson_would_reset_work(self) => {
                self.confirm_lesson = true;
            }
            LessonMove::Start | LessonMove::Confirmed(true) => {
                self.confirm_lesson = false;
                self.lesson_go(0);
            }
            LessonMove::Confirmed(false) => self.confirm_lesson = false,
            LessonMove::Go(step) => self.lesson_go(step),
            LessonMove::Leave => self.lesson_leave(),
            LessonMove::Finish => {
                self.lesson.open = None;
                self.lesson.left_at = None;
            }
        }
    }
}

/// The lesson's strip: where we are, the text, back / next / leave.
pub fn lesson_ui(app: &mut BackpropApp, ui: &mut Ui) {
    let Some(index) = app.lesson.open else { return };
    let steps = steps();
    let step = &steps[index];
    let accent = Color32::from_rgb(250, 190, 40);
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(trf!(
                "Lesson · {step} of {count}",
                step = index + 1,
                count = steps.len()
            ))
            .color(accent)
            .strong(),
        );
        ui.label(RichText::new(step.title).heading().strong());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button(tr("Leave the lesson"))
                .on_hover_text(tr(
                    "Explore freely; the Guided lesson menu continues from this step",
                ))
                .clicked()
            {
                app.command(UiCommand::Lesson(LessonMove::Leave));
            }
            let last = index + 1 == steps.len();
            let next = if last { tr("Finish") } else { tr("Next ▶") };
            if ui.button(RichText::new(next).strong()).clicked() {
                app.command(UiCommand::Lesson(if last {
                    LessonMove::Finish
                } else {
                    LessonMove::Go(index + 1)
                }));
            }
            if ui
                .add_enabled(index > 0, egui::Button::new(tr("◀ Previous")))
                .clicked()
            {
                app.command(UiCommand::Lesson(LessonMove::Go(index - 1)));
            }
        });
    });
    if super::predict::covering(app) {
        ui.label(
            RichText::new(tr(
                "First, predict: answer the question in the view, then press Show me (or Space).",
            ))
            .size(18.0)
            .strong()
            .color(accent),
        );
    } else {
        ui.label(RichText::new(step.text).size(18.0));
    }
    ui.add_space(4.0);
}

/// Outlines the view the step points at. A map is outlined on its own
/// edge, clipped to the visible views (never over the lesson's strip, a
/// title or the toolbar); an area of the window just outside its border.
pub fn highlight(app: &BackpropApp, ctx: &egui::Context) {
    let Some(mark) = app.lesson_mark() else {
        return;
    };
    let Some(rect) = app.marks.get(&mark) else {
        return;
    };
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("lesson highlight"),
    ));
    let pulse = (ctx.input(|i| i.time) * 3.0).sin() as f32 * 0.5 + 0.5;
    let colour = Color32::from_rgb(250, 190, 40).gamma_multiply(0.6 + 0.4 * pulse);
    if mark.is_map() {
        let visible = app.marks.get(&Mark::Views).copied().unwrap_or(*rect);
        painter.with_clip_rect(visible).rect_stroke(
            *rect,
            0.0,
            egui::Stroke::new(4.0, colour),
            egui::StrokeKind::Inside,
        );
    } else {
        painter.rect_stroke(
            rect.expand(2.0),
            4.0,
            egui::Stroke::new(3.0, colour),
            egui::StrokeKind::Outside,
        );
    }
    ctx.request_repaint_after(std::time::Duration::from_millis(50));
}
