//! Structured logging into the host's per-call trace (never `println!` in a plugin: stdout is not
//! connected).

use crate::bindings::inbound::courtyard::flow::log as raw;
pub use crate::bindings::inbound::courtyard::flow::log::Level;

/// Log at a level.
pub fn log(level: Level, message: &str) {
    raw::log(level, message)
}

/// Debug-level detail.
pub fn debug(message: &str) {
    raw::log(Level::Debug, message)
}

/// Normal progress.
pub fn info(message: &str) {
    raw::log(Level::Info, message)
}

/// Something degraded (a service failed and the flow fell back).
pub fn warn(message: &str) {
    raw::log(Level::Warn, message)
}

/// The flow failed.
pub fn error(message: &str) {
    raw::log(Level::Error, message)
}
