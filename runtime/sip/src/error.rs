//! Errors the public API returns.

use crate::sdp::NegotiationError;

/// Errors from [`crate::Endpoint`] and the call/dialog handles.
#[derive(Debug, thiserror::Error)]
pub enum SipError {
    /// A socket could not be bound or used.
    #[error("socket error on {what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The caller cancelled (or the INVITE transaction ended) before we answered.
    #[error("call was cancelled before it was answered")]
    Cancelled,
    /// The offer had nothing we can use; a 488 was sent.
    #[error("offer not acceptable: {0}")]
    NotAcceptable(#[from] NegotiationError),
    /// The dialog no longer exists (hung up, or never established).
    #[error("dialog no longer exists")]
    DialogGone,
    /// No final response before Timer B/F.
    #[error("request timed out")]
    Timeout,
    /// A target URI we cannot send to.
    #[error("bad target '{0}': expected sip:user@host[:port]")]
    BadTarget(String),
    /// The endpoint has been shut down.
    #[error("endpoint is shut down")]
    Shutdown,
}
