//! What a component binary says about itself: its top-level imports and exports.
//!
//! The host-side inspection (wasmtime's component type) lives in `courtyard-flows`; packaging
//! tools must not need a compiler, so this reads the binary with `wasmparser` and validates it
//! (a corrupt or core-module `component.wasm` is refused at pack and verify time, not at install).

use wasmparser::{ComponentTypeRef, Encoding, Parser, Payload, Validator, WasmFeatures};

/// The interface names a component imports and exports at its top level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentWorld {
    /// Names of imports the host must link (instances, functions, ...), e.g.
    /// `courtyard:flow/call@0.1.0`, `wasi:io/streams@0.2.6`.
    pub imports: Vec<String>,
    /// Names of imported type definitions (a world-level `record target` shows up as the type
    /// import `target`); they grant nothing and need no capability.
    pub type_imports: Vec<String>,
    /// Export names, e.g. `handle-call`.
    pub exports: Vec<String>,
}

/// Validate a component binary and list its top-level imports and exports.
pub fn inspect(bytes: &[u8]) -> Result<ComponentWorld, String> {
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    validator.validate_all(bytes).map_err(|e| format!("invalid WebAssembly: {e}"))?;

    let mut world = ComponentWorld::default();
    // Nested modules and components report their own sections in the same stream; only the
    // outermost level (depth 0) is the component's interface to the host.
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| format!("invalid WebAssembly: {e}"))?;
        match payload {
            Payload::Version { encoding, .. } if depth == 0 && encoding != Encoding::Component => {
                return Err("this is a core WebAssembly module, not a component; build for wasm32-wasip2 (or run `wasm-tools component new`)".into());
            }
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let import = import.map_err(|e| format!("invalid import section: {e}"))?;
                    let name = import.name.name.to_string();
                    match import.ty {
                        ComponentTypeRef::Type(_) => world.type_imports.push(name),
                        _ => world.imports.push(name),
                    }
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    let export = export.map_err(|e| format!("invalid export section: {e}"))?;
                    world.exports.push(export.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_modules_and_garbage_are_refused() {
        // The smallest core module: magic + version 1.
        let core = b"\0asm\x01\0\0\0";
        assert!(inspect(core).unwrap_err().contains("not a component"));
        assert!(inspect(b"hello").unwrap_err().contains("invalid"));
    }
}
