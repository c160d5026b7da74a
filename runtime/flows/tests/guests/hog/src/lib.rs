//! Hostile: tries to allocate 1 GiB.

wit_bindgen::generate!({ world: "inbound-flow", path: "../../../../../wit" });

use courtyard::flow::call::{self, Segment};

struct Flow;

impl Guest for Flow {
    fn check_config() -> Result<(), String> {
        Ok(())
    }

    fn handle_call() -> Result<(), String> {
        let _ = call::say(&[Segment::Text("稍等".into())], false);
        let big = vec![7u8; 1 << 30];
        std::hint::black_box(&big);
        Ok(())
    }
}

export!(Flow);
