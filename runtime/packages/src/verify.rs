//! Deciding whether a package may be installed, and saying exactly why not.
//!
//! The order matters: integrity and origin first (is it signed, are the bytes the ones signed,
//! by a key the operator trusts, still valid, for this vendor), and only then interpretation
//! (manifest, WIT version, memory, imports). A tampered manifest is therefore reported as
//! tampered, never as a confusing parse error, and nothing from an untrusted package is parsed
//! beyond the tar and the signature record.

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{DateTime, Utc};
use semver::Version;

use crate::capabilities::{self, Capability};
use crate::compat::{self, Incompatibility};
use crate::component;
use crate::manifest::{Manifest, ManifestError};
use crate::package::{PackageFiles, check_exports, digest_string};
use crate::sign::{self, SignatureRecord, fingerprint};
use crate::trust::TrustStore;

/// Why a package was refused; `Display` is the sentence for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefusedReason {
    /// Not a readable package.
    #[error("refused: not a valid plugin package: {0}")]
    Malformed(String),
    /// No signature inside.
    #[error("refused: the package is unsigned; ask the vendor for a signed package (courtyard plugin sign)")]
    Unsigned,
    /// `plugin.toml` differs from what was signed.
    #[error("refused: plugin.toml was modified after signing (signed sha256 {signed}, actual {actual})")]
    ManifestTampered {
        /// Digest recorded at signing.
        signed: String,
        /// Digest of the bytes in the package.
        actual: String,
    },
    /// `component.wasm` differs from what was signed.
    #[error("refused: component.wasm was modified after signing (signed sha256 {signed}, actual {actual})")]
    ComponentTampered {
        /// Digest recorded at signing.
        signed: String,
        /// Digest of the bytes in the package.
        actual: String,
    },
    /// The signing key is not in the trust store.
    #[error("refused: signed by key '{key_id}' (vendor '{vendor}'), which is not in the trust store; add the vendor's .pub with `courtyard plugin trust add` if you trust it")]
    UnknownKey {
        /// Key id claimed by the signature.
        key_id: String,
        /// Vendor claimed by the signature.
        vendor: String,
    },
    /// The signing key's trust expired.
    #[error("refused: signing key '{key_id}' expired at {expired_at}; ask the vendor to re-sign with a current key")]
    ExpiredKey {
        /// Key id.
        key_id: String,
        /// Expiry from the trust store.
        expired_at: DateTime<Utc>,
    },
    /// The signature does not verify with the trusted key of that id (signed by another key).
    #[error("refused: bad signature: {detail} (trusted key '{key_id}', fingerprint {fingerprint})")]
    BadSignature {
        /// Key id looked up.
        key_id: String,
        /// Fingerprint of the trusted key.
        fingerprint: String,
        /// What failed.
        detail: String,
    },
    /// A key trusted for one vendor signed a package of another vendor.
    #[error("refused: key '{key_id}' is trusted for vendor '{key_vendor}' only, but the package says vendor = \"{manifest_vendor}\"")]
    VendorMismatch {
        /// Key id.
        key_id: String,
        /// Vendor the trust store binds the key to.
        key_vendor: String,
        /// Vendor in plugin.toml.
        manifest_vendor: String,
    },
    /// plugin.toml is invalid (though correctly signed).
    #[error("refused: {0}")]
    Manifest(ManifestError),
    /// WIT version mismatch.
    #[error("refused: {what}: {why}")]
    WitIncompatible {
        /// What carried the version (manifest field or import name).
        what: String,
        /// The incompatibility.
        why: Incompatibility,
    },
    /// The memory request is above the operator's ceiling.
    #[error("refused: plugin.toml asks for memory-mib = {requested}, above this host's ceiling of {ceiling} MiB")]
    MemoryOverCeiling {
        /// Requested MiB.
        requested: u32,
        /// Operator ceiling MiB.
        ceiling: u32,
    },
    /// The component binary is invalid or not a component.
    #[error("refused: component.wasm: {0}")]
    NotAComponent(String),
    /// The component lacks an export its world requires.
    #[error("refused: plugin.toml says world = \"{world}\" but the component does not export '{missing}'")]
    WorldMismatch {
        /// World name.
        world: String,
        /// Missing export.
        missing: String,
    },
    /// The component imports an interface its manifest does not declare.
    #[error("refused: the component imports '{interface}' but plugin.toml does not declare it; add {needs} to capabilities (declared: {declared})")]
    UndeclaredCapability {
        /// The interface, `courtyard:flow/notify`.
        interface: String,
        /// Capabilities that would cover it.
        needs: String,
        /// What the manifest declares.
        declared: String,
    },
    /// The component imports something the host never provides.
    #[error("refused: the component imports '{import}', which Courtyard does not provide (only courtyard:flow/* and wasi:*)")]
    UnknownImport {
        /// The import name.
        import: String,
    },
    /// The operator did not grant everything requested.
    #[error("refused: capabilities requested but not granted: {missing}; grant them or do not install this plugin")]
    NotGranted {
        /// Missing capability names.
        missing: String,
    },
}

/// Host-side limits a package is checked against.
#[derive(Debug, Clone)]
pub struct InstallPolicy {
    /// The `courtyard:flow` version the host implements.
    pub host_wit: Version,
    /// Operator's ceiling on a plugin's memory request, MiB.
    pub memory_ceiling_mib: u32,
}

impl Default for InstallPolicy {
    fn default() -> Self {
        InstallPolicy { host_wit: compat::host_version(), memory_ceiling_mib: 256 }
    }
}

/// The key that signed a verified package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// Key id.
    pub key_id: String,
    /// Vendor the trust store binds it to.
    pub vendor: String,
    /// Key fingerprint.
    pub fingerprint: String,
}

/// A package that passed every check: safe to hand to the host for compile and install.
#[derive(Debug, Clone)]
pub struct VerifiedPackage {
    /// The parsed manifest.
    pub manifest: Manifest,
    /// plugin.toml bytes as signed (store them with the installed version).
    pub manifest_bytes: Vec<u8>,
    /// The component to compile.
    pub component_bytes: Vec<u8>,
    /// Canonical digest, `sha256:<hex>`: identifies this exact plugin build.
    pub digest: String,
    /// sha256 of the component, hex (the host's compile-cache key).
    pub component_sha256: String,
    /// Who signed it.
    pub signer: Signer,
    /// The component's top-level imports.
    pub imports: Vec<String>,
}

impl VerifiedPackage {
    /// Requested capabilities (without the implicit `config`).
    pub fn requested(&self) -> Vec<Capability> {
        self.manifest.requested()
    }

    /// Interface names to link for the requested capabilities, for `courtyard_flows::Grants`.
    pub fn flow_interfaces(&self) -> Vec<&'static str> {
        capabilities::interfaces(&self.manifest.capabilities)
    }

    /// Interface names the component imports without using them (`unused-imports`): the host
    /// links them as traps (`courtyard_flows::InstallSpec::unused_imports`).
    pub fn unused_interfaces(&self) -> Vec<&str> {
        self.manifest.unused_imports.iter().map(String::as_str).collect()
    }

    /// Check the operator's grants cover the request (install step).
    pub fn check_granted(&self, granted: &BTreeSet<Capability>) -> Result<(), RefusedReason> {
        capabilities::check_granted(&self.manifest.capabilities, granted)
    }
}

/// Verify package bytes against the trust store with the default policy, now.
pub fn verify(package: &[u8], trust: &TrustStore) -> Result<VerifiedPackage, RefusedReason> {
    verify_with(package, trust, &InstallPolicy::default(), Utc::now())
}

/// Verify package bytes against the trust store and a policy, at time `now`.
pub fn verify_with(
    package: &[u8],
    trust: &TrustStore,
    policy: &InstallPolicy,
    now: DateTime<Utc>,
) -> Result<VerifiedPackage, RefusedReason> {
    let started = Instant::now();
    let result = verify_inner(package, trust, policy, now);
    match &result {
        Ok(v) => tracing::info!(
            name = %v.manifest.name, version = %v.manifest.version, signer = %v.signer.key_id,
            ms = started.elapsed().as_secs_f64() * 1e3, "plugin package verified"
        ),
        Err(reason) => tracing::warn!(%reason, "plugin package refused"),
    }
    result
}

fn verify_inner(
    package: &[u8],
    trust: &TrustStore,
    policy: &InstallPolicy,
    now: DateTime<Utc>,
) -> Result<VerifiedPackage, RefusedReason> {
    let files = PackageFiles::from_bytes(package).map_err(RefusedReason::Malformed)?;
    let sig_bytes = files.signature.as_deref().ok_or(RefusedReason::Unsigned)?;
    let record = SignatureRecord::parse(sig_bytes).map_err(RefusedReason::Malformed)?;

    let manifest_sha = hex::encode(sign::sha256(&files.manifest));
    if manifest_sha != record.manifest_sha256 {
        return Err(RefusedReason::ManifestTampered { signed: record.manifest_sha256, actual: manifest_sha });
    }
    let component_sha = hex::encode(sign::sha256(&files.component));
    if component_sha != record.component_sha256 {
        return Err(RefusedReason::ComponentTampered { signed: record.component_sha256, actual: component_sha });
    }

    let key = trust
        .get(&record.key_id)
        .ok_or_else(|| RefusedReason::UnknownKey { key_id: record.key_id.clone(), vendor: record.vendor.clone() })?;
    if let Some(expired_at) = key.expires
        && now >= expired_at
    {
        return Err(RefusedReason::ExpiredKey { key_id: key.key_id.clone(), expired_at });
    }
    let digest = record.verify_with(&key.key).map_err(|detail| RefusedReason::BadSignature {
        key_id: key.key_id.clone(),
        fingerprint: fingerprint(&key.key),
        detail,
    })?;

    // From here on the bytes are exactly what a trusted vendor signed.
    let manifest = Manifest::parse(&files.manifest).map_err(RefusedReason::Manifest)?;
    if manifest.vendor != key.vendor {
        return Err(RefusedReason::VendorMismatch {
            key_id: key.key_id.clone(),
            key_vendor: key.vendor.clone(),
            manifest_vendor: manifest.vendor.clone(),
        });
    }
    compat::check_target(&manifest.wit, &policy.host_wit)
        .map_err(|why| RefusedReason::WitIncompatible { what: format!("plugin.toml wit = \"{}\"", manifest.wit), why })?;
    if manifest.memory_mib > policy.memory_ceiling_mib {
        return Err(RefusedReason::MemoryOverCeiling { requested: manifest.memory_mib, ceiling: policy.memory_ceiling_mib });
    }
    let world = component::inspect(&files.component).map_err(RefusedReason::NotAComponent)?;
    check_exports(&manifest, &world.exports)?;
    capabilities::check_imports(&world.imports, &manifest.capabilities, &manifest.unused_imports, &policy.host_wit)?;

    Ok(VerifiedPackage {
        signer: Signer { key_id: key.key_id.clone(), vendor: key.vendor.clone(), fingerprint: fingerprint(&key.key) },
        manifest,
        manifest_bytes: files.manifest,
        component_bytes: files.component,
        digest: digest_string(&digest),
        component_sha256: component_sha,
        imports: world.imports,
    })
}
