//! The crate's error type.

use courtyard_store::StoreError;

/// Why a workflow call failed.
#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    /// The request is not allowed; the text says why and what to do (HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// No such order / task / notification (HTTP 404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The `[orders]` config is wrong; the text names the key.
    #[error("config: {0}")]
    Config(String),
    /// Storage failed.
    #[error("store: {0}")]
    Store(StoreError),
}

impl From<StoreError> for OrdersError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => OrdersError::Invalid(m),
            StoreError::NotFound(m) => OrdersError::NotFound(m),
            other => OrdersError::Store(other),
        }
    }
}
