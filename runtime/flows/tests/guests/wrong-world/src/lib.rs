//! A component for some other world (exports `run`): must be refused as a flow.

wit_bindgen::generate!({
    inline: "
        package acme:tool@1.0.0;
        world tool {
            export run: func(n: u32) -> u32;
        }
    ",
});

struct Tool;

impl Guest for Tool {
    fn run(n: u32) -> u32 {
        n + 1
    }
}

export!(Tool);
