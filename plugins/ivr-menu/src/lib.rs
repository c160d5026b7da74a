//! `ivr-menu`: a DTMF menu tree read from the `menu` section of the configuration, with repeat on invalid input, retries, timeout handling, queues, transfers and the built-in flows as menu actions.
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
        ctx.run_menu(&settings.menu)
    }
}

export_inbound!(Flow);
