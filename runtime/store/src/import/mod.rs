//! CSV import of the firm's master data (estates, units, owners, bills, warranty, KB,
//! announcements) with a per-line report.
//!
//! Contract: good rows are stored, each bad row is reported as `line N: reason` and skipped;
//! keys are derived from the data (unit address, fee+period, name+phone), so importing the same
//! file twice leaves the store unchanged. The whole import is flushed once at the end: the report
//! is returned only after every imported row is durable.

mod decode;
mod rows;

use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use utoipa::ToSchema;

/// What a file contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// `id,name,office_phone,address`
    Estates,
    /// `estate_id,building,entrance,room,area_m2,move_in_date`
    Units,
    /// `estate_id,building,entrance,room,name,honorific,role,phones,vip,language`
    Owners,
    /// `estate_id,building,entrance,room,fee_type,period,amount_yuan,paid,due_date`
    Bills,
    /// `estate_id,item,months`
    Warranty,
    /// `id,topic,title,answer,body,tags`
    Kb,
    /// `id,estate_id,text,start,end`
    Announcements,
}

impl std::str::FromStr for ImportKind {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "estates" => ImportKind::Estates,
            "units" => ImportKind::Units,
            "owners" | "residents" => ImportKind::Owners,
            "bills" => ImportKind::Bills,
            "warranty" => ImportKind::Warranty,
            "kb" => ImportKind::Kb,
            "announcements" => ImportKind::Announcements,
            other => {
                return Err(StoreError::Invalid(format!(
                    "unknown import kind '{other}' (estates, units, owners, bills, warranty, kb, announcements)"
                )));
            }
        })
    }
}

/// One rejected line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BadLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// Why it was rejected.
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The outcome of one import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    /// Kind imported.
    pub kind: ImportKind,
    /// Detected encoding.
    pub encoding: String,
    /// Data rows seen (excluding the header).
    pub rows: usize,
    /// Rows stored.
    pub imported: usize,
    /// Rows rejected, with reasons.
    pub bad: Vec<BadLine>,
}

/// Import a CSV file (the lead's `courtyard import <kind> <file> --data DIR` calls this).
pub async fn import_file(store: &Store, kind: ImportKind, path: &Path) -> Result<ImportReport, StoreError> {
    let bytes = std::fs::read(path).map_err(|e| StoreError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    import_bytes(store, kind, &bytes).await
}

/// Import CSV bytes (UTF-8 or GBK, detected).
pub async fn import_bytes(store: &Store, kind: ImportKind, bytes: &[u8]) -> Result<ImportReport, StoreError> {
    let dec = decode::decode(bytes);
    let mut bad: Vec<BadLine> =
        dec.bad_lines.iter().map(|&l| BadLine { line: l, reason: format!("wrong encoding (file is {})", dec.encoding) }).collect();
    let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(dec.text.as_bytes());
    let headers = rdr.headers().map_err(|e| StoreError::Invalid(format!("line 1: cannot read header: {e}")))?.clone();
    let cols: HashMap<String, usize> =
        headers.iter().enumerate().map(|(i, h)| (h.trim().to_lowercase(), i)).collect();
    let mut ctx = rows::Ctx::new(store, kind, cols)?;
    let mut rows = 0;
    let mut imported = 0;
    for rec in rdr.records() {
        let (line, result) = match rec {
            Ok(r) => {
                let line = r.position().map(|p| p.line() as usize).unwrap_or(0);
                if r.iter().all(str::is_empty) {
                    continue;
                }
                (line, ctx.row(&r)?)
            }
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                (line, Err(format!("malformed CSV: {e}")))
            }
        };
        rows += 1;
        match result {
            Ok(()) => imported += 1,
            Err(reason) => bad.push(BadLine { line, reason }),
        }
    }
    rows += dec.bad_lines.len();
    store.flush().await?;
    bad.sort_by_key(|b| b.line);
    tracing::info!(?kind, rows, imported, bad = bad.len(), "import finished");
    Ok(ImportReport { kind, encoding: dec.encoding.into(), rows, imported, bad })
}

/// File names `import_dir` looks for, in dependency order.
pub const DIR_FILES: &[(ImportKind, &str)] = &[
    (ImportKind::Estates, "estates.csv"),
    (ImportKind::Units, "units.csv"),
    (ImportKind::Owners, "owners.csv"),
    (ImportKind::Bills, "bills.csv"),
    (ImportKind::Warranty, "warranty.csv"),
    (ImportKind::Kb, "kb.csv"),
    (ImportKind::Announcements, "announcements.csv"),
];

/// Import every known CSV present in `dir` (e.g. `examples/demo-data`) in dependency order;
/// missing files are skipped. Idempotent, so the demo can run it at every start.
pub async fn import_dir(store: &Store, dir: &Path) -> Result<Vec<ImportReport>, StoreError> {
    let mut out = Vec::new();
    for (kind, name) in DIR_FILES {
        let p = dir.join(name);
        if p.is_file() {
            out.push(import_file(store, *kind, &p).await?);
        }
    }
    Ok(out)
}
