//! The status line's message, worded when it is shown rather than when it
//! was made: switching the language re-words it, and a file's problem — a
//! typed error that words itself through the translation table — comes out
//! in the window's language even when it arrived from another thread, or
//! before the first frame set the language (a session given at start).

use std::sync::Arc;

#[derive(Clone)]
pub struct Message(Arc<dyn Fn() -> String + Send + Sync>);

impl Message {
    /// A message worded by `word` each time it is shown (call `tr` / `trf!`
    /// inside).
    pub fn new(word: impl Fn() -> String + Send + Sync + 'static) -> Message {
        Message(Arc::new(word))
    }

    /// The text, in the current language.
    pub fn text(&self) -> String {
        (self.0)()
    }
}

/// Text already worded (a file name, a message from a dialog's thread).
impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::new(move || text.clone())
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Message({:?})", self.text())
    }
}
