//! `plugin.toml` manifests as a package upload or OCI pull would deliver them.
#![no_main]
use courtyard_packages::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::parse(data) {
        let _ = m.requested();
    }
});
