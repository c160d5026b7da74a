//! The store's error type.

/// Why a store operation failed. Messages say what was wrong so the API can pass them on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The storage engine failed (I/O, corruption detected by the engine).
    #[error("storage backend: {0}")]
    Backend(String),
    /// A stored value could not be encoded/decoded.
    #[error("encoding: {0}")]
    Encoding(String),
    /// The referenced record does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request is invalid (bad argument, illegal state transition); text says why.
    #[error("invalid: {0}")]
    Invalid(String),
    /// Internal marker: a transaction must be retried by the backend (never escapes it).
    #[doc(hidden)]
    #[error("transaction conflict")]
    TxRetry,
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}
