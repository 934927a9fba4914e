//! Production serving: the listening socket and the gunicorn-like prefork master
//! ([`Arbiter`]) with its workers.

mod arbiter;
mod drain;
mod listener;
mod worker;

pub use arbiter::{Arbiter, ArbiterConfig, Ended};
pub use drain::{draining, Draining, ACCEPT_GRACE};
pub use listener::{AsyncListener, Bind, BoundListener};
pub use worker::{run as run_worker, WorkerEnv, WORKER_BOOT_ERROR};
