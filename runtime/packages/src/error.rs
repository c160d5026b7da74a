//! Errors of the packaging tools (pack, sign, keygen, push, pull, scaffold).
//!
//! A refusal at verification is a different thing — the package is readable but not acceptable —
//! and has its own type, [`crate::RefusedReason`], which this error can carry.

use std::path::{Path, PathBuf};

use crate::manifest::ManifestError;
use crate::verify::RefusedReason;

/// Something a packaging command could not do; the message says what and where.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The package file is not a Courtyard package.
    #[error("not a valid plugin package: {0}")]
    Malformed(String),
    /// A key file is unusable.
    #[error("key file {path}: {problem}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The trust store file is unusable.
    #[error("trust store {path}: {problem}")]
    Trust {
        /// The trust file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The package would be refused (e.g. `pack` of a component importing undeclared interfaces).
    #[error(transparent)]
    Refused(#[from] RefusedReason),
    /// Talking to the OCI registry failed.
    #[error("registry {reference}: {problem}")]
    Registry {
        /// The image reference used.
        reference: String,
        /// What failed.
        problem: String,
    },
    /// `plugin new` cannot write the crate.
    #[error("scaffold: {0}")]
    Scaffold(String),
}

impl PackageError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> PackageError {
        PackageError::Io { path: path.to_path_buf(), source }
    }
}
