//! Hostile: panics in the middle of a call (a trap for the host).

wit_bindgen::generate!({ world: "inbound-flow", path: "../../../../../wit" });

use courtyard::flow::call::{self, Segment};

struct Flow;

impl Guest for Flow {
    fn check_config() -> Result<(), String> {
        Ok(())
    }

    fn handle_call() -> Result<(), String> {
        call::say(&[Segment::Text("您好".into())], false).map_err(|e| format!("{e:?}"))?;
        panic!("boom: this plugin panics on purpose");
    }
}

export!(Flow);
