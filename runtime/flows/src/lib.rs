//! courtyard-flows: the sandboxed host for call-flow plugins.
//!
//! Every business call flow is a WebAssembly component (world `inbound-flow` or
//! `outbound-flow` from `wit/flow.wit`). This crate compiles, caches, checks grants, runs one
//! instance per call under memory/CPU/time limits, applies the flow's failure policy when a
//! plugin misbehaves, hot-swaps versions with canary and rollback, and simulates scripted calls.
//!
//! The runtime talks to it through the seam traits in [`host_api`] and the WIT types in [`wit`].

mod bindings;
pub mod host_api;
mod unavailable;
pub mod wit;

pub use host_api::{Billing, CallControl, Clock, Content, Directory, Kv, Notify, Services, WorkOrders};
pub use unavailable::UnavailableServices;
