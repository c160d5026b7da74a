//! The inbound export macro expands in a plugin-like crate and the flow trait's defaults work.

use courtyard_plugin_sdk::prelude::*;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Config {
    queue: String,
}

struct Flow;

impl InboundFlow for Flow {
    type Config = Config;

    fn validate_config(config: &Config) -> Result<(), String> {
        if config.queue.is_empty() { Err("queue is empty".into()) } else { Ok(()) }
    }

    fn handle_call(call: &Call) -> FlowResult {
        call.say(prompt!["您好", money(100)])?;
        Ok(())
    }
}

export_inbound!(Flow);

#[test]
fn validate_config_sees_the_parsed_config() {
    let c: Config = courtyard_plugin_sdk::config::parse_config(r#"{"queue":"billing"}"#).unwrap();
    assert!(Flow::validate_config(&c).is_ok());
    let c: Config = courtyard_plugin_sdk::config::parse_config("{}").unwrap();
    assert_eq!(Flow::validate_config(&c), Err("queue is empty".to_string()));
}
