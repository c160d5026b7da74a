//! Typed plugin configuration.
//!
//! The operator gives each installed plugin a JSON document (TOML in the admin tools is converted
//! to JSON). Declare a struct with `#[serde(default)]` so every key has a default and an empty
//! configuration works out of the box:
//!
//! ```
//! use courtyard_plugin_sdk::prelude::*;
//! use courtyard_plugin_sdk::config::parse_config;
//!
//! #[derive(serde::Deserialize)]
//! #[serde(default)]
//! struct Config { greeting: String, queue: String }
//! impl Default for Config {
//!     fn default() -> Self { Config { greeting: "您好".into(), queue: "default".into() } }
//! }
//!
//! let c: Config = parse_config(r#"{"queue":"billing"}"#).unwrap();
//! assert_eq!((c.greeting.as_str(), c.queue.as_str()), ("您好", "billing"));
//! ```
//!
//! Inside a flow call [`config`] (it reads the document through the host's `config` interface).

use serde::de::DeserializeOwned;

use crate::bindings::inbound::courtyard::flow::config as raw;
use crate::error::FlowError;

/// The configuration document as given at install (`"{}"` when none).
pub fn raw_config() -> String {
    raw::get()
}

/// The configuration parsed into `T`; an empty document counts as `{}`.
pub fn config<T: DeserializeOwned>() -> Result<T, FlowError> {
    parse_config(&raw_config())
}

/// Parses a configuration document (what [`config`] does after fetching it); usable in host tests.
pub fn parse_config<T: DeserializeOwned>(json: &str) -> Result<T, FlowError> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    serde_json::from_str(json).map_err(|e| FlowError::Config(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, Default)]
    #[serde(default)]
    struct C {
        n: u32,
    }

    #[test]
    fn empty_document_is_defaults_and_bad_type_is_config_error() {
        assert_eq!(parse_config::<C>("  ").unwrap().n, 0);
        assert_eq!(parse_config::<C>(r#"{"n":4}"#).unwrap().n, 4);
        let e = parse_config::<C>(r#"{"n":"x"}"#).unwrap_err();
        assert!(matches!(e, FlowError::Config(m) if m.contains("invalid type")));
    }
}
