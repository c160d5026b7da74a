//! Hostile: greets, then computes forever without calling the host.

wit_bindgen::generate!({ world: "inbound-flow", path: "../../../../../wit" });

use courtyard::flow::call::{self, Segment};

struct Flow;

impl Guest for Flow {
    fn check_config() -> Result<(), String> {
        Ok(())
    }

    fn handle_call() -> Result<(), String> {
        let _ = call::say(&[Segment::Text("稍等".into())], false);
        let mut x: u64 = 1;
        loop {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

export!(Flow);
