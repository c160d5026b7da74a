//! Errors a campaign operator or the wiring code can cause.

/// Why a campaign could not be configured, started, persisted or controlled.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// The configuration is wrong; the message names the key and what to write.
    #[error("campaign config: {0}")]
    Config(String),
    /// The progress store failed (the campaign keeps running; the message says what failed).
    #[error("campaign store: {0}")]
    Store(String),
    /// The campaign's actor is gone (finished or cancelled and dropped).
    #[error("campaign '{0}' is no longer running")]
    Stopped(String),
}
