//! pack → sign → verify through real files, the way the CLI does it.

use std::time::Instant;

use courtyard_packages::{PublicKey, TrustStore, inspect, keygen, pack, sign, verify};

use crate::fixture::{self, CAPS, IFACES};

#[test]
fn pack_sign_verify_round_trip_through_files() {
    let (_guard, dir) = fixture::tempdir();
    let plugin_dir = dir.join("bill-lookup");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    std::fs::write(plugin_dir.join("plugin.toml"), fixture::manifest(CAPS, "0.1.0")).unwrap();
    let component = fixture::component("0.1.0", IFACES);
    let wasm = dir.join("bill_lookup.wasm");
    std::fs::write(&wasm, &component).unwrap();
    let out = dir.join("bill-lookup-1.2.0.cyp");

    let t = Instant::now();
    let info = pack(&plugin_dir, &wasm, &out).unwrap();
    let pack_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(info.manifest.name, "bill-lookup");
    assert_eq!(info.signed_by, None);
    assert!(info.imports.iter().any(|i| i == "courtyard:flow/billing@0.1.0"), "{:?}", info.imports);
    assert_eq!(info.capability_lines().len(), CAPS.len());

    let keys = keygen("acme-2026", "acme", &dir.join("keys")).unwrap();
    let t = Instant::now();
    let signed = sign(&out, &keys.secret).unwrap();
    let sign_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(signed.digest, info.digest, "signing covers the packed digest");

    let mut trust = TrustStore::new();
    trust.add(&PublicKey::load(&keys.public).unwrap(), None);
    let trust_path = dir.join("trust.toml");
    trust.save(&trust_path).unwrap();
    let trust = TrustStore::load(&trust_path).unwrap();

    let bytes = std::fs::read(&out).unwrap();
    let t = Instant::now();
    let v = verify(&bytes, &trust).unwrap();
    let verify_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(v.component_bytes, component);
    assert_eq!(v.digest, info.digest);
    assert_eq!(v.signer.fingerprint, keys.fingerprint);
    assert_eq!(inspect(&bytes).unwrap().signed_by.as_deref(), Some("acme-2026"));

    // Packing the same inputs again yields the same bytes (deterministic package files).
    let again = dir.join("again.cyp");
    pack(&plugin_dir.join("plugin.toml"), &wasm, &again).unwrap();
    sign(&again, &keys.secret).unwrap();
    let again_files = courtyard_packages::PackageFiles::from_bytes(&std::fs::read(&again).unwrap()).unwrap();
    let first_files = courtyard_packages::PackageFiles::from_bytes(&bytes).unwrap();
    assert_eq!((again_files.manifest, again_files.component), (first_files.manifest, first_files.component));

    eprintln!(
        "figures: package {} bytes (component {} bytes); pack {pack_ms:.2} ms, sign {sign_ms:.2} ms, verify {verify_ms:.2} ms (debug build unless --release)",
        bytes.len(),
        component.len()
    );
}

#[test]
fn sign_refuses_a_key_of_another_vendor() {
    let (_guard, dir) = fixture::tempdir();
    let out = dir.join("p.cyp");
    std::fs::write(&out, fixture::unsigned_package()).unwrap();
    let keys = keygen("beta-1", "beta", &dir).unwrap();
    let err = sign(&out, &keys.secret).unwrap_err().to_string();
    assert!(err.contains("vendor 'beta'") && err.contains("acme"), "{err}");
}
