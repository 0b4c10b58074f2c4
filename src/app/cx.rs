//! What a panel draws with: the app's state to read, and where what it
//! asks for goes — commands for the reducer, and the places the lesson may
//! point at (where each view was drawn this frame). A panel never writes
//! the state (rerun's `ViewerContext` and `CommandSender`).

use std::collections::HashMap;

use super::command::UiCommand;
use super::state::AppState;
use crate::teach::animation::Animation;
use crate::teach::lesson::Mark;

/// What one frame's drawing produced.
#[derive(Default)]
pub struct Out {
    pub commands: Vec<UiCommand>,
    /// Where the views a lesson can point at were drawn.
    pub marks: HashMap<Mark, egui::Rect>,
    /// The animation key A would start in the view on screen.
    pub animatable: Option<Animation>,
}

impl Out {
    /// Ready for a new frame (commands are taken by the app each frame).
    pub fn clear_frame(&mut self) {
        self.marks.clear();
        self.animatable = None;
    }
}

/// The state to draw from and the sink for what the drawing asks.
pub struct Cx<'a> {
    pub state: &'a AppState,
    out: &'a mut Out,
}

impl<'a> Cx<'a> {
    pub fn new(state: &'a AppState, out: &'a mut Out) -> Self {
        Cx { state, out }
    }

    /// Asks for a change; it is applied before the next frame is drawn.
    pub fn command(&mut self, command: UiCommand) {
        self.out.commands.push(command);
    }

    /// Records where a view the lesson may point at was drawn.
    pub fn mark(&mut self, mark: Mark, rect: egui::Rect) {
        self.out.marks.insert(mark, rect);
    }

    /// Where a view was drawn this frame, if it was.
    pub fn marked(&self, mark: Mark) -> Option<egui::Rect> {
        self.out.marks.get(&mark).copied()
    }

    /// The animation key A starts in the view on screen.
    pub fn animatable(&mut self, animation: Option<Animation>) {
        self.out.animatable = animation;
    }

    /// A message on the status line, worded when shown.
    pub fn say(
        &mut self,
        kind: super::state::MessageKind,
        word: impl Fn() -> String + Send + Sync + 'static,
    ) {
        self.command(UiCommand::Say(kind, super::message::Message::new(word)));
    }
}
