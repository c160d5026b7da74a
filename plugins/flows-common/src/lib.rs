//! The business logic of Courtyard's shipped flows, shared by the plugins in `plugins/`.
//!
//! ## Why a library and not plugin-to-plugin calls
//!
//! One plugin instance handles a whole call, and the WIT contract has no "call another plugin"
//! function. The front door (`ivr-main`) therefore *links* the sub-flows instead of delegating to
//! them: bill lookup, repair intake, complaints and the after-hours service live here as methods
//! on [`Ctx`], and
//!
//! * `ivr-main` and `ivr-menu` run them from menu keys (`{"action": "flow", "name": "bill-lookup"}`),
//!   so the front door is one self-contained component;
//! * `bill-lookup`, `repair-intake`, `complaint`, `after-hours`, `satisfaction-survey` and
//!   `arrears-reminder` are thin plugins over the same code, so each can also be routed directly
//!   (a dedicated repair number, a night route, an outbound campaign).
//!
//! The cost is that an update of, say, the bill lookup needs both `bill-lookup` and `ivr-main`
//! rebuilt; the gain is that a call never crosses a plugin boundary, and every flow can be
//! tested alone with the simulator. Because all plugins read the same configuration sections
//! (`common`, `identify`, `bills`, `repair`, ...), a section can be copied between their configs.
//!
//! ## Configuration
//!
//! [`Settings`] is the configuration document of every shipped plugin; each section has a default
//! for every text, key, queue and threshold, and unknown keys inside a section are rejected (the
//! canary's `check-config` names them).

use courtyard_plugin_sdk::prelude::*;
use serde::Deserialize;

pub mod after_hours;
pub mod agent;
pub mod arrears;
pub mod bills;
pub mod complaint;
pub mod front;
pub mod identify;
pub mod menu;
pub mod repair;
pub mod survey;

pub use after_hours::AfterHoursConfig;
pub use agent::Common;
pub use arrears::ArrearsConfig;
pub use bills::BillConfig;
pub use complaint::ComplaintConfig;
pub use front::FrontConfig;
pub use identify::IdentifyConfig;
pub use menu::{Action, FlowName, MenuConfig};
pub use repair::RepairConfig;
pub use survey::SurveyConfig;

/// The configuration of every shipped plugin, one section per concern.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Shared texts, retries and the agent queue.
    pub common: Common,
    /// Unit identification and verification.
    pub identify: IdentifyConfig,
    /// The front door (`ivr-main`).
    pub front: FrontConfig,
    /// The menu tree (`ivr-main`, `ivr-menu`).
    pub menu: MenuConfig,
    /// Bill lookup.
    pub bills: BillConfig,
    /// Repair intake.
    pub repair: RepairConfig,
    /// Complaints and suggestions.
    pub complaint: ComplaintConfig,
    /// After-hours service.
    pub after_hours: AfterHoursConfig,
    /// Satisfaction survey (outbound).
    pub survey: SurveyConfig,
    /// Arrears reminder (outbound).
    pub arrears: ArrearsConfig,
}

impl Settings {
    /// Cross-field checks run by every plugin's `check-config`.
    pub fn validate(&self) -> Result<(), String> {
        self.menu.validate()?;
        self.repair.validate()?;
        if self.common.agent_queue.is_empty() {
            return Err("common.agent_queue is empty".into());
        }
        Ok(())
    }
}

/// One call in progress: the call, the configuration, and what is known about the caller so
/// far. Flows are methods on it (see the modules).
pub struct Ctx<'a> {
    /// The live call.
    pub call: &'a Call,
    /// The plugin configuration.
    pub s: &'a Settings,
    customer: String,
    recognition: Option<identify::Recognition>,
    unit: Option<Unit>,
}

impl<'a> Ctx<'a> {
    /// Context of an inbound call: the customer is the caller.
    pub fn inbound(call: &'a Call, s: &'a Settings) -> Self {
        let customer = call.caller().to_string();
        Ctx { call, s, customer, recognition: None, unit: None }
    }

    /// Context of an outbound call: the customer is the dialled target number.
    pub fn outbound(call: &'a Call, s: &'a Settings, number: &str) -> Self {
        Ctx { call, s, customer: number.to_string(), recognition: None, unit: None }
    }

    /// The customer's number (caller inbound, target outbound): SMS, callbacks, work orders.
    pub fn customer(&self) -> &str {
        &self.customer
    }
}

/// Parses the configuration document (for host-side tests of plugin configs).
pub fn parse_settings(json: &str) -> Result<Settings, String> {
    let s: Settings = courtyard_plugin_sdk::config::parse_config(json).map_err(|e| e.to_string())?;
    s.validate()?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_complete_and_valid() {
        let s = parse_settings("{}").unwrap();
        assert_eq!(s.common.agent_queue, "default");
        assert_eq!(s.bills.queue, "billing");
        assert!(s.menu.nodes.contains_key("main"));
    }

    #[test]
    fn unknown_key_in_a_section_is_named() {
        let e = parse_settings(r#"{"bills":{"queu":"x"}}"#).unwrap_err();
        assert!(e.contains("queu"), "{e}");
    }

    #[test]
    fn partial_section_keeps_other_defaults() {
        let s = parse_settings(r#"{"repair":{"queue":"fix"}}"#).unwrap();
        assert_eq!(s.repair.queue, "fix");
        assert!(s.repair.categories.contains_key("9"));
    }
}

#[cfg(test)]
mod example_configs {
    /// Every shipped `config.example.json` must be accepted by `check-config`.
    #[test]
    fn all_example_configs_parse_and_validate() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path().join("config.example.json");
            if let Ok(text) = std::fs::read_to_string(&path) {
                super::parse_settings(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen += 1;
            }
        }
        assert_eq!(seen, 8, "one example per plugin");
    }
}

/// A unit as spoken: "3栋2单元" then the room digit by digit (幺五零二), the way room numbers
/// are said on the phone; SMS texts use [`Unit::label`].
pub fn unit_prompt(unit: &Unit) -> Prompt {
    Prompt::new()
        .text(format!("{}栋{}单元", unit.building, unit.entrance))
        .digits(unit.room.as_str())
}
