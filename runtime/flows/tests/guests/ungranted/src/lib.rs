//! Imports `billing`, which the tests do not grant: must be refused at install.

wit_bindgen::generate!({ world: "inbound-flow", path: "../../../../../wit" });

use courtyard::flow::billing;
use courtyard::flow::call::{self, Segment};

struct Flow;

impl Guest for Flow {
    fn check_config() -> Result<(), String> {
        Ok(())
    }

    fn handle_call() -> Result<(), String> {
        let fen = billing::arrears("U1").map_err(|e| format!("{e:?}"))?;
        call::say(&[Segment::Money(fen)], false).map_err(|e| format!("{e:?}"))
    }
}

export!(Flow);
