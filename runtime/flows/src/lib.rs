//! courtyard-flows: the sandboxed host for call-flow plugins.
//!
//! Every business call flow is a WebAssembly component (world `inbound-flow` or
//! `outbound-flow` from `wit/flow.wit`). This crate compiles, caches, checks grants, runs one
//! instance per call under memory/CPU/time limits, applies the flow's failure policy when a
//! plugin misbehaves, hot-swaps versions with canary and rollback, and simulates scripted calls.
//!
//! The runtime talks to it through the seam traits in [`host_api`] and the WIT types in [`wit`]:
//!
//! ```ignore
//! let host = FlowHost::new(HostConfig { cache_dir: Some(dir), ..Default::default() })?;
//! let registry = FlowRegistry::new(host);
//! let v = registry.deploy(InstallSpec::new("ivr-main", "ivr-menu", wasm_bytes)).await?;
//! let report = registry.run_inbound("ivr-main", call_control, services).await?;
//! ```

mod bindings;
mod cache;
mod canary;
mod engine;
pub mod grants;
mod host;
pub mod host_api;
mod instance;
pub mod limits;
pub mod policy;
mod registry;
mod rollout;
pub mod simulator;
mod state;
mod stats;
mod unavailable;
mod version;
pub mod wit;

pub use cache::{CacheError, CacheOutcome};
pub use engine::{FlowHost, HostConfig, HostError};
pub use grants::{Capability, Grants, ImportRefusal, UnknownCapability, parse_interfaces};
pub use host_api::{Billing, CallControl, Clock, Content, Directory, Kv, Notify, Services, WorkOrders};
pub use instance::CallOutcome;
pub use limits::PluginLimits;
pub use policy::{FailureKind, FailurePolicy, FlowFailure, PolicyAction};
pub use registry::{CallReport, FlowRegistry, RegistryError, VersionInfo};
pub use rollout::{CallPick, RolloutInfo};
pub use stats::{CallCounts, FailureCount};
pub use unavailable::UnavailableServices;
pub use version::{FlowKind, FlowVersion, InstallError, InstallSpec, VersionKey};
