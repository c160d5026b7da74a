//! Turning a flow type into the plugin's exports.
//!
//! A plugin implements [`InboundFlow`] (calls to the service number) or [`OutboundFlow`]
//! (answered campaign calls) and invokes [`export_inbound!`](crate::export_inbound) or
//! [`export_outbound!`](crate::export_outbound) once. The macro generates the component exports:
//!
//! | world            | exports                        |
//! |------------------|--------------------------------|
//! | `inbound-flow`   | `check-config`, `handle-call`  |
//! | `outbound-flow`  | `check-config`, `on-answer`    |
//!
//! `check-config` (the host's canary before activating a version) parses the configuration into
//! `Config` and then runs [`InboundFlow::validate_config`] (default: accept). A caller hang-up
//! ending the flow is a success; any other escaping error is logged and returned so the host
//! applies the flow's failure policy.

use serde::de::DeserializeOwned;

use crate::bindings::outbound::Target;
use crate::call::Call;
use crate::config::config;
use crate::error::{FlowError, FlowResult};

/// A flow answering inbound calls.
pub trait InboundFlow {
    /// The plugin configuration (use `#[serde(default)]`; [`NoConfig`] when there is none).
    type Config: DeserializeOwned;

    /// Extra checks after the configuration parsed (menu keys exist, texts not empty, ...).
    fn validate_config(_config: &Self::Config) -> Result<(), String> {
        Ok(())
    }

    /// Handle one call from start to end.
    fn handle_call(call: &Call) -> FlowResult;
}

/// A flow run on an answered outbound campaign call.
pub trait OutboundFlow {
    /// The plugin configuration.
    type Config: DeserializeOwned;

    /// Extra checks after the configuration parsed.
    fn validate_config(_config: &Self::Config) -> Result<(), String> {
        Ok(())
    }

    /// Handle the answered call; returns the outcome recorded for the target
    /// ("confirmed", "refused", "sms-sent", "agent", ...).
    fn on_answer(call: &Call, target: &Target) -> FlowResult<String>;

    /// Outcome reported when the callee hangs up before the flow decided one.
    fn hangup_outcome() -> String {
        "hangup".to_string()
    }
}

/// Configuration type for flows without settings (accepts any JSON object).
#[derive(Debug, Default, Clone, Copy, serde::Deserialize)]
pub struct NoConfig {}

impl Target {
    /// A campaign parameter by name (`unit_id`, `order_id`, ...).
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn check<C: DeserializeOwned>(validate: fn(&C) -> Result<(), String>) -> Result<(), String> {
    let parsed: C = config().map_err(|e| e.to_string())?;
    validate(&parsed)
}

/// Glue for `check-config` of an inbound flow.
#[doc(hidden)]
pub fn __check_inbound<F: InboundFlow>() -> Result<(), String> {
    check::<F::Config>(F::validate_config)
}

/// Glue for `check-config` of an outbound flow.
#[doc(hidden)]
pub fn __check_outbound<F: OutboundFlow>() -> Result<(), String> {
    check::<F::Config>(F::validate_config)
}

/// Glue for `handle-call`.
#[doc(hidden)]
pub fn __handle_call<F: InboundFlow>() -> Result<(), String> {
    let call = Call::current();
    match F::handle_call(&call) {
        Ok(()) | Err(FlowError::Hangup) => Ok(()),
        Err(e) => {
            let text = e.to_string();
            crate::log::error(&text);
            Err(text)
        }
    }
}

/// Glue for `on-answer`.
#[doc(hidden)]
pub fn __on_answer<F: OutboundFlow>(target: Target) -> Result<String, String> {
    let call = Call::current();
    match F::on_answer(&call, &target) {
        Ok(outcome) => Ok(outcome),
        Err(FlowError::Hangup) => Ok(F::hangup_outcome()),
        Err(e) => {
            let text = e.to_string();
            crate::log::error(&text);
            Err(text)
        }
    }
}

/// Exports an [`InboundFlow`] implementation as the plugin's `inbound-flow` world.
///
/// ```ignore
/// struct Flow;
/// impl InboundFlow for Flow { type Config = NoConfig; fn handle_call(call: &Call) -> FlowResult { Ok(()) } }
/// export_inbound!(Flow);
/// ```
#[macro_export]
macro_rules! export_inbound {
    ($flow:ty) => {
        const _: () = {
            struct __CourtyardInboundExport;
            impl $crate::bindings::inbound::Guest for __CourtyardInboundExport {
                fn check_config() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::export::__check_inbound::<$flow>()
                }
                fn handle_call() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::export::__handle_call::<$flow>()
                }
            }
            $crate::bindings::inbound::__export_inbound_world!(
                __CourtyardInboundExport with_types_in $crate::bindings::inbound
            );
        };
    };
}

/// Exports an [`OutboundFlow`] implementation as the plugin's `outbound-flow` world.
#[macro_export]
macro_rules! export_outbound {
    ($flow:ty) => {
        const _: () = {
            struct __CourtyardOutboundExport;
            impl $crate::bindings::outbound::Guest for __CourtyardOutboundExport {
                fn check_config() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::export::__check_outbound::<$flow>()
                }
                fn on_answer(
                    target: $crate::Target,
                ) -> ::core::result::Result<::std::string::String, ::std::string::String> {
                    $crate::export::__on_answer::<$flow>(target)
                }
            }
            $crate::bindings::outbound::__export_outbound_world!(
                __CourtyardOutboundExport with_types_in $crate::bindings::outbound
            );
        };
    };
}
