//! Raw wit-bindgen output for both worlds of `courtyard:flow@0.1.0`.
//!
//! Why two `generate!` invocations: a plugin exports exactly one world (`inbound-flow` *or*
//! `outbound-flow`), but the SDK must offer bindings for both. Both invocations use
//! `pub_export_macro`, which makes wit-bindgen embed an *imports-only* copy of the world in this
//! crate; the full world (imports **and** exports) is embedded only where a plugin invokes
//! [`export_inbound!`](crate::export_inbound) or [`export_outbound!`](crate::export_outbound).
//! So an inbound plugin never has to provide `on-answer` and vice versa. The outbound world reuses
//! the interface bindings generated for the inbound one through `with`, so `Segment`,
//! `ServiceError`, `Resident`, ... are one Rust type each.
//!
//! Plugin code should not need anything from here; use the typed wrappers in the crate root.
#![allow(missing_docs)]

/// Bindings of world `inbound-flow` (all interfaces are generated here).
pub mod inbound {
    wit_bindgen::generate!({
        world: "inbound-flow",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_inbound_world",
        default_bindings_module: "::courtyard_plugin_sdk::bindings::inbound",
        runtime_path: "::courtyard_plugin_sdk::__rt::wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

/// Bindings of world `outbound-flow`; interfaces are shared with [`inbound`].
pub mod outbound {
    wit_bindgen::generate!({
        world: "outbound-flow",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_outbound_world",
        default_bindings_module: "::courtyard_plugin_sdk::bindings::outbound",
        runtime_path: "::courtyard_plugin_sdk::__rt::wit_bindgen::rt",
        additional_derives: [PartialEq],
        with: {
            "courtyard:flow/types@0.1.0": crate::bindings::inbound::courtyard::flow::types,
            "courtyard:flow/call@0.1.0": crate::bindings::inbound::courtyard::flow::call,
            "courtyard:flow/directory@0.1.0": crate::bindings::inbound::courtyard::flow::directory,
            "courtyard:flow/billing@0.1.0": crate::bindings::inbound::courtyard::flow::billing,
            "courtyard:flow/work-orders@0.1.0": crate::bindings::inbound::courtyard::flow::work_orders,
            "courtyard:flow/notify@0.1.0": crate::bindings::inbound::courtyard::flow::notify,
            "courtyard:flow/kv@0.1.0": crate::bindings::inbound::courtyard::flow::kv,
            "courtyard:flow/log@0.1.0": crate::bindings::inbound::courtyard::flow::log,
            "courtyard:flow/config@0.1.0": crate::bindings::inbound::courtyard::flow::config,
            "courtyard:flow/clock@0.1.0": crate::bindings::inbound::courtyard::flow::clock,
            "courtyard:flow/content@0.1.0": crate::bindings::inbound::courtyard::flow::content,
        },
    });
}
