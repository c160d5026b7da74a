//! An outbound reminder flow: reads the arrears of the target's unit and asks for confirmation.

wit_bindgen::generate!({ world: "outbound-flow", path: "../../../../../wit" });

use courtyard::flow::billing;
use courtyard::flow::call::{self, CollectOptions, Segment};

struct Flow;

impl Guest for Flow {
    fn check_config() -> Result<(), String> {
        Ok(())
    }

    fn on_answer(target: Target) -> Result<String, String> {
        let unit = target.params.iter().find(|(k, _)| k == "unit_id").map(|(_, v)| v.clone());
        let Some(unit) = unit else { return Err("target has no unit_id".into()) };
        let fen = billing::arrears(&unit).map_err(|e| format!("{e:?}"))?;
        let opts = CollectOptions {
            min_digits: 1,
            max_digits: 1,
            first_digit_timeout_ms: 5000,
            inter_digit_timeout_ms: 3000,
            terminator: None,
            barge_in: true,
        };
        let got = call::collect(
            &[Segment::Text("您好，您的物业费欠费".into()), Segment::Money(fen), Segment::Text("，确认请按1".into())],
            &opts,
        )
        .map_err(|e| format!("{e:?}"))?;
        Ok(if got.digits == "1" { "confirmed".into() } else { "refused".into() })
    }
}

export!(Flow);
