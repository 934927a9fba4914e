//! Python controllers: `controllers/a/b.py` serves controller `a.b`, run by a supervised
//! pool of long-lived `python3` processes speaking length-prefixed JSON over pipes.
//!
//! The Python side (`python/fymo_worker.py`, `python/fymo.py`) is embedded in the binary
//! and written to `.fymo/python/` when the pool starts, so any app directory works.

mod controller;
mod discover;
mod pool;
mod protocol;

pub use controller::PythonController;
pub(crate) use discover::discover;
pub use pool::{PythonConfig, PythonPool};
pub(crate) use pool::{PythonError, PythonHealth};
