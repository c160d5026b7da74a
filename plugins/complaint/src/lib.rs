//! `complaint`: records a complaint or suggestion, opens a work order, offers an agent.
//!
//! Configuration: see `docs/plugins.md` (sections of [`flows_common::Settings`]); the logic
//! lives in `flows-common` so `ivr-main` can run it from its menu too.

use courtyard_plugin_sdk::prelude::*;
use flows_common::{Ctx, Settings};

/// The exported flow.
struct Flow;

impl InboundFlow for Flow {
    type Config = Settings;

    fn validate_config(config: &Settings) -> Result<(), String> {
        config.validate()
    }

    fn handle_call(call: &Call) -> FlowResult {
        let settings: Settings = config()?;
        let mut ctx = Ctx::inbound(call, &settings);
        ctx.complaint()
    }
}

export_inbound!(Flow);
