//! Production serving: [`serve_single`] (one process) and the gunicorn-like prefork
//! master ([`Arbiter`]) whose workers each run the same `serve_single` after loading
//! the app in their own process.

mod arbiter;
mod single;
mod worker;

pub(crate) use arbiter::{Arbiter, ArbiterConfig, Ended};
pub(crate) use single::{serve_single, ServeError};
pub(crate) use worker::{run as run_worker, WorkerEnv};
