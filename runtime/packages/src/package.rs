//! The package file: one tar holding `plugin.toml`, `component.wasm` and, once signed,
//! `signature.toml`.
//!
//! A plain (uncompressed) tar because every operator's machine can list it (`tar tf x.cyp`) and
//! components are already compact. The writer is deterministic — fixed order, mtime 0, uid 0,
//! mode 0644 — so packing the same inputs twice gives the same bytes, and a package pulled from a
//! registry is byte-identical to the one pushed. The reader is strict: exactly these entry names,
//! each once, regular files only, bounded sizes; anything else is "not a package".

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::capabilities::{self, Capability};
use crate::compat;
use crate::component;
use crate::error::PackageError;
use crate::manifest::{MAX_MANIFEST_BYTES, Manifest};
use crate::sign::{self, SecretKey, SignatureRecord};

/// Entry name of the manifest.
pub const MANIFEST_ENTRY: &str = "plugin.toml";
/// Entry name of the component.
pub const COMPONENT_ENTRY: &str = "component.wasm";
/// Entry name of the signature record.
pub const SIGNATURE_ENTRY: &str = "signature.toml";
/// Largest component accepted, bytes.
pub const MAX_COMPONENT_BYTES: usize = 64 * 1024 * 1024;
/// Largest signature record accepted, bytes.
const MAX_SIGNATURE_BYTES: usize = 4096;
/// File extension used by the CLI for packages.
pub const PACKAGE_EXTENSION: &str = "cyp";

/// The three parts of a package, as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFiles {
    /// `plugin.toml` bytes exactly as signed.
    pub manifest: Vec<u8>,
    /// The component binary.
    pub component: Vec<u8>,
    /// `signature.toml`, absent when unsigned.
    pub signature: Option<Vec<u8>>,
}

impl PackageFiles {
    /// Read a package file's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<PackageFiles, String> {
        let mut manifest = None;
        let mut component = None;
        let mut signature = None;
        let mut archive = tar::Archive::new(bytes);
        let entries = archive.entries().map_err(|e| format!("not a tar archive: {e}"))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("not a tar archive: {e}"))?;
            if !entry.header().entry_type().is_file() {
                return Err("contains something other than regular files".into());
            }
            let name = entry
                .path()
                .map_err(|e| format!("bad entry name: {e}"))?
                .to_string_lossy()
                .into_owned();
            let (slot, limit) = match name.as_str() {
                MANIFEST_ENTRY => (&mut manifest, MAX_MANIFEST_BYTES),
                COMPONENT_ENTRY => (&mut component, MAX_COMPONENT_BYTES),
                SIGNATURE_ENTRY => (&mut signature, MAX_SIGNATURE_BYTES),
                other => return Err(format!("unexpected entry '{other}' (a package holds only {MANIFEST_ENTRY}, {COMPONENT_ENTRY}, {SIGNATURE_ENTRY})")),
            };
            if slot.is_some() {
                return Err(format!("entry '{name}' appears twice"));
            }
            let size = entry.size();
            if size > limit as u64 {
                return Err(format!("entry '{name}' is {size} bytes, more than the {limit} allowed"));
            }
            let mut data = Vec::with_capacity(size as usize);
            entry.take(limit as u64).read_to_end(&mut data).map_err(|e| format!("reading '{name}': {e}"))?;
            *slot = Some(data);
        }
        Ok(PackageFiles {
            manifest: manifest.ok_or_else(|| format!("no {MANIFEST_ENTRY} inside"))?,
            component: component.ok_or_else(|| format!("no {COMPONENT_ENTRY} inside"))?,
            signature,
        })
    }

    /// Write the package file's bytes (deterministic).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut parts: Vec<(&str, &[u8])> = vec![(MANIFEST_ENTRY, &self.manifest), (COMPONENT_ENTRY, &self.component)];
        if let Some(sig) = &self.signature {
            parts.push((SIGNATURE_ENTRY, sig));
        }
        for (name, data) in parts {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_entry_type(tar::EntryType::Regular);
            // Writing into a Vec cannot fail, and the names are short constants.
            if let Err(e) = builder.append_data(&mut header, name, data) {
                tracing::error!(error = %e, "tar append into memory failed");
            }
        }
        builder.into_inner().unwrap_or_default()
    }
}

/// What `pack` and `inspect` report about a package.
#[derive(Debug, Clone)]
pub struct PackageInfo {
    /// Where it was written (pack) or read from.
    pub path: Option<PathBuf>,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// Size of the package file, bytes.
    pub size_bytes: usize,
    /// Size of the component, bytes.
    pub component_bytes: usize,
    /// sha256 of the component, hex.
    pub component_sha256: String,
    /// sha256 of plugin.toml, hex.
    pub manifest_sha256: String,
    /// The canonical digest a signature covers, `sha256:<hex>`.
    pub digest: String,
    /// Key id of the signature, if signed (not verified by `inspect`).
    pub signed_by: Option<String>,
    /// The component's top-level imports.
    pub imports: Vec<String>,
    /// The component's top-level exports.
    pub exports: Vec<String>,
}

impl PackageInfo {
    /// Requested capabilities with their descriptions, for the install prompt.
    pub fn capability_lines(&self) -> Vec<String> {
        self.manifest.requested().iter().map(|c: &Capability| format!("{:<18} {}", c.name(), c.description())).collect()
    }
}

/// Digest as `sha256:<hex>`.
pub(crate) fn digest_string(d: &[u8; 32]) -> String {
    format!("sha256:{}", hex::encode(d))
}

/// Describe a package's bytes (no trust decision: for `plugin inspect`).
pub fn inspect(bytes: &[u8]) -> Result<PackageInfo, PackageError> {
    let files = PackageFiles::from_bytes(bytes).map_err(PackageError::Malformed)?;
    let manifest = Manifest::parse(&files.manifest)?;
    let world = component::inspect(&files.component).map_err(PackageError::Malformed)?;
    let m = sign::sha256(&files.manifest);
    let c = sign::sha256(&files.component);
    let signed_by = match &files.signature {
        Some(s) => Some(SignatureRecord::parse(s).map_err(PackageError::Malformed)?.key_id),
        None => None,
    };
    Ok(PackageInfo {
        path: None,
        manifest,
        size_bytes: bytes.len(),
        component_bytes: files.component.len(),
        component_sha256: hex::encode(c),
        manifest_sha256: hex::encode(m),
        digest: digest_string(&sign::canonical_digest(&m, &c)),
        signed_by,
        imports: world.imports,
        exports: world.exports,
    })
}

/// Read a file with the path in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, PackageError> {
    std::fs::read(path).map_err(|e| PackageError::io(path, e))
}

/// Build an unsigned package from a plugin directory (holding `plugin.toml`) or a manifest
/// path, and a component; refuses a component that is invalid, targets an incompatible WIT
/// version, misses its world's exports or imports interfaces its manifest does not declare.
pub fn pack(manifest_or_dir: &Path, component: &Path, out: &Path) -> Result<PackageInfo, PackageError> {
    let started = Instant::now();
    let manifest_path = if manifest_or_dir.is_dir() { manifest_or_dir.join(MANIFEST_ENTRY) } else { manifest_or_dir.to_path_buf() };
    let files = PackageFiles { manifest: read_file(&manifest_path)?, component: read_file(component)?, signature: None };
    let bytes = pack_bytes(&files)?;
    std::fs::write(out, &bytes).map_err(|e| PackageError::io(out, e))?;
    let mut info = inspect(&bytes)?;
    info.path = Some(out.to_path_buf());
    tracing::info!(
        name = %info.manifest.name, version = %info.manifest.version, bytes = bytes.len(),
        ms = started.elapsed().as_secs_f64() * 1e3, "packed plugin"
    );
    Ok(info)
}

/// Check the parts the way `pack` does and return the package bytes.
pub fn pack_bytes(files: &PackageFiles) -> Result<Vec<u8>, PackageError> {
    let manifest = Manifest::parse(&files.manifest)?;
    let host = compat::host_version();
    compat::check_target(&manifest.wit, &host)
        .map_err(|why| crate::RefusedReason::WitIncompatible { what: format!("plugin.toml wit = \"{}\"", manifest.wit), why })?;
    let world = component::inspect(&files.component).map_err(crate::RefusedReason::NotAComponent)?;
    check_exports(&manifest, &world.exports)?;
    capabilities::check_imports(&world.imports, &manifest.capabilities, &manifest.unused_imports, &host)?;
    Ok(PackageFiles { signature: None, ..files.clone() }.to_bytes())
}

/// The component must export its world's functions.
pub(crate) fn check_exports(manifest: &Manifest, exports: &[String]) -> Result<(), crate::RefusedReason> {
    for required in manifest.world.exports() {
        if !exports.iter().any(|e| e == required) {
            return Err(crate::RefusedReason::WorldMismatch {
                world: manifest.world.name().into(),
                missing: (*required).into(),
            });
        }
    }
    Ok(())
}

/// What `sign` reports.
#[derive(Debug, Clone)]
pub struct SignatureInfo {
    /// The signing key's id.
    pub key_id: String,
    /// Its vendor.
    pub vendor: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// The canonical digest signed, `sha256:<hex>`.
    pub digest: String,
}

/// Sign package bytes with a key, returning the new package bytes (any old signature replaced).
pub fn sign_bytes(package: &[u8], key: &SecretKey) -> Result<(Vec<u8>, SignatureInfo), PackageError> {
    let mut files = PackageFiles::from_bytes(package).map_err(PackageError::Malformed)?;
    let manifest = Manifest::parse(&files.manifest)?;
    if manifest.vendor != key.vendor {
        return Err(PackageError::Key {
            path: PathBuf::from(&key.key_id),
            problem: format!("this key belongs to vendor '{}' but plugin.toml says vendor = \"{}\"", key.vendor, manifest.vendor),
        });
    }
    let record = key.sign(&files.manifest, &files.component);
    let digest = sign::canonical_digest(&sign::sha256(&files.manifest), &sign::sha256(&files.component));
    files.signature = Some(record.to_bytes());
    let info = SignatureInfo {
        key_id: key.key_id.clone(),
        vendor: key.vendor.clone(),
        fingerprint: key.public().fingerprint(),
        digest: digest_string(&digest),
    };
    Ok((files.to_bytes(), info))
}

/// Sign a package file in place with a secret key file.
pub fn sign(package: &Path, secret_key_file: &Path) -> Result<SignatureInfo, PackageError> {
    let key = SecretKey::load(secret_key_file)?;
    let bytes = read_file(package)?;
    let (signed, info) = sign_bytes(&bytes, &key)?;
    // Write next to it and rename, so a crash never leaves a half-written package.
    let tmp = package.with_extension("cyp.tmp");
    std::fs::write(&tmp, &signed).map_err(|e| PackageError::io(&tmp, e))?;
    std::fs::rename(&tmp, package).map_err(|e| PackageError::io(package, e))?;
    tracing::info!(key_id = %info.key_id, digest = %info.digest, "signed plugin package");
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> PackageFiles {
        PackageFiles { manifest: b"name = 1".to_vec(), component: vec![0, 97, 115, 109], signature: Some(b"sig".to_vec()) }
    }

    #[test]
    fn tar_round_trip_is_deterministic() {
        let a = files().to_bytes();
        assert_eq!(a, files().to_bytes());
        assert_eq!(PackageFiles::from_bytes(&a).unwrap(), files());
    }

    #[test]
    fn strict_reader() {
        assert!(PackageFiles::from_bytes(b"definitely not a tar").is_err());
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(1);
        b.append_data(&mut h, "plugin.toml", &b"x"[..]).unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_size(1);
        b.append_data(&mut h, "evil.sh", &b"x"[..]).unwrap();
        let err = PackageFiles::from_bytes(&b.into_inner().unwrap()).unwrap_err();
        assert!(err.contains("evil.sh"), "{err}");
        let unsigned = PackageFiles { signature: None, ..files() };
        let mut only_manifest = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(unsigned.manifest.len() as u64);
        only_manifest.append_data(&mut h, "plugin.toml", &unsigned.manifest[..]).unwrap();
        let err = PackageFiles::from_bytes(&only_manifest.into_inner().unwrap()).unwrap_err();
        assert!(err.contains("component.wasm"), "{err}");
    }
}
