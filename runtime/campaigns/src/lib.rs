//! Outbound campaigns for Courtyard (issue 8): the dialer's brain.
//!
//! A campaign ([`CampaignConfig`]) is a target list, the outbound flow every answered call runs,
//! and the rules the dialer obeys: concurrency and calls-per-second limits, calling hours in local
//! time with closed weekdays and dates, retry spacing for busy / no-answer / failed attempts, a
//! ring timeout, an answering-machine-safe start delay and a do-not-call list. [`start`] runs one
//! actor per campaign that paces the calls through a [`CallPlacer`] — implemented by the runtime
//! over its SIP trunk and flow registry — records a [`TargetRecord`] per target and publishes
//! [`Progress`] for the API. Time comes from an injected [`Clock`], so tests drive nights and
//! retry spacing in microseconds; progress persists through a [`CampaignStore`].
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use courtyard_campaigns::*;
//! # async fn demo(placer: Arc<dyn CallPlacer>, toml_text: &str) -> Result<(), CampaignError> {
//! let config = CampaignConfig::from_toml(toml_text)?;
//! let deps = CampaignDeps { placer, clock: TokioClock::new(), store: Arc::new(MemoryStore::new()) };
//! let handle = start(config, deps)?;
//! handle.pause()?;
//! handle.resume()?;
//! let progress = handle.finished().await;
//! println!("{}/{} done, {:.0}% answered", progress.done, progress.total, progress.answered_pct);
//! # Ok(()) }
//! ```

pub mod campaign;
pub mod clock;
pub mod dialer;
pub mod error;
pub mod result;
pub mod scheduler;
pub mod store;

pub use campaign::{CallingHours, CallingWindow, CampaignConfig, Limits, RetryPolicy, RetryRule, Target, TimeOfDay, normalize_number};
pub use clock::{BoxFuture, Clock, ManualClock, TokioClock};
pub use dialer::{AttemptKind, CallPlacer, PlaceRequest, PlaceResult};
pub use error::CampaignError;
pub use result::{Attempt, CampaignSnapshot, Progress, RunState, TargetRecord, TargetResult, TargetState};
pub use scheduler::{CampaignDeps, CampaignHandle, PLACE_GUARD, start};
pub use store::{CampaignStore, MemoryStore, SledCampaignStore, StoredCampaign};
