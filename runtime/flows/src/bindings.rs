//! Host-side bindings generated from `wit/flow.wit` for the two plugin worlds.
//!
//! The interfaces (`call`, `directory`, `billing`, ...) are generated once, with the
//! `inbound-flow` world, and the `outbound-flow` world reuses them through `with:` so there is a
//! single set of Rust types and a single set of host trait impls for both worlds. Imports are
//! async on the host (tokio) and trappable (a host function can end a runaway guest); the guest
//! stays synchronous.

/// Bindings of world `inbound-flow` (owns the shared interface types).
#[allow(missing_docs)] // generated; the WIT file documents each item
pub mod inbound {
    wasmtime::component::bindgen!({
        world: "inbound-flow",
        path: "../../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [PartialEq],
    });
}

/// Bindings of world `outbound-flow` (interfaces shared with [`inbound`]).
#[allow(missing_docs)] // generated; the WIT file documents each item
pub mod outbound {
    wasmtime::component::bindgen!({
        world: "outbound-flow",
        path: "../../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        additional_derives: [PartialEq],
        with: {
            "courtyard:flow": crate::bindings::inbound::courtyard::flow,
        },
    });
}

pub use inbound::courtyard::flow as interfaces;
