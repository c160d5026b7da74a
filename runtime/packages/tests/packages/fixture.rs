//! Real components, keys and packages built in the test itself.
//!
//! Components are produced with `wit-component` from the repository's own `wit/flow.wit` (or a
//! copy with its version rewritten), so they carry exactly the import names a plugin built with
//! wit-bindgen carries (`courtyard:flow/call@0.1.0`, …), and `wasmparser` validates them.

use std::path::{Path, PathBuf};

use courtyard_packages::{PackageFiles, SecretKey, TrustStore, pack_bytes, sign_bytes};
use wit_component::{ComponentEncoder, StringEncoding, dummy_module, embed_component_metadata};
use wit_parser::{LiftLowerAbi, ManglingAndAbi, Resolve};

/// The contract as committed.
pub fn flow_wit() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit/flow.wit");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A component for the inbound world that imports exactly `interfaces` of
/// `courtyard:flow@<wit_version>` (e.g. `["call", "log"]`).
pub fn component(wit_version: &str, interfaces: &[&str]) -> Vec<u8> {
    let wit = flow_wit().replace("package courtyard:flow@0.1.0;", &format!("package courtyard:flow@{wit_version};"));
    let mut resolve = Resolve::default();
    resolve.push_str("flow.wit", &wit).expect("flow.wit parses");
    let imports: String = interfaces
        .iter()
        .map(|i| format!("    import courtyard:flow/{i}@{wit_version};\n"))
        .collect();
    let world_src = format!(
        "package test:fixture;\nworld plugin {{\n{imports}    export check-config: func() -> result<_, string>;\n    export handle-call: func() -> result<_, string>;\n}}\n"
    );
    let pkg = resolve.push_str("fixture.wit", &world_src).expect("fixture world parses");
    let world = resolve.select_world(&[pkg], Some("plugin")).expect("world exists");
    let mut module = dummy_module(&resolve, world, ManglingAndAbi::Legacy(LiftLowerAbi::Sync));
    embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8).expect("embed metadata");
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .expect("module accepted")
        .encode()
        .expect("component encodes")
}

/// A manifest for vendor `acme` with the given capabilities, WIT target and extras.
pub fn manifest(capabilities: &[&str], wit: &str) -> String {
    let caps: Vec<String> = capabilities.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        r#"name = "bill-lookup"
version = "1.2.0"
vendor = "acme"
description = "Bills and arrears for the caller's unit"
wit = "courtyard:flow@{wit}"
world = "inbound-flow"
capabilities = [{}]
memory-mib = 32
config-schema = '''{{ "type": "object", "properties": {{ "queue": {{ "type": "string" }} }} }}'''
"#,
        caps.join(", ")
    )
}

/// The interfaces of a typical bill-lookup flow and the capabilities that cover them.
pub const IFACES: &[&str] = &["types", "call", "directory", "billing", "notify", "log", "config"];
/// Capabilities declared for [`IFACES`].
pub const CAPS: &[&str] = &["call", "directory.read", "billing.read", "notify.sms", "log"];

/// Vendor key `acme-2026` and a trust store trusting it.
pub struct Keys {
    /// The vendor's signing key.
    pub acme: SecretKey,
    /// Trusts `acme-2026` for vendor `acme`, no expiry.
    pub trust: TrustStore,
}

/// Fresh keys.
pub fn keys() -> Keys {
    let acme = SecretKey::generate("acme-2026", "acme").unwrap();
    let mut trust = TrustStore::new();
    trust.add(&acme.public(), None);
    Keys { acme, trust }
}

/// An unsigned package of the standard fixture.
pub fn unsigned_package() -> Vec<u8> {
    let files = PackageFiles {
        manifest: manifest(CAPS, "0.1.0").into_bytes(),
        component: component("0.1.0", IFACES),
        signature: None,
    };
    pack_bytes(&files).unwrap()
}

/// A signed package of the standard fixture.
pub fn signed_package(key: &SecretKey) -> Vec<u8> {
    sign_bytes(&unsigned_package(), key).unwrap().0
}

/// Package files assembled without `pack`'s checks (for packages `pack` would refuse), signed.
pub fn signed_unchecked(manifest: &str, component: Vec<u8>, key: &SecretKey) -> Vec<u8> {
    let files = PackageFiles { manifest: manifest.as_bytes().to_vec(), component, signature: None };
    sign_bytes(&files.to_bytes(), key).unwrap().0
}

/// A temp dir kept alive by the caller.
pub fn tempdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}
