//! Plugin-scoped persistent key-value storage (isolated per plugin name by the host).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::inbound::courtyard::flow::kv as raw;
pub use crate::bindings::inbound::courtyard::flow::types::ServiceError;

/// Raw bytes under `key`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, ServiceError> {
    raw::get(key)
}

/// Store raw bytes.
pub fn set(key: &str, value: &[u8]) -> Result<(), ServiceError> {
    raw::set(key, value)
}

/// Remove a key.
pub fn delete(key: &str) -> Result<(), ServiceError> {
    raw::delete(key)
}

/// Add `delta` to a counter; returns the new value.
pub fn increment(key: &str, delta: i64) -> Result<i64, ServiceError> {
    raw::increment(key, delta)
}

/// A UTF-8 string under `key` (invalid UTF-8 is an `invalid` service error).
pub fn get_string(key: &str) -> Result<Option<String>, ServiceError> {
    match raw::get(key)? {
        None => Ok(None),
        Some(b) => String::from_utf8(b)
            .map(Some)
            .map_err(|_| ServiceError::Invalid(format!("kv value of {key} is not UTF-8"))),
    }
}

/// A JSON value under `key`.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, ServiceError> {
    match raw::get(key)? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| ServiceError::Invalid(format!("kv value of {key}: {e}"))),
    }
}

/// Store a value as JSON.
pub fn set_json<T: Serialize>(key: &str, value: &T) -> Result<(), ServiceError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| ServiceError::Invalid(format!("kv value of {key}: {e}")))?;
    raw::set(key, &bytes)
}
