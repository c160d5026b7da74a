//! Users, the audit log, and retention purges.

use super::{Store, rkey, ts_key};
use crate::StoreError;
use crate::model::{AuditEntry, Record, CallbackTask, Cdr, Recording, RetentionPolicy, decode};
use chrono::{DateTime, Duration, FixedOffset};

/// What a retention purge removed; recordings' files are deleted by the caller (the store does
/// not own the recordings directory).
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PurgeReport {
    /// CDRs removed.
    pub cdrs: usize,
    /// Recording index entries removed.
    pub recordings: usize,
    /// File names of the removed recordings, to delete from disk.
    pub recording_files: Vec<String>,
    /// Audit entries removed.
    pub audit: usize,
    /// Finished callback tasks removed.
    pub callbacks: usize,
}

impl Store {
    /// Append to the audit log (durable on return).
    pub async fn audit(&self, actor: &str, action: &str, target: &str, detail: Option<String>) -> Result<AuditEntry, StoreError> {
        let e = AuditEntry {
            seq: self.kv().next_id()?,
            at: self.now(),
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            detail,
        };
        self.kv().insert(rkey::<AuditEntry>(&format!("{:020}", e.seq)).as_bytes(), &crate::model::encode(&e)?)?;
        self.flush().await?;
        Ok(e)
    }

    /// Remove data older than the policy allows, relative to `now`.
    pub async fn purge(&self, policy: &RetentionPolicy, now: DateTime<FixedOffset>) -> Result<PurgeReport, StoreError> {
        let mut rep = PurgeReport::default();
        let cutoff = |days: u32| (days > 0).then(|| now - Duration::days(i64::from(days)));
        if let Some(c) = cutoff(policy.cdr_days) {
            let end = format!("ix/ct/{}", ts_key(&c));
            let keys: Vec<Vec<u8>> =
                self.kv().scan_range(b"ix/ct/", end.as_bytes()).map(|r| r.map(|(k, _)| k)).collect::<Result<_, _>>()?;
            for k in keys {
                let ks = String::from_utf8_lossy(&k).into_owned();
                let Some(id) = ks.rsplit('/').next() else { continue };
                if let Some(cdr) = self.get::<Cdr>(id)? {
                    let ts = ts_key(&cdr.start);
                    let cc = format!("ix/cc/{}/{ts}/{id}", crate::model::normalize_phone(&cdr.caller));
                    self.txn(|tx| {
                        tx.remove(&k)?;
                        tx.remove(cc.as_bytes())?;
                        tx.remove(rkey::<Cdr>(id).as_bytes())
                    })?;
                    rep.cdrs += 1;
                }
            }
        }
        if let Some(c) = cutoff(policy.recording_days) {
            let end = format!("ix/rt/{}", ts_key(&c));
            let keys: Vec<Vec<u8>> =
                self.kv().scan_range(b"ix/rt/", end.as_bytes()).map(|r| r.map(|(k, _)| k)).collect::<Result<_, _>>()?;
            for k in keys {
                let ks = String::from_utf8_lossy(&k).into_owned();
                let Some(id) = ks.rsplit('/').next() else { continue };
                if let Some(rec) = self.get::<Recording>(id)? {
                    rep.recording_files.push(rec.file);
                }
                self.txn(|tx| {
                    tx.remove(&k)?;
                    tx.remove(rkey::<Recording>(id).as_bytes())
                })?;
                rep.recordings += 1;
            }
        }
        if let Some(c) = cutoff(policy.audit_days) {
            let keys: Vec<(Vec<u8>, Vec<u8>)> =
                self.kv().scan_prefix(AuditEntry::PREFIX.as_bytes()).collect::<Result<_, _>>()?;
            for (k, v) in keys {
                let e: AuditEntry = decode(&v)?;
                if e.at < c {
                    self.kv().remove(&k)?;
                    rep.audit += 1;
                }
            }
        }
        if let Some(c) = cutoff(policy.callback_days) {
            let old = self.list::<CallbackTask>(|t| t.done && t.created_at < c, 0, usize::MAX)?;
            for t in old.items {
                self.kv().remove(rkey::<CallbackTask>(&t.id).as_bytes())?;
                rep.callbacks += 1;
            }
        }
        self.flush().await?;
        Ok(rep)
    }
}

