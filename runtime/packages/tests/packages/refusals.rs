//! Every way a package is refused, each with its own reason.

use chrono::{Duration, Utc};
use courtyard_packages::compat::Incompatibility;
use courtyard_packages::{
    InstallPolicy, PackageFiles, RefusedReason, SecretKey, TrustStore, pack_bytes, parse_grants, verify, verify_with,
};

use crate::fixture::{self, CAPS, IFACES};

/// Replace one part of a signed package, keeping its signature.
fn tamper(package: &[u8], f: impl FnOnce(&mut PackageFiles)) -> Vec<u8> {
    let mut files = PackageFiles::from_bytes(package).unwrap();
    f(&mut files);
    files.to_bytes()
}

#[test]
fn the_untouched_package_verifies() {
    let k = fixture::keys();
    let v = verify(&fixture::signed_package(&k.acme), &k.trust).unwrap();
    assert_eq!(v.signer.key_id, "acme-2026");
    assert_eq!(v.manifest.name, "bill-lookup");
}

#[test]
fn unsigned_is_refused() {
    let k = fixture::keys();
    let err = verify(&fixture::unsigned_package(), &k.trust).unwrap_err();
    assert_eq!(err, RefusedReason::Unsigned);
    assert!(err.to_string().contains("unsigned"), "{err}");
}

#[test]
fn tampered_component_is_refused() {
    let k = fixture::keys();
    let signed = fixture::signed_package(&k.acme);
    // Swap in a different (valid) component: one more import.
    let other = fixture::component("0.1.0", &["types", "call", "directory", "billing", "notify", "log", "config", "kv"]);
    let err = verify(&tamper(&signed, |f| f.component = other), &k.trust).unwrap_err();
    assert!(matches!(err, RefusedReason::ComponentTampered { .. }), "{err}");
    assert!(err.to_string().contains("component.wasm was modified"), "{err}");
    // A single flipped byte is caught the same way.
    let err = verify(&tamper(&signed, |f| { let n = f.component.len() - 1; f.component[n] ^= 1 }), &k.trust).unwrap_err();
    assert!(matches!(err, RefusedReason::ComponentTampered { .. }), "{err}");
}

#[test]
fn tampered_manifest_is_refused() {
    let k = fixture::keys();
    let signed = fixture::signed_package(&k.acme);
    // The classic attack: grant yourself one more capability after signing.
    let err = verify(
        &tamper(&signed, |f| {
            let text = String::from_utf8(f.manifest.clone()).unwrap().replace("\"log\"", "\"log\", \"kv\"");
            f.manifest = text.into_bytes();
        }),
        &k.trust,
    )
    .unwrap_err();
    assert!(matches!(err, RefusedReason::ManifestTampered { .. }), "{err}");
    assert!(err.to_string().contains("plugin.toml was modified"), "{err}");
}

#[test]
fn rewriting_the_recorded_digests_breaks_the_signature() {
    // An attacker who also updates the digests in signature.toml cannot re-sign them.
    let k = fixture::keys();
    let signed = fixture::signed_package(&k.acme);
    let tampered = tamper(&signed, |f| {
        f.component.push(0);
        let mut rec = courtyard_packages::sign::SignatureRecord::parse(f.signature.as_ref().unwrap()).unwrap();
        rec.component_sha256 = hex::encode(courtyard_packages::sign::sha256(&f.component));
        f.signature = Some(rec.to_bytes());
    });
    let err = verify(&tampered, &k.trust).unwrap_err();
    assert!(matches!(err, RefusedReason::BadSignature { .. }), "{err}");
}

#[test]
fn wrong_key_is_refused() {
    // Signed by another key that claims the trusted key's id.
    let k = fixture::keys();
    let impostor = SecretKey::generate("acme-2026", "acme").unwrap();
    let err = verify(&fixture::signed_package(&impostor), &k.trust).unwrap_err();
    assert!(matches!(err, RefusedReason::BadSignature { .. }), "{err}");
    assert!(err.to_string().contains("does not match"), "{err}");
}

#[test]
fn key_of_another_vendor_is_refused() {
    // beta's key is trusted, but only for beta: it cannot vouch for acme's package.
    let k = fixture::keys();
    let beta = SecretKey::generate("beta-1", "beta").unwrap();
    let mut trust = k.trust.clone();
    trust.add(&beta.public(), None);
    // sign_bytes refuses a vendor mismatch, so build the signature by hand.
    let files = PackageFiles::from_bytes(&fixture::unsigned_package()).unwrap();
    let rec = beta.sign(&files.manifest, &files.component);
    let package = PackageFiles { signature: Some(rec.to_bytes()), ..files }.to_bytes();
    let err = verify(&package, &trust).unwrap_err();
    assert!(matches!(err, RefusedReason::VendorMismatch { .. }), "{err}");
    assert!(err.to_string().contains("'beta' only"), "{err}");
}

#[test]
fn unknown_key_is_refused() {
    let k = fixture::keys();
    let stranger = SecretKey::generate("acme-2025", "acme").unwrap();
    let err = verify(&fixture::signed_package(&stranger), &k.trust).unwrap_err();
    assert_eq!(err, RefusedReason::UnknownKey { key_id: "acme-2025".into(), vendor: "acme".into() });
    assert!(verify(&fixture::signed_package(&stranger), &TrustStore::new()).is_err());
}

#[test]
fn expired_key_is_refused_and_valid_until_then() {
    let k = fixture::keys();
    let package = fixture::signed_package(&k.acme);
    let mut trust = TrustStore::new();
    let expiry = Utc::now() + Duration::days(30);
    trust.add(&k.acme.public(), Some(expiry));
    let policy = InstallPolicy::default();
    assert!(verify_with(&package, &trust, &policy, Utc::now()).is_ok());
    let err = verify_with(&package, &trust, &policy, expiry + Duration::seconds(1)).unwrap_err();
    assert_eq!(err, RefusedReason::ExpiredKey { key_id: "acme-2026".into(), expired_at: expiry });
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn undeclared_capability_is_refused_naming_the_interface() {
    // The component imports kv and notify; the manifest declares neither.
    let k = fixture::keys();
    let component = fixture::component("0.1.0", &["types", "call", "kv", "notify", "log"]);
    let manifest = fixture::manifest(&["call", "kv", "log"], "0.1.0");
    // pack refuses it up front…
    let files = PackageFiles { manifest: manifest.clone().into_bytes(), component: component.clone(), signature: None };
    let err = pack_bytes(&files).unwrap_err().to_string();
    assert!(err.contains("courtyard:flow/notify"), "{err}");
    // …and verify refuses it even when a vendor signs it anyway.
    let package = fixture::signed_unchecked(&manifest, component, &k.acme);
    let err = verify(&package, &k.trust).unwrap_err();
    match &err {
        RefusedReason::UndeclaredCapability { interface, needs, declared } => {
            assert_eq!(interface, "courtyard:flow/notify");
            assert!(needs.contains("notify.sms"), "{needs}");
            assert!(declared.contains("kv") && !declared.contains("notify"), "{declared}");
        }
        other => panic!("expected UndeclaredCapability, got {other}"),
    }
}

#[test]
fn whole_world_imports_are_covered_by_unused_imports_not_by_grants() {
    // A componentize-py/js flow imports every interface; this one calls only call and billing.
    let k = fixture::keys();
    let all = ["types", "call", "directory", "billing", "work-orders", "notify", "kv", "log", "config", "clock", "content"];
    let component = fixture::component("0.1.0", &all);
    let requested = fixture::manifest(&["call", "billing.read"], "0.1.0");
    let files = PackageFiles { manifest: requested.clone().into_bytes(), component: component.clone(), signature: None };
    assert!(pack_bytes(&files).unwrap_err().to_string().contains("courtyard:flow/directory"), "without the list, pack refuses");
    let manifest = format!("{requested}unused-imports = [\"directory\", \"work-orders\", \"notify\", \"kv\", \"log\", \"clock\", \"content\"]\n");
    let files = PackageFiles { manifest: manifest.clone().into_bytes(), component: component.clone(), signature: None };
    pack_bytes(&files).expect("covered: requested or declared unused");
    let v = verify(&fixture::signed_unchecked(&manifest, component, &k.acme), &k.trust).expect("verifies");
    // The operator grants only what is requested; the rest is linked as traps.
    assert!(v.check_granted(&parse_grants(&["call", "billing.read"]).unwrap()).is_ok());
    assert_eq!(v.flow_interfaces(), vec!["call", "billing", "config"]);
    assert_eq!(v.unused_interfaces(), vec!["clock", "content", "directory", "kv", "log", "notify", "work-orders"]);
}

#[test]
fn capability_not_granted_is_refused() {
    let k = fixture::keys();
    let v = verify(&fixture::signed_package(&k.acme), &k.trust).unwrap();
    let err = v.check_granted(&parse_grants(&["call", "directory.read", "billing.read", "log"]).unwrap()).unwrap_err();
    assert_eq!(err, RefusedReason::NotGranted { missing: "notify.sms".into() });
    assert!(v.check_granted(&parse_grants(CAPS).unwrap()).is_ok());
    assert_eq!(v.flow_interfaces(), vec!["call", "directory", "billing", "notify", "log", "config"]);
}

#[test]
fn wit_newer_additive_step_is_refused() {
    // Before 1.0 the patch is the additive step: 0.1.1 may import what a 0.1.0 host lacks.
    let k = fixture::keys();
    let package = fixture::signed_unchecked(&fixture::manifest(CAPS, "0.1.1"), fixture::component("0.1.1", IFACES), &k.acme);
    let err = verify(&package, &k.trust).unwrap_err();
    match &err {
        RefusedReason::WitIncompatible { why: Incompatibility::NewerMinor { plugin, host }, .. } => {
            assert_eq!((plugin.to_string(), host.to_string()), ("0.1.1".into(), "0.1.0".into()));
        }
        other => panic!("expected NewerMinor, got {other}"),
    }
    assert!(err.to_string().contains("upgrade Courtyard"), "{err}");
}

#[test]
fn wit_other_version_line_is_refused() {
    // Another major, and before 1.0 another minor, is another contract (wasmtime would not link it).
    let k = fixture::keys();
    for version in ["1.0.0", "0.2.0"] {
        let package = fixture::signed_unchecked(&fixture::manifest(CAPS, version), fixture::component(version, IFACES), &k.acme);
        let err = verify(&package, &k.trust).unwrap_err();
        assert!(matches!(err, RefusedReason::WitIncompatible { why: Incompatibility::DifferentMajor { .. }, .. }), "{version}: {err}");
    }
}

#[test]
fn manifest_claiming_an_old_version_over_new_imports_is_refused() {
    // The manifest says 0.1.0 but the component was built against 0.1.1: the imports decide.
    let k = fixture::keys();
    let package = fixture::signed_unchecked(&fixture::manifest(CAPS, "0.1.0"), fixture::component("0.1.1", IFACES), &k.acme);
    let err = verify(&package, &k.trust).unwrap_err();
    match &err {
        RefusedReason::WitIncompatible { what, why: Incompatibility::NewerMinor { .. } } => {
            assert!(what.contains("@0.1.1"), "{what}");
        }
        other => panic!("expected NewerMinor on an import, got {other}"),
    }
}

#[test]
fn older_additive_step_on_a_newer_host_is_accepted() {
    // A host at 0.1.3 runs plugins built for 0.1.0.
    let k = fixture::keys();
    let policy = InstallPolicy { host_wit: semver::Version::new(0, 1, 3), ..Default::default() };
    let v = verify_with(&fixture::signed_package(&k.acme), &k.trust, &policy, Utc::now()).unwrap();
    assert_eq!(v.manifest.wit.version.to_string(), "0.1.0");
}

#[test]
fn memory_over_the_ceiling_is_refused() {
    let k = fixture::keys();
    let policy = InstallPolicy { memory_ceiling_mib: 16, ..Default::default() };
    let err = verify_with(&fixture::signed_package(&k.acme), &k.trust, &policy, Utc::now()).unwrap_err();
    assert_eq!(err, RefusedReason::MemoryOverCeiling { requested: 32, ceiling: 16 });
}

#[test]
fn missing_world_export_and_core_module_are_refused() {
    let k = fixture::keys();
    let outbound = fixture::manifest(CAPS, "0.1.0").replace("inbound-flow", "outbound-flow");
    let package = fixture::signed_unchecked(&outbound, fixture::component("0.1.0", IFACES), &k.acme);
    let err = verify(&package, &k.trust).unwrap_err();
    assert_eq!(err, RefusedReason::WorldMismatch { world: "outbound-flow".into(), missing: "on-answer".into() });

    let core = b"\0asm\x01\0\0\0".to_vec();
    let package = fixture::signed_unchecked(&fixture::manifest(CAPS, "0.1.0"), core, &k.acme);
    let err = verify(&package, &k.trust).unwrap_err();
    assert!(matches!(err, RefusedReason::NotAComponent(_)), "{err}");
}

#[test]
fn garbage_is_malformed() {
    let k = fixture::keys();
    let err = verify(b"PK\x03\x04 a zip file", &k.trust).unwrap_err();
    assert!(matches!(err, RefusedReason::Malformed(_)), "{err}");
}
