//! One error type for a flow, so every host call can be chained with `?`.
//!
//! The most common "error" is not a failure at all: the caller hung up. [`FlowError::Hangup`]
//! lets a flow stop at whatever step it was in; the export glue treats it as a normal end, so a
//! flow never has to check for it. Service errors (billing down, unknown unit) also convert, but a
//! good flow catches those where they happen and offers an agent instead (see
//! [`FlowError::is_service`]); an error that escapes `handle_call` makes the host run the flow's
//! failure policy (apology, then the default queue).

use std::fmt;

use crate::bindings::inbound::courtyard::flow::call::CallError;
pub use crate::bindings::inbound::courtyard::flow::types::ServiceError;

/// Why a flow stopped early.
#[derive(Clone, Debug, PartialEq)]
pub enum FlowError {
    /// The caller hung up; the flow should just return (the glue reports success).
    Hangup,
    /// A call-control operation was refused or failed (prompt missing, queue unknown, dial plan).
    Call(String),
    /// A business service failed.
    Service(ServiceError),
    /// The plugin configuration is invalid.
    Config(String),
    /// Anything else the flow wants to report.
    Other(String),
}

/// The result type of flow functions.
pub type FlowResult<T = ()> = Result<T, FlowError>;

impl FlowError {
    /// An ad-hoc error with a message.
    pub fn msg(message: impl Into<String>) -> Self {
        FlowError::Other(message.into())
    }

    /// True when the caller hung up (end quietly).
    pub fn is_hangup(&self) -> bool {
        matches!(self, FlowError::Hangup)
    }

    /// True when a business service failed (degrade: apologise and offer an agent).
    pub fn is_service(&self) -> bool {
        matches!(self, FlowError::Service(_))
    }
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::Hangup => f.write_str("caller hung up"),
            FlowError::Call(m) => write!(f, "call control failed: {m}"),
            FlowError::Service(e) => write!(f, "service error: {}", service_error_text(e)),
            FlowError::Config(m) => write!(f, "invalid configuration: {m}"),
            FlowError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for FlowError {}

impl From<CallError> for FlowError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Hangup => FlowError::Hangup,
            CallError::NotAllowed(m) => FlowError::Call(format!("not allowed: {m}")),
            CallError::Failed(m) => FlowError::Call(m),
        }
    }
}

impl From<ServiceError> for FlowError {
    fn from(e: ServiceError) -> Self {
        FlowError::Service(e)
    }
}

/// A short human-readable description of a service error, for logs.
pub fn service_error_text(e: &ServiceError) -> String {
    match e {
        ServiceError::Unavailable(m) => format!("unavailable: {m}"),
        ServiceError::Invalid(m) => format!("invalid request: {m}"),
        ServiceError::Denied(m) => format!("denied: {m}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails_with_call_error() -> FlowResult<u32> {
        Err(CallError::Hangup)?;
        Ok(1)
    }

    fn fails_with_service_error() -> FlowResult<u32> {
        Err(ServiceError::Unavailable("billing down".into()))?;
        Ok(1)
    }

    #[test]
    fn question_mark_converts_call_and_service_errors() {
        assert!(fails_with_call_error().unwrap_err().is_hangup());
        let e = fails_with_service_error().unwrap_err();
        assert!(e.is_service());
        assert_eq!(e.to_string(), "service error: unavailable: billing down");
    }

    #[test]
    fn not_allowed_keeps_reason() {
        let e: FlowError = CallError::NotAllowed("dial plan".into()).into();
        assert_eq!(e, FlowError::Call("not allowed: dial plan".into()));
    }
}
