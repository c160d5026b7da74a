//! Call detail records and the recordings index, with time and caller indexes for listing,
//! screen-pop "last calls" and retention purges.

use super::{Store, check_id, rkey, ts_key, tx_get, tx_put};
use crate::StoreError;
use crate::model::{Cdr, Page, Recording, normalize_phone};
use chrono::{DateTime, FixedOffset};

fn cdr_index_keys(c: &Cdr) -> [String; 2] {
    let ts = ts_key(&c.start);
    [format!("ix/ct/{ts}/{}", c.call_id), format!("ix/cc/{}/{ts}/{}", normalize_phone(&c.caller), c.call_id)]
}

/// Writes a CDR over `old` — the stored version, already read in the same transaction (every
/// caller needs it anyway) — and moves its index entries (time, caller) when they changed. Most
/// writes (answer, end) change neither, and then touch only the record.
fn write_cdr(tx: &dyn crate::backend::TxView, old: Option<&Cdr>, cdr: &Cdr) -> Result<(), StoreError> {
    let new_keys = cdr_index_keys(cdr);
    let old_keys = old.map(cdr_index_keys);
    if let Some(old_keys) = &old_keys {
        for k in old_keys.iter().filter(|k| !new_keys.contains(k)) {
            tx.remove(k.as_bytes())?;
        }
    }
    tx_put(tx, &rkey::<Cdr>(&cdr.call_id), cdr)?;
    for k in new_keys.iter().filter(|k| !old_keys.as_ref().is_some_and(|o| o.contains(k))) {
        tx.insert(k.as_bytes(), b"")?;
    }
    Ok(())
}

fn stored_cdr(tx: &dyn crate::backend::TxView, call_id: &str) -> Result<Option<Cdr>, StoreError> {
    tx_get::<Cdr>(tx, &rkey::<Cdr>(call_id))
}

impl Store {
    /// Insert or update a CDR (the host inserts at call start and updates on answer/end).
    pub async fn upsert_cdr(&self, cdr: &Cdr) -> Result<(), StoreError> {
        check_id("call id", &cdr.call_id)?;
        self.txn(|tx| write_cdr(tx, stored_cdr(tx, &cdr.call_id)?.as_ref(), cdr))?;
        self.flush().await
    }

    /// Like [`Store::upsert_cdr`], but variables already stored and absent from `cdr` are kept:
    /// what the API added to a call's record while the call was ending (an agent's wrap-up code)
    /// is not lost to the host's final write of the record it held in memory.
    pub async fn upsert_cdr_keeping_vars(&self, cdr: &Cdr) -> Result<(), StoreError> {
        self.upsert_cdrs_keeping_vars(std::slice::from_ref(cdr)).await.pop().unwrap_or(Ok(()))
    }

    /// [`Store::upsert_cdr_keeping_vars`] for many records in **one** transaction and one durable
    /// flush; one result per record, in order. A record with an invalid id gets its error and the
    /// others are still written.
    ///
    /// Why: every sled transaction seals the log buffer and hands a write to sled's I/O pool
    /// (which wakes all its threads for each job); at 1000 calls in progress two records a call
    /// meant ~330 transactions a second and ~14 % of a core in that pool (docs/benchmarks.md).
    /// The host's call-record writer groups what arrives together.
    pub async fn upsert_cdrs_keeping_vars(&self, cdrs: &[Cdr]) -> Vec<Result<(), StoreError>> {
        let mut results: Vec<Result<(), StoreError>> = cdrs.iter().map(|c| check_id("call id", &c.call_id)).collect();
        let valid: Vec<&Cdr> = cdrs.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|(c, _)| c).collect();
        if valid.is_empty() {
            return results;
        }
        let written = self.txn(|tx| {
            for cdr in &valid {
                let mut new = (*cdr).clone();
                // Read inside the transaction: it also sees an earlier record of this batch.
                let old = stored_cdr(tx, &cdr.call_id)?;
                if let Some(old) = &old {
                    for (k, v) in &old.vars {
                        new.vars.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                write_cdr(tx, old.as_ref(), &new)?;
            }
            Ok(())
        });
        let outcome = match written {
            Ok(()) => self.flush().await,
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            for r in results.iter_mut().filter(|r| r.is_ok()) {
                *r = Err(e.clone());
            }
        }
        results
    }

    /// Apply a change to a stored CDR atomically (e.g. set `end` and hang-up cause): read, change
    /// and write in one transaction, so a concurrent write is not overwritten with stale fields.
    pub async fn update_cdr(&self, call_id: &str, change: impl Fn(&mut Cdr)) -> Result<Cdr, StoreError> {
        let c = self.txn(|tx| {
            let old = stored_cdr(tx, call_id)?.ok_or_else(|| StoreError::NotFound(format!("cdr {call_id}")))?;
            let mut c = old.clone();
            change(&mut c);
            c.call_id = call_id.to_string();
            write_cdr(tx, Some(&old), &c)?;
            Ok(c)
        })?;
        self.flush().await?;
        Ok(c)
    }

    /// The most recent calls from a number, newest first.
    pub fn calls_from(&self, number: &str, limit: usize) -> Result<Vec<Cdr>, StoreError> {
        let ids = self.index_ids(&format!("ix/cc/{}/", normalize_phone(number)), true)?;
        let mut out = Vec::new();
        for id in ids.into_iter().take(limit) {
            if let Some(c) = self.get::<Cdr>(&id)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// CDRs started in `[from, to)`, newest first, filtered and paginated.
    pub fn cdrs_between(
        &self,
        from: Option<DateTime<FixedOffset>>,
        to: Option<DateTime<FixedOffset>>,
        filter: impl Fn(&Cdr) -> bool,
        offset: usize,
        limit: usize,
    ) -> Result<Page<Cdr>, StoreError> {
        let start = format!("ix/ct/{}", from.as_ref().map(ts_key).unwrap_or_default());
        let end = match &to {
            Some(t) => format!("ix/ct/{}", ts_key(t)),
            None => "ix/ct0".to_string(),
        };
        let mut items = Vec::new();
        let mut total = 0;
        for r in self.kv().scan_range(start.as_bytes(), end.as_bytes()).rev() {
            let (k, _) = r?;
            let k = String::from_utf8_lossy(&k);
            let Some(id) = k.rsplit('/').next() else { continue };
            if let Some(c) = self.get::<Cdr>(id)?
                && filter(&c)
            {
                if total >= offset && items.len() < limit {
                    items.push(c);
                }
                total += 1;
            }
        }
        Ok(Page { items, total })
    }

    /// Calls that never got an end time (in progress at a crash): mark them interrupted.
    /// The runtime calls this once at start-up before taking calls. Returns how many.
    pub async fn mark_interrupted_calls(&self, now: DateTime<FixedOffset>) -> Result<usize, StoreError> {
        let open = self.list::<Cdr>(|c| c.end.is_none(), 0, usize::MAX)?;
        for mut c in open.items.clone() {
            c.end = Some(now);
            c.interrupted = true;
            c.hangup_cause.get_or_insert_with(|| "interrupted by restart".into());
            self.upsert_cdr(&c).await?;
        }
        Ok(open.total)
    }

    /// Add a recording to the index. The file name must be a plain name (no path traversal).
    pub async fn insert_recording(&self, rec: &Recording) -> Result<(), StoreError> {
        check_id("recording id", &rec.id)?;
        if rec.file.is_empty() || rec.file.contains(['/', '\\']) || rec.file.starts_with('.') {
            return Err(StoreError::Invalid(format!("recording file '{}' must be a plain file name", rec.file)));
        }
        let ts = ts_key(&rec.created_at);
        self.txn(|tx| {
            tx_put(tx, &rkey::<Recording>(&rec.id), rec)?;
            tx.insert(format!("ix/rt/{ts}/{}", rec.id).as_bytes(), b"")
        })?;
        self.flush().await
    }

    /// A recording by id.
    pub fn get_recording(&self, id: &str) -> Result<Option<Recording>, StoreError> {
        self.get::<Recording>(id)
    }
}
