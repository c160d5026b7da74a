//! `satisfaction-survey` (outbound world): asks a 1–5 score for a closed work order, offers a voice comment, writes both with `work-orders.rate`; returns `rated`, `reopened`, `no-score` or `error`.
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
        ctx.survey(target)
    }
}

export_outbound!(Flow);
