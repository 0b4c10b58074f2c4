//! Files of tensors: models and traces as safetensors (the format PyTorch,
//! JAX and Hugging Face read), with the layer list in the metadata.

pub mod model;
pub mod tensors;
pub mod trace;

pub use model::{load_model, model_bytes, read_model, save_model};
pub use trace::{read_trace, trace_bytes, write_trace};
pub mod session;
pub use session::{load_session, read_session, save_session, session_bytes, Session};
