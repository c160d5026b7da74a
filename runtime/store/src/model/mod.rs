//! The data model: plain serde types persisted with a versioned encoding.
//!
//! Every stored value is `[ENCODING_VERSION] ++ JSON`. The version byte lets a later release
//! change the encoding (e.g. to bincode, or a new field layout) and still read old records:
//! `decode` dispatches on the first byte. JSON was chosen over bincode because records are small,
//! optional fields evolve often, and an operator can inspect a dump with standard tools.

mod billing;
mod calls;
mod content;
mod directory;
mod order;
mod people;

pub use billing::*;
pub use calls::*;
pub use content::*;
pub use directory::*;
pub use order::*;
pub use people::*;

use crate::StoreError;
use serde::{Serialize, de::DeserializeOwned};

/// Current on-disk encoding version (1 = JSON).
pub const ENCODING_VERSION: u8 = 1;

/// Encode a record as version byte + JSON.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::with_capacity(128);
    out.push(ENCODING_VERSION);
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Encoding(e.to_string()))?;
    Ok(out)
}

/// Decode a record written by any supported encoding version.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&1, rest)) => {
            serde_json::from_slice(rest).map_err(|e| StoreError::Encoding(e.to_string()))
        }
        Some((v, _)) => Err(StoreError::Encoding(format!("unknown encoding version {v}"))),
        None => Err(StoreError::Encoding("empty value".into())),
    }
}

/// A top-level record kept under its own key prefix; gives generic get/put/list for free.
pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Key prefix of this record kind, e.g. `"e/"` for estates.
    const PREFIX: &'static str;
    /// Stable primary key (without prefix).
    fn key(&self) -> String;
}

/// One page of a listing plus the total count matching the filter.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    /// Items of this page.
    pub items: Vec<T>,
    /// Number of items matching the filter across all pages.
    pub total: usize,
}

/// Normalize a phone number as dialled to the digits we index: strips spaces, dashes, `+86`/`0086`.
pub fn normalize_phone(raw: &str) -> String {
    let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    let plus86 = raw.trim_start().starts_with('+') && digits.starts_with("86");
    if let Some(rest) = digits.strip_prefix("0086") {
        rest.to_string()
    } else if plus86 || (digits.len() == 13 && digits.starts_with("861")) {
        digits[2..].to_string()
    } else {
        digits
    }
}

/// Whether a normalized number looks like a Chinese mobile (11 digits, 1[3-9]…) or a landline
/// with area code (0 + 9–11 digits).
pub fn is_valid_phone(normalized: &str) -> bool {
    let b = normalized.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    (b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]))
        || (b.first() == Some(&b'0') && (10..=12).contains(&b.len()))
}

/// Mask a phone number for roles that must not see it: `13812345678` → `138****5678`.
pub fn mask_phone(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_normalization_and_masking() {
        assert_eq!(normalize_phone("+86 138-0013-8000"), "13800138000");
        assert_eq!(normalize_phone("008613800138000"), "13800138000");
        assert_eq!(normalize_phone("8613800138000"), "13800138000");
        assert!(is_valid_phone("13800138000"));
        assert!(is_valid_phone("02161234567"));
        assert!(!is_valid_phone("1380013800"));
        assert!(!is_valid_phone("12800138000"));
        assert_eq!(mask_phone("13812345678"), "138****5678");
    }

    #[test]
    fn versioned_encoding_round_trip_and_rejects_unknown_version() {
        let e = Estate { id: "a".into(), name: "幸福花园".into(), office_phone: None, address: None };
        let bytes = encode(&e).unwrap();
        assert_eq!(bytes[0], ENCODING_VERSION);
        let back: Estate = decode(&bytes).unwrap();
        assert_eq!(back.name, "幸福花园");
        let mut bad = bytes.clone();
        bad[0] = 9;
        assert!(decode::<Estate>(&bad).is_err());
    }
}
