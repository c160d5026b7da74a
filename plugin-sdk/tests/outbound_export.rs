//! The outbound export macro expands (a separate crate: a plugin exports exactly one world) and
//! campaign parameters and the hang-up outcome behave as documented.

use courtyard_plugin_sdk::prelude::*;

struct Reminder;

impl OutboundFlow for Reminder {
    type Config = NoConfig;

    fn on_answer(call: &Call, target: &Target) -> FlowResult<String> {
        let unit = target.param("unit_id").ok_or_else(|| FlowError::msg("no unit"))?;
        call.say(prompt!["房屋", digits(unit)])?;
        Ok("answered".into())
    }
}

export_outbound!(Reminder);

#[test]
fn target_params_and_hangup_outcome() {
    let t = Target {
        campaign_id: "C1".into(),
        target_id: "T1".into(),
        number: "13800138000".into(),
        params: vec![("unit_id".into(), "U1".into())],
    };
    assert_eq!(t.param("unit_id"), Some("U1"));
    assert_eq!(t.param("order_id"), None);
    assert_eq!(Reminder::hangup_outcome(), "hangup");
    let _: NoConfig = courtyard_plugin_sdk::config::parse_config(r#"{"anything": 1}"#).unwrap();
}
