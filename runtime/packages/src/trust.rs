//! The operator's trusted vendor keys.
//!
//! A package is only as trustworthy as the key that signed it, so the operator lists the keys
//! they accept, each bound to **one vendor** (a key trusted for vendor `beta` cannot sign a
//! package claiming to be from `acme`) and optionally an **expiry** (a vendor rotates keys; an
//! old key stops being accepted without editing anything). The file is `trust.toml`:
//!
//! ```toml
//! [[key]]
//! key-id = "acme-2026"
//! vendor = "acme"
//! key = "<64 hex digits of the ed25519 public key>"
//! expires = "2027-01-01T00:00:00Z"   # optional; RFC 3339, or YYYY-MM-DD (= 00:00 UTC that day)
//! ```

use std::fs;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::error::PackageError;
use crate::sign::{PublicKey, fingerprint, parse_public};

/// One trusted key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// Key id as recorded in signatures.
    pub key_id: String,
    /// The only vendor this key may sign for.
    pub vendor: String,
    /// The public key.
    pub key: VerifyingKey,
    /// After this instant the key is refused.
    pub expires: Option<DateTime<Utc>>,
}

impl TrustedKey {
    /// The key's fingerprint, for display.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.key)
    }
}

/// The set of trusted keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustStore {
    keys: Vec<TrustedKey>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    #[serde(default)]
    key: Vec<RawKey>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawKey {
    key_id: String,
    vendor: String,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
}

/// Parse an expiry: RFC 3339 or a plain date (midnight UTC).
pub fn parse_expiry(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("'{s}' is neither an RFC 3339 time nor a YYYY-MM-DD date"))
}

impl TrustStore {
    /// An empty store (trusts nothing).
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// Parse `trust.toml` text; errors name the entry.
    pub fn from_toml(text: &str) -> Result<TrustStore, String> {
        let raw: RawStore = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut store = TrustStore::new();
        for (i, k) in raw.key.into_iter().enumerate() {
            let at = |e: String| format!("key #{} ('{}'): {e}", i + 1, k.key_id);
            let key = parse_public(&k.key).map_err(|e| at(format!("key: {e}")))?;
            let expires = k.expires.as_deref().map(parse_expiry).transpose().map_err(|e| at(format!("expires: {e}")))?;
            if store.get(&k.key_id).is_some() {
                return Err(at("key id listed twice".into()));
            }
            store.keys.push(TrustedKey { key_id: k.key_id.clone(), vendor: k.vendor.clone(), key, expires });
        }
        Ok(store)
    }

    /// Load `trust.toml`.
    pub fn load(path: &Path) -> Result<TrustStore, PackageError> {
        let text = fs::read_to_string(path).map_err(|e| PackageError::io(path, e))?;
        TrustStore::from_toml(&text).map_err(|problem| PackageError::Trust { path: path.to_path_buf(), problem })
    }

    /// Serialize as `trust.toml`.
    pub fn to_toml(&self) -> String {
        let raw = RawStore {
            key: self
                .keys
                .iter()
                .map(|k| RawKey {
                    key_id: k.key_id.clone(),
                    vendor: k.vendor.clone(),
                    key: hex::encode(k.key.as_bytes()),
                    expires: k.expires.map(|t| t.to_rfc3339()),
                })
                .collect(),
        };
        toml::to_string(&raw).unwrap_or_default()
    }

    /// Write `trust.toml`.
    pub fn save(&self, path: &Path) -> Result<(), PackageError> {
        fs::write(path, self.to_toml()).map_err(|e| PackageError::io(path, e))
    }

    /// Trust a vendor key (replacing an entry with the same key id).
    pub fn add(&mut self, key: &PublicKey, expires: Option<DateTime<Utc>>) {
        self.remove(&key.key_id);
        self.keys.push(TrustedKey { key_id: key.key_id.clone(), vendor: key.vendor.clone(), key: key.key, expires });
    }

    /// Stop trusting a key; returns whether it was there.
    pub fn remove(&mut self, key_id: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| k.key_id != key_id);
        before != self.keys.len()
    }

    /// The entry for a key id.
    pub fn get(&self, key_id: &str) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.key_id == key_id)
    }

    /// All entries.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::SecretKey;

    #[test]
    fn round_trip_and_expiry_forms() {
        let k = SecretKey::generate("acme-1", "acme").unwrap().public();
        let mut store = TrustStore::new();
        store.add(&k, Some(parse_expiry("2027-01-01").unwrap()));
        let text = store.to_toml();
        let back = TrustStore::from_toml(&text).unwrap();
        assert_eq!(back, store);
        assert_eq!(back.get("acme-1").unwrap().expires.unwrap().to_rfc3339(), "2027-01-01T00:00:00+00:00");
        assert!(parse_expiry("2027-01-01T08:00:00+08:00").is_ok());
        assert!(parse_expiry("next year").is_err());
    }

    #[test]
    fn bad_entries_are_named() {
        let err = TrustStore::from_toml("[[key]]\nkey-id = \"x\"\nvendor = \"v\"\nkey = \"abcd\"\n").unwrap_err();
        assert!(err.contains("'x'") && err.contains("key"), "{err}");
        let k = hex::encode(SecretKey::generate("a", "v").unwrap().public().key.as_bytes());
        let err = TrustStore::from_toml(&format!("[[key]]\nkey-id = \"a\"\nvendor = \"v\"\nkey = \"{k}\"\nexpires = \"soon\"\n")).unwrap_err();
        assert!(err.contains("expires"), "{err}");
        let err = TrustStore::from_toml(&format!("[[key]]\nkey-id = \"a\"\nvendor = \"v\"\nkey = \"{k}\"\ntrusted = true\n")).unwrap_err();
        assert!(err.contains("trusted"), "{err}");
    }
}
