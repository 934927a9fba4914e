//! Configuration errors: each names the file and, where known, the line.

use std::path::PathBuf;

/// A problem in the app's configuration files. Displayed as `file:line: message`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", .file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A mistake at a known place in the file.
    #[error("{}:{line}: {message}", .file.display())]
    At {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A mistake that belongs to the file as a whole.
    #[error("{}: {message}", .file.display())]
    File {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// A mistake at `line` of `file`.
    pub(crate) fn at(file: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Self::At { file: file.into(), line, message: message.into() }
    }

    /// The line the error points at, if any.
    #[cfg(test)]
    pub(crate) fn line(&self) -> Option<usize> {
        match self {
            Self::At { line, .. } => Some(*line),
            _ => None,
        }
    }
}
