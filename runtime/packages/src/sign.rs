//! ed25519 signatures over a package's canonical digest, and the key files that make them.
//!
//! What is signed is not the package file (a tar whose bytes depend on the tool that wrote it)
//! but a **canonical digest**: `sha256("courtyard-plugin-v1\0" ‖ sha256(plugin.toml bytes) ‖
//! sha256(component bytes))`. The signature record (`signature.toml` inside the package) also
//! stores the two inner digests, so verification can say *which* part was changed
//! (manifest or component) instead of only "bad signature".
//!
//! Key files are small TOML documents carrying the key id and vendor with the key, so the
//! operator adds a vendor's `.pub` to the trust store without retyping either:
//!
//! ```toml
//! kind = "courtyard-ed25519-public"     # or courtyard-ed25519-secret (file mode 0600)
//! key-id = "acme-2026"
//! vendor = "acme"
//! key = "<64 hex digits>"               # public key, or the 32-byte secret seed
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::PackageError;

/// Domain separation for the canonical digest, so the signature cannot be replayed elsewhere.
const DOMAIN: &[u8] = b"courtyard-plugin-v1\0";
/// `kind` of a secret key file.
const SECRET_KIND: &str = "courtyard-ed25519-secret";
/// `kind` of a public key file.
const PUBLIC_KIND: &str = "courtyard-ed25519-public";
/// `format` of a signature record.
pub const SIGNATURE_FORMAT: &str = "courtyard-signature-v1";

/// sha256 of some bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The canonical digest signed for a package: binds the manifest and the component together.
pub fn canonical_digest(manifest_sha256: &[u8; 32], component_sha256: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(manifest_sha256);
    h.update(component_sha256);
    h.finalize().into()
}

/// Short, human-comparable fingerprint of a public key (`SHA256:` + 16 hex digits).
pub fn fingerprint(key: &VerifyingKey) -> String {
    format!("SHA256:{}", &hex::encode(sha256(key.as_bytes()))[..16])
}

/// On-disk shape of both key files.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct KeyFile {
    kind: String,
    key_id: String,
    vendor: String,
    key: String,
}

/// A vendor's signing key, loaded from its secret key file.
pub struct SecretKey {
    /// Key id recorded in signatures and looked up in trust stores.
    pub key_id: String,
    /// Vendor the key belongs to.
    pub vendor: String,
    key: SigningKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey").field("key_id", &self.key_id).field("vendor", &self.vendor).finish_non_exhaustive()
    }
}

/// A vendor's public key, from its `.pub` file or a trust store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Key id.
    pub key_id: String,
    /// Vendor the key belongs to.
    pub vendor: String,
    /// The ed25519 key.
    pub key: VerifyingKey,
}

/// Where `keygen` wrote the pair.
#[derive(Debug, Clone)]
pub struct KeyPairPaths {
    /// `<dir>/<key-id>.key`, mode 0600.
    pub secret: PathBuf,
    /// `<dir>/<key-id>.pub`, to hand to operators.
    pub public: PathBuf,
    /// Fingerprint of the public key.
    pub fingerprint: String,
}

fn key_err(path: &Path, problem: impl Into<String>) -> PackageError {
    PackageError::Key { path: path.to_path_buf(), problem: problem.into() }
}

fn check_key_id(what: &str, s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok { Ok(()) } else { Err(format!("{what} '{s}' must be 1-63 letters, digits, '-', '_' or '.'")) }
}

/// Decode 32 hex-encoded bytes.
pub(crate) fn hex32(s: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(s.trim()).map_err(|e| format!("not hex: {e}"))?;
    bytes.try_into().map_err(|b: Vec<u8>| format!("{} bytes, expected 32", b.len()))
}

impl SecretKey {
    /// A fresh random key.
    pub fn generate(key_id: &str, vendor: &str) -> Result<SecretKey, String> {
        check_key_id("key id", key_id)?;
        check_key_id("vendor", vendor)?;
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        Ok(SecretKey { key_id: key_id.into(), vendor: vendor.into(), key: SigningKey::from_bytes(&seed) })
    }

    /// Load a secret key file.
    pub fn load(path: &Path) -> Result<SecretKey, PackageError> {
        let text = fs::read_to_string(path).map_err(|e| PackageError::io(path, e))?;
        let f: KeyFile = toml::from_str(&text).map_err(|e| key_err(path, e.to_string()))?;
        if f.kind != SECRET_KIND {
            return Err(key_err(path, format!("kind is '{}', expected '{SECRET_KIND}' (is this the .pub file?)", f.kind)));
        }
        let seed = hex32(&f.key).map_err(|e| key_err(path, format!("key: {e}")))?;
        Ok(SecretKey { key_id: f.key_id, vendor: f.vendor, key: SigningKey::from_bytes(&seed) })
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey { key_id: self.key_id.clone(), vendor: self.vendor.clone(), key: self.key.verifying_key() }
    }

    /// Write the secret key file (mode 0600 on Unix).
    pub fn save(&self, path: &Path) -> Result<(), PackageError> {
        let f = KeyFile {
            kind: SECRET_KIND.into(),
            key_id: self.key_id.clone(),
            vendor: self.vendor.clone(),
            key: hex::encode(self.key.to_bytes()),
        };
        let text = toml::to_string(&f).map_err(|e| key_err(path, e.to_string()))?;
        write_private(path, text.as_bytes())
    }

    /// Sign a package's manifest and component.
    pub fn sign(&self, manifest: &[u8], component: &[u8]) -> SignatureRecord {
        let m = sha256(manifest);
        let c = sha256(component);
        let digest = canonical_digest(&m, &c);
        let sig: Signature = self.key.sign(&digest);
        SignatureRecord {
            format: SIGNATURE_FORMAT.into(),
            algorithm: "ed25519".into(),
            key_id: self.key_id.clone(),
            vendor: self.vendor.clone(),
            manifest_sha256: hex::encode(m),
            component_sha256: hex::encode(c),
            signed_at: Utc::now(),
            signature: hex::encode(sig.to_bytes()),
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| PackageError::io(path, e))?;
    f.write_all(bytes).map_err(|e| PackageError::io(path, e))
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    fs::write(path, bytes).map_err(|e| PackageError::io(path, e))
}

impl PublicKey {
    /// Load a `.pub` file.
    pub fn load(path: &Path) -> Result<PublicKey, PackageError> {
        let text = fs::read_to_string(path).map_err(|e| PackageError::io(path, e))?;
        let f: KeyFile = toml::from_str(&text).map_err(|e| key_err(path, e.to_string()))?;
        if f.kind != PUBLIC_KIND {
            return Err(key_err(path, format!("kind is '{}', expected '{PUBLIC_KIND}'", f.kind)));
        }
        let key = parse_public(&f.key).map_err(|e| key_err(path, format!("key: {e}")))?;
        Ok(PublicKey { key_id: f.key_id, vendor: f.vendor, key })
    }

    /// Write the `.pub` file.
    pub fn save(&self, path: &Path) -> Result<(), PackageError> {
        let f = KeyFile {
            kind: PUBLIC_KIND.into(),
            key_id: self.key_id.clone(),
            vendor: self.vendor.clone(),
            key: hex::encode(self.key.as_bytes()),
        };
        let text = toml::to_string(&f).map_err(|e| key_err(path, e.to_string()))?;
        fs::write(path, text).map_err(|e| PackageError::io(path, e))
    }

    /// The key's fingerprint.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.key)
    }
}

/// Parse a hex public key, rejecting points that are not valid ed25519 keys.
pub(crate) fn parse_public(s: &str) -> Result<VerifyingKey, String> {
    let bytes = hex32(s)?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("not an ed25519 public key: {e}"))
}

/// Generate a key pair into `dir` as `<key-id>.key` (0600) and `<key-id>.pub`; never overwrites.
pub fn keygen(key_id: &str, vendor: &str, dir: &Path) -> Result<KeyPairPaths, PackageError> {
    let secret = SecretKey::generate(key_id, vendor).map_err(|e| key_err(dir, e))?;
    fs::create_dir_all(dir).map_err(|e| PackageError::io(dir, e))?;
    let secret_path = dir.join(format!("{key_id}.key"));
    let public_path = dir.join(format!("{key_id}.pub"));
    if public_path.exists() {
        return Err(key_err(&public_path, "already exists; choose another key id"));
    }
    secret.save(&secret_path)?;
    let public = secret.public();
    public.save(&public_path)?;
    tracing::info!(key_id, vendor, fingerprint = %public.fingerprint(), "generated signing key");
    Ok(KeyPairPaths { secret: secret_path, public: public_path, fingerprint: public.fingerprint() })
}

/// `signature.toml` inside a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SignatureRecord {
    /// Always [`SIGNATURE_FORMAT`].
    pub format: String,
    /// Always `ed25519`.
    pub algorithm: String,
    /// Id of the signing key.
    pub key_id: String,
    /// Vendor the signer claims (informational; the trust store decides).
    pub vendor: String,
    /// sha256 of `plugin.toml` as signed, hex.
    pub manifest_sha256: String,
    /// sha256 of the component as signed, hex.
    pub component_sha256: String,
    /// When it was signed (informational, not trusted: nothing timestamps it).
    pub signed_at: DateTime<Utc>,
    /// ed25519 signature of the canonical digest, hex (64 bytes).
    pub signature: String,
}

impl SignatureRecord {
    /// Parse `signature.toml`.
    pub fn parse(bytes: &[u8]) -> Result<SignatureRecord, String> {
        let text = std::str::from_utf8(bytes).map_err(|e| format!("signature.toml is not UTF-8: {e}"))?;
        let rec: SignatureRecord = toml::from_str(text).map_err(|e| format!("signature.toml: {e}"))?;
        if rec.format != SIGNATURE_FORMAT || rec.algorithm != "ed25519" {
            return Err(format!(
                "signature.toml: format '{}' / algorithm '{}' not supported (expected {SIGNATURE_FORMAT} / ed25519)",
                rec.format, rec.algorithm
            ));
        }
        Ok(rec)
    }

    /// Serialize as `signature.toml`.
    pub fn to_bytes(&self) -> Vec<u8> {
        // A record of plain strings and a date always serializes.
        toml::to_string(self).unwrap_or_default().into_bytes()
    }

    /// Check the signature over the digests *recorded in this record* with `key`. The caller
    /// compares the recorded digests with the package's actual bytes.
    pub fn verify_with(&self, key: &VerifyingKey) -> Result<[u8; 32], String> {
        let m = hex32(&self.manifest_sha256).map_err(|e| format!("manifest-sha256: {e}"))?;
        let c = hex32(&self.component_sha256).map_err(|e| format!("component-sha256: {e}"))?;
        let sig_bytes = hex::decode(&self.signature).map_err(|e| format!("signature: not hex: {e}"))?;
        let sig = Signature::from_slice(&sig_bytes).map_err(|e| format!("signature: {e}"))?;
        let digest = canonical_digest(&m, &c);
        key.verify(&digest, &sig).map_err(|_| "the signature does not match this key".to_string())?;
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_wrong_key_fails() {
        let a = SecretKey::generate("acme-1", "acme").unwrap();
        let b = SecretKey::generate("acme-1", "acme").unwrap();
        let rec = a.sign(b"manifest", b"component");
        assert!(rec.verify_with(&a.public().key).is_ok());
        assert!(rec.verify_with(&b.public().key).is_err());
        let parsed = SignatureRecord::parse(&rec.to_bytes()).unwrap();
        assert_eq!(parsed, rec);
    }

    #[test]
    fn keygen_writes_loadable_files_and_refuses_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let paths = keygen("acme-2026", "acme", dir.path()).unwrap();
        let secret = SecretKey::load(&paths.secret).unwrap();
        let public = PublicKey::load(&paths.public).unwrap();
        assert_eq!(secret.public(), public);
        assert_eq!(public.fingerprint(), paths.fingerprint);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&paths.secret).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(keygen("acme-2026", "acme", dir.path()).is_err());
        let err = SecretKey::load(&paths.public).unwrap_err().to_string();
        assert!(err.contains(".pub"), "{err}");
        assert!(SecretKey::generate("bad id!", "acme").is_err());
    }
}
