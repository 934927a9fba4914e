//! The `fymo` command line: a thin layer over the library.
//!
//! Exit codes: 0 ok, 1 runtime failure (build error, I/O), 2 usage or configuration error.

mod args;
mod commands;
mod doctor;
mod scaffold;

use std::process::ExitCode;

use clap::Parser;

use crate::App;

use args::Args;

/// An error at the CLI edge, with the exit code it maps to.
#[derive(Debug)]
pub(crate) struct Failure {
    /// 1 runtime, 2 usage/configuration.
    pub(crate) code: u8,
    /// What to print.
    pub(crate) error: anyhow::Error,
}

impl Failure {
    pub(crate) fn config(error: impl Into<anyhow::Error>) -> Self {
        Self { code: 2, error: error.into() }
    }

    pub(crate) fn runtime(error: impl Into<anyhow::Error>) -> Self {
        Self { code: 1, error: error.into() }
    }
}

/// Parses the process arguments and runs the command for `app`.
pub fn main(app: App) -> ExitCode {
    if let Some(code) = crate::engine::snapshot_child_main() {
        return code;
    }
    let args = Args::parse();
    let json_logs = matches!(args.log_format, args::LogFormat::Json);
    match commands::run(app, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if json_logs {
                tracing::error!(target: "fymo", code = failure.code, "{:#}", failure.error);
            } else {
                eprintln!("error: {:#}", failure.error);
            }
            ExitCode::from(failure.code)
        }
    }
}
