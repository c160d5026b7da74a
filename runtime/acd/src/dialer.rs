//! The seam to telephony: the ACD decides whom to ring and when; an [`AgentDialer`] does the SIP.
//!
//! The lead implements [`AgentDialer`] over courtyard-sip (UAC INVITE to the agent's registered
//! contact). The ACD calls [`ring`](AgentDialer::ring) once per offer and enforces the ring
//! timeout with its own clock as well: when the timeout passes, the caller hangs up or the agent
//! logs out, **the ACD drops the ring future** — the implementation must then stop ringing
//! (CANCEL), e.g. with a drop guard that spawns the CANCEL. An answered leg that the ACD can no
//! longer use (the caller left in the same instant) is handed back through
//! [`release`](AgentDialer::release) to be hung up.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use crate::clock::BoxFuture;
use crate::queue::CallRef;

/// The answered agent leg, opaque to the ACD (the lead puts its dialog + media session in it).
pub struct AgentLeg(Box<dyn Any + Send>);

impl AgentLeg {
    /// Wrap the lead's own leg type.
    pub fn new<T: Any + Send>(leg: T) -> Self {
        Self(Box::new(leg))
    }

    /// Get the lead's type back; returns the leg unchanged if `T` is not what is inside.
    pub fn downcast<T: Any + Send>(self) -> Result<T, Self> {
        self.0.downcast::<T>().map(|b| *b).map_err(Self)
    }
}

impl fmt::Debug for AgentLeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AgentLeg(..)")
    }
}

/// What ringing an agent's phone came to.
#[derive(Debug)]
pub enum RingResult {
    /// The agent picked up (200 OK + ACK); the leg is passed to the ticket's `Connected`.
    Answered(AgentLeg),
    /// Rang out (the dialer's own timeout; the ACD may also stop it first).
    NoAnswer,
    /// The agent declined (486/603, or a reject button).
    Rejected,
    /// Not registered, unroutable, 404/5xx/transport error.
    Unreachable,
}

/// One offer: ring `extension` for `call`, for at most `timeout`.
#[derive(Debug, Clone)]
pub struct RingRequest {
    /// Unique per offer (for logs and correlating CANCELs).
    pub attempt: u64,
    /// Agent being rung.
    pub agent_id: String,
    /// Extension the agent logged in at.
    pub extension: String,
    /// Queue the call waits in (for a whisper of the queue name, caller-id prefixing ...).
    pub queue: String,
    /// The call (caller number for the agent's display, `data_ref` ...).
    pub call: CallRef,
    /// Ring timeout of the queue.
    pub timeout: Duration,
    /// A kept-place callback: the caller is not on the line; after the agent answers, the
    /// runtime dials `call.caller` from the agent's leg (show "回拨" on the phone).
    pub callback: bool,
}

/// Rings agents' phones; implemented by the lead over SIP, by scripted fakes in tests.
pub trait AgentDialer: Send + Sync + 'static {
    /// Ring the agent; resolve when answered, rejected, unreachable or rung out. May be dropped
    /// early by the ACD, which must stop the ringing.
    fn ring(&self, req: RingRequest) -> BoxFuture<'static, RingResult>;

    /// Hang up an answered leg the ACD could not use (the caller left while it was answered).
    fn release(&self, leg: AgentLeg);
}
