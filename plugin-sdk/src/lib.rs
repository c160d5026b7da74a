//! # Courtyard plugin SDK
//!
//! Write a call flow for a property-management hotline as ordinary Rust that reads top to
//! bottom, build it as a WebAssembly component, and install it into the Courtyard runtime. The
//! host does the telephony (SIP, RTP, DTMF, TTS, queues); the flow decides what to say and what to
//! do next.
//!
//! ## A complete flow
//!
//! ```ignore
//! use courtyard_plugin_sdk::prelude::*;
//!
//! #[derive(serde::Deserialize, Default)]
//! #[serde(default)]
//! struct Config { queue: String }
//!
//! struct Flow;
//!
//! impl InboundFlow for Flow {
//!     type Config = Config;
//!
//!     fn handle_call(call: &Call) -> FlowResult {
//!         let cfg: Config = config()?;
//!         let d = call.collect(
//!             prompt!["请按1查询物业费,按0转人工"],
//!             Collect::digits(1).timeout_ms(5000).barge_in(),
//!         )?;
//!         match d.as_str() {
//!             "1" => {
//!                 let residents = directory::lookup_caller(call.caller())?;
//!                 let unit = residents.first().and_then(|r| r.unit_ids.first());
//!                 if let Some(unit) = unit {
//!                     call.say(prompt!["您当前欠费", money(billing::arrears(unit)?)])?;
//!                 }
//!             }
//!             _ => {
//!                 call.enqueue(&cfg.queue, 0)?;
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! export_inbound!(Flow);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (crate type `cdylib`) and try it
//! without a phone using the call simulator: `courtyard flow test target/wasm32-wasip2/release/
//! my_flow.wasm --script sim/happy.toml` (see `docs/plugin-guide.md`).
//!
//! ## The pieces
//!
//! * [`Call`] — the live call: [`say`](Call::say), [`collect`](Call::collect),
//!   [`ask`](Call::ask) (menu with retries), [`record`](Call::record),
//!   [`transfer`](Call::transfer), [`enqueue`](Call::enqueue), [`hangup`](Call::hangup),
//!   [`set_var`](Call::set_var), [`mark`](Call::mark).
//! * [`prompt`] — [`Prompt`] and the [`prompt!`] macro: text, library prompts, `money(fen)`,
//!   `number`, `digits`, `date`, `pause`, and operator templates with `{placeholders}`.
//! * [`input`] — [`Collect`], [`Record`] and [`Ask`] option builders with sensible defaults.
//! * [`config()`] — the operator's JSON configuration parsed into your own `serde` type.
//! * Services, each a module over one WIT interface the operator grants: [`directory`],
//!   [`billing`], [`work_orders`], [`notify`], [`kv`], [`log`], [`clock`], [`content`].
//! * [`FlowError`] — one error type; `?` converts call and service errors. A caller hang-up
//!   becomes [`FlowError::Hangup`], which the export glue treats as a normal end.
//! * [`export_inbound!`] / [`export_outbound!`] — generate the component exports for the
//!   `inbound-flow` or `outbound-flow` world. `check-config` defaults to "the configuration parses
//!   into `Config`".
//!
//! ## Degrade, never go silent
//!
//! Business services can fail (billing down, store busy). Catch the error where it happens, tell
//! the caller something sensible and offer an agent:
//!
//! ```ignore
//! let arrears = match billing::arrears(unit) {
//!     Ok(fen) => fen,
//!     Err(e) => {
//!         log::warn(&format!("billing failed: {}", service_error_text(&e)));
//!         call.say("抱歉,账单系统暂时无法查询,正在为您转接人工客服")?;
//!         call.enqueue("billing", 0)?;
//!         return Ok(());
//!     }
//! };
//! ```
//!
//! An error that escapes `handle_call` is not lost either: the host logs it and runs the flow's
//! failure policy (by default an apology and the default queue).
//!
//! ## Host-side tests
//!
//! The SDK also compiles for the host, so the pure parts of a flow (configuration parsing, prompt
//! building, menu validation) can be unit-tested with plain `cargo test`. Host calls themselves are
//! only available inside the runtime or the simulator; test whole calls with simulator scripts.

extern crate self as courtyard_plugin_sdk;

pub mod bindings;
pub mod billing;
pub mod call;
pub mod clock;
pub mod config;
pub mod content;
pub mod directory;
pub mod error;
pub mod export;
pub mod input;
pub mod kv;
pub mod log;
pub mod notify;
pub mod prompt;
pub mod work_orders;

pub use bindings::outbound::Target;
pub use call::{Call, CallInfo, CollectEnd, Direction, QueueOutcome, Recording};
pub use config::config;
pub use error::{FlowError, FlowResult, ServiceError, service_error_text};
pub use export::{InboundFlow, NoConfig, OutboundFlow};
pub use input::{Ask, Collect, Input, Miss, Record};
pub use prompt::{Prompt, Segment};

/// Everything a flow usually needs, for `use courtyard_plugin_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::billing::{self, Bill, FeeType};
    pub use crate::call::{Call, CallInfo, CollectEnd, Direction, QueueOutcome, Recording};
    pub use crate::clock;
    pub use crate::config::config;
    pub use crate::content;
    pub use crate::directory::{self, Estate, Resident, ResidentRole, Unit, WarrantyItem};
    pub use crate::error::{FlowError, FlowResult, ServiceError, service_error_text};
    pub use crate::export::{InboundFlow, NoConfig, OutboundFlow};
    pub use crate::input::{Ask, Collect, Input, Miss, Record};
    pub use crate::kv;
    pub use crate::log;
    pub use crate::notify::{self, Channel};
    pub use crate::prompt::{Prompt, Segment, date, digits, money, named, number, pause, text};
    pub use crate::work_orders::{self, Category, NewOrder, Order, Priority};
    pub use crate::{Target, export_inbound, export_outbound, prompt};
}

/// Re-exports used by generated code; not part of the API.
#[doc(hidden)]
pub mod __rt {
    pub use wit_bindgen;
}
