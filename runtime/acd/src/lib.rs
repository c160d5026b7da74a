//! # courtyard-acd — the ACD brain, independent of SIP and RTP
//!
//! Agents log in at an extension and go 示闲/示忙/小休; flows `enqueue` callers into queues; the
//! ACD decides which agent to ring, when to give up on them, when to announce the caller's
//! position, when a call overflows, and keeps the KPIs of the console (service level, ASA, AHT,
//! abandonment, occupancy) and the missed-call list.
//!
//! It never touches SIP or media. The lead wires three seams:
//! - [`AgentDialer`] — ring an agent's extension (UAC INVITE), return the answered leg;
//! - the [`QueueTicket`] of each `enqueue` — on [`QueueEvent::Connected`] bridge the caller to the
//!   leg, and report the end with [`AcdHandle::call_ended`]; report hang-ups while waiting with
//!   [`AcdHandle::caller_left`];
//! - [`SupervisorMedia`] — listen / whisper / barge on a call's bridge.
//!
//! ```no_run
//! # async fn demo(dialer: std::sync::Arc<dyn courtyard_acd::AgentDialer>) -> Result<(), courtyard_acd::AcdError> {
//! use courtyard_acd::*;
//! let config = AcdConfig {
//!     queues: vec![QueueConfig { sticky_secs: Some(30), ..QueueConfig::new("repairs") }],
//!     agents: vec![AgentConfig::new("1001").skill("报修", 5)],
//!     ..Default::default()
//! };
//! let acd = Acd::spawn(config, TokioClock::new(), dialer, std::sync::Arc::new(NoSupervision))?;
//! acd.agent_login("1001", "8001").await?;
//! let mut ticket = acd.enqueue(CallRef::new("call-1", "13800138000"), "repairs").await?;
//! while let Some(ev) = ticket.next().await {
//!     if let QueueEvent::Connected { leg, .. } = ev { /* bridge, then */ acd.call_ended("call-1").await?; break; }
//! }
//! # Ok(()) }
//! ```
//!
//! Time comes from an injected [`Clock`]; tests use [`ManualClock`] so every timer is
//! deterministic. See `docs/acd.md` for strategies, states and KPI definitions.

mod acd;
pub mod agent;
pub mod announce;
pub mod clock;
pub mod config;
pub mod dialer;
pub mod erlang_c;
pub mod error;
pub mod events;
pub mod missed;
pub mod queue;
mod router;
pub mod stats;
pub mod strategy;
pub mod supervisor;

pub use acd::{Acd, AcdHandle};
pub use agent::{AgentConfig, AgentState, RequestedState};
pub use announce::{AnnounceConfig, AnnounceLanguage, Announcement};
pub use clock::{BoxFuture, Clock, ManualClock, TokioClock};
pub use config::AcdConfig;
pub use dialer::{AgentDialer, AgentLeg, RingRequest, RingResult};
pub use error::AcdError;
pub use events::AcdEvent;
pub use missed::{MissedCall, MissedReason};
pub use queue::{CallRef, OverflowTarget, QueueConfig, QueueEvent, QueueTicket, SkillReq};
pub use stats::{AcdSnapshot, AgentKpis, QueueKpis, Window};
pub use strategy::Strategy;
pub use supervisor::{NoSupervision, SuperviseMode, SuperviseRequest, SuperviseTarget, SupervisorMedia};
