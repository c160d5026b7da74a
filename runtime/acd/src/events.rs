//! The ACD's event stream for the wallboard and the agent desktop's screen-pop.
//!
//! Every fact the ACD establishes is broadcast once, in order, as an [`AcdEvent`] (serde-tagged
//! `{"type":"offer_started",...}`), so the API can forward them over WebSocket unchanged. A slow
//! subscriber that falls behind the channel capacity gets `Lagged` from tokio's broadcast and
//! should re-read [`AcdSnapshot`](crate::stats::AcdSnapshot).
//!
//! Screen-pop: [`AcdEvent::OfferStarted`] is sent *before* the agent's phone is rung, carrying
//! the caller number and the flow's `data_ref`, so the desktop can pop the owner's data before
//! the agent answers.

use serde::{Deserialize, Serialize};

use crate::agent::AgentState;
use crate::missed::MissedCall;
use crate::queue::OverflowTarget;
use crate::stats::OfferResult;
use crate::supervisor::SuperviseMode;

/// One ACD fact, timestamped (`at_ms`, ms since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AcdEvent {
    /// A call entered a queue.
    CallQueued {
        /// When.
        at_ms: u64,
        /// Call id.
        call_id: String,
        /// Queue.
        queue: String,
        /// Caller number.
        caller: String,
        /// Caller class: 2 emergency, 1 VIP, 0 normal.
        class: u8,
        /// Priority from the flow.
        priority: u32,
        /// 1-based position.
        position: usize,
    },
    /// An agent is about to be rung for a call (screen-pop now).
    OfferStarted {
        /// When.
        at_ms: u64,
        /// Call id.
        call_id: String,
        /// Queue.
        queue: String,
        /// Agent id.
        agent_id: String,
        /// Agent extension being rung.
        extension: String,
        /// Caller number.
        caller: String,
        /// The flow's reference for screen-pop data (e.g. resident id).
        data_ref: Option<String>,
        /// Seconds the caller has waited so far.
        waited_secs: u64,
    },
    /// An offer ended without the agent answering (or was withdrawn).
    OfferEnded {
        /// When.
        at_ms: u64,
        /// Call id.
        call_id: String,
        /// Agent id.
        agent_id: String,
        /// Why.
        result: OfferResult,
    },
    /// An agent answered a call; the lead bridges it.
    CallAnswered {
        /// When.
        at_ms: u64,
        /// Call id.
        call_id: String,
        /// Queue.
        queue: String,
        /// Agent id.
        agent_id: String,
        /// Caller number.
        caller: String,
        /// Queue wait in ms.
        wait_ms: u64,
    },
    /// The caller hung up while waiting.
    CallAbandoned {
        /// When.
        at_ms: u64,
        /// Call id.
        call_id: String,
        /// Queue.
        queue: String,
        /// Caller number.
        caller: String,
        /// Queue wait in ms.
        wait_ms: u64,
    },
    /// Maximum wait passed without overflow, or nobody could serve the call.
    CallTimedOut {
        /// When.
        at_ms: u64,
        /// Call id.
        call_id: String,
        /// Queue.
        queue: String,
        /// Queue wait in ms.
        wait_ms: u64,
    },
    /// The call overflowed after the maximum wait.
    CallOverflowed {
        /// When.
        at_ms: u64,
        /// Call id.
        call_id: String,
        /// Queue it left.
        queue: String,
        /// Where it went.
        target: OverflowTarget,
    },
    /// The caller chose a callback while waiting.
    CallbackRequested {
        /// When.
        at_ms: u64,
        /// Call id.
        call_id: String,
        /// Queue.
        queue: String,
        /// Caller number to call back.
        caller: String,
    },
    /// A bridged call ended; the agent enters wrap-up.
    CallEnded {
        /// When.
        at_ms: u64,
        /// Call id.
        call_id: String,
        /// Agent id.
        agent_id: String,
        /// Talk ms (connected minus hold).
        talk_ms: u64,
        /// Hold ms.
        hold_ms: u64,
    },
    /// An agent's state changed (login, 示闲, 示忙, ringing, on call, 话后, logout ...).
    AgentStateChanged {
        /// When.
        at_ms: u64,
        /// Agent id.
        agent_id: String,
        /// Bound extension.
        extension: Option<String>,
        /// Previous state.
        from: AgentState,
        /// New state.
        to: AgentState,
    },
    /// A missed call (未接来电) was recorded for call-back.
    MissedCallRecorded {
        /// When.
        at_ms: u64,
        /// The record.
        missed: MissedCall,
    },
    /// A supervisor started listening, whispering or barging.
    SupervisionStarted {
        /// When.
        at_ms: u64,
        /// Mode.
        mode: SuperviseMode,
        /// Supervisor's extension.
        supervisor_extension: String,
        /// Agent supervised.
        agent_id: String,
        /// Call supervised.
        call_id: String,
    },
}
