//! Files: the one bounded reader and the one atomic writer (`file`), and
//! the files of tensors built on them: models, traces and sessions as
//! safetensors (the format PyTorch, JAX and Hugging Face read), with the
//! layer list in the metadata.

pub mod file;
pub mod handin;
pub mod model;
pub mod session;
pub mod tensors;
pub mod trace;

pub use file::{FileError, Problem};
pub use handin::{read_handed, tensor_csv, Handed};
pub use model::{load_model, model_bytes, read_model, save_model};
pub use session::{load_session, read_session, save_session, session_bytes, Session};
pub use trace::{read_trace, trace_bytes, write_trace};
