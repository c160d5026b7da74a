//! `arrears-reminder` (outbound world): reads the unit's arrears in money form; 1 details, 2 SMS link, 3 confirm, 4 dispute, 0 agent; returns the outcome string.
//!
//! Configuration: see `docs/plugins.md` (sections of [`flows_common::Settings`]).

use courtyard_plugin_sdk::prelude::*;
use flows_common::{Ctx, Settings};

/// The exported flow.
struct Flow;

impl OutboundFlow for Flow {
    type Config = Settings;

    fn validate_config(config: &Settings) -> Result<(), String> {
        config.validate()
    }

    fn on_answer(call: &Call, target: &Target) -> FlowResult<String> {
        let settings: Settings = config()?;
        let mut ctx = Ctx::outbound(call, &settings, &target.number);
        ctx.arrears_reminder(target)
    }
}

export_outbound!(Flow);
