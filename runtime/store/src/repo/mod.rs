//! [`Store`]: typed repositories over a [`KvBackend`], with secondary indexes kept in the same
//! transaction as their record.
//!
//! Key layout (one ordered keyspace, `/`-separated):
//! - records: `<Record::PREFIX><key>` (e.g. `u/xfhy-3-2-1502`, `o/2611270007`)
//! - `ix/ph/<phone>/<resident>`: phone → residents (caller lookup is one prefix seek)
//! - `ix/ru/<unit>/<resident>`: unit → residents
//! - `ix/ub/<estate>/<building>/<entrance>/<room>` → unit id
//! - `ix/ou/<unit>/<order>`, `ix/os/<state>/<order>`, `ix/oc/<caller>/<order>`: orders
//! - `oh/<order>/<seq:06>`: work-order history
//! - `ix/ct/<start µs>/<call>`, `ix/cc/<caller>/<start µs>/<call>`: CDRs by time and caller
//! - `ix/rt/<created µs>/<recording>`: recordings by time (retention)
//! - `seq/o/<YYMMDD>`: daily work-order counter
//! - `kv/<plugin>/<key>`: plugin key-value data (raw bytes)

mod calls;
mod content;
mod directory;
mod orders;
mod people;

pub use directory::CallerView;
pub use people::PurgeReport;

use crate::backend::{KvBackend, SledBackend, TxView};
use crate::kb::KbIndex;
use crate::model::{Page, Record, decode, encode};
use crate::{Clock, StoreError, SystemClock};
use chrono::{DateTime, FixedOffset};
use serde::{Serialize, de::DeserializeOwned};
use std::cell::RefCell;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Options for opening a store.
#[derive(Clone)]
pub struct StoreOptions {
    /// Time source (tests inject a [`crate::FixedClock`]).
    pub clock: Arc<dyn Clock>,
    /// Most memory the database's page cache may hold. sled's own default is 1 GiB, which a
    /// node's RSS grows towards as call records accumulate; an operator sizes it here.
    pub cache_bytes: u64,
}

/// Default page-cache bound: 128 MiB keeps a year of a mid-size centre's hot records in memory.
pub const DEFAULT_CACHE_BYTES: u64 = 128 * 1024 * 1024;

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { clock: Arc::new(SystemClock::default()), cache_bytes: DEFAULT_CACHE_BYTES }
    }
}

/// The call center's data. Cheap to share as `Arc<Store>`; all methods take `&self`.
///
/// Reads are synchronous (sub-microsecond point reads in sled). Writes are `async` and resolve
/// only after the backend's durability barrier: once an `async` write returns `Ok`, the data
/// survives a process kill.
pub struct Store {
    kv: Arc<dyn KvBackend>,
    clock: Arc<dyn Clock>,
    kb: Mutex<Option<Arc<KbIndex>>>,
}

impl Store {
    /// Open (or create) a sled store in `dir` with the system clock (UTC+8).
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, StoreOptions::default())
    }

    /// Open a sled store with options.
    pub fn open_with(dir: &Path, opts: StoreOptions) -> Result<Store, StoreError> {
        let backend = SledBackend::open(dir, opts.cache_bytes)?;
        Ok(Store::with_backend(Arc::new(backend), opts))
    }

    /// Use any backend (a future redb backend plugs in here).
    pub fn with_backend(kv: Arc<dyn KvBackend>, opts: StoreOptions) -> Store {
        Store { kv, clock: opts.clock, kb: Mutex::new(None) }
    }

    /// Current time from the store's clock.
    pub fn now(&self) -> DateTime<FixedOffset> {
        self.clock.now()
    }

    /// Durability barrier: every write issued before this call is on disk when it resolves.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.kv.flush().await
    }

    /// Blocking flush (shutdown paths, non-async callers).
    pub fn flush_blocking(&self) -> Result<(), StoreError> {
        self.kv.flush_blocking()
    }

    // ---- generic record access -------------------------------------------------------------

    /// A record by key.
    pub fn get<T: Record>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.kv.get(rkey::<T>(key).as_bytes())? {
            Some(b) => Ok(Some(decode(&b)?)),
            None => Ok(None),
        }
    }

    /// Records of a kind in key order, filtered, paginated.
    pub fn list<T: Record>(
        &self,
        filter: impl Fn(&T) -> bool,
        offset: usize,
        limit: usize,
    ) -> Result<Page<T>, StoreError> {
        self.list_under::<T>("", filter, offset, limit, false)
    }

    /// Records whose key starts with `sub` (after the kind prefix), optionally newest first.
    pub fn list_under<T: Record>(
        &self,
        sub: &str,
        filter: impl Fn(&T) -> bool,
        offset: usize,
        limit: usize,
        reverse: bool,
    ) -> Result<Page<T>, StoreError> {
        let prefix = format!("{}{sub}", T::PREFIX);
        let it = self.kv.scan_prefix(prefix.as_bytes());
        let it: Box<dyn Iterator<Item = _>> = if reverse { Box::new(it.rev()) } else { it };
        let mut items = Vec::new();
        let mut total = 0;
        for r in it {
            let (_, v) = r?;
            let rec: T = decode(&v)?;
            if filter(&rec) {
                if total >= offset && items.len() < limit {
                    items.push(rec);
                }
                total += 1;
            }
        }
        Ok(Page { items, total })
    }

    /// Insert or replace a record that has no secondary indexes (estates, KB, calendars, …).
    pub async fn put<T: PlainRecord>(&self, rec: &T) -> Result<(), StoreError> {
        self.put_nf(rec)?;
        self.flush().await
    }

    /// Delete a record that has no secondary indexes. Returns whether it existed.
    pub async fn delete<T: PlainRecord>(&self, key: &str) -> Result<bool, StoreError> {
        let existed = self.kv.get(rkey::<T>(key).as_bytes())?.is_some();
        self.kv.remove(rkey::<T>(key).as_bytes())?;
        if T::PREFIX == crate::model::KbArticle::PREFIX {
            self.invalidate_kb();
        }
        self.flush().await?;
        Ok(existed)
    }

    pub(crate) fn put_nf<T: PlainRecord>(&self, rec: &T) -> Result<(), StoreError> {
        self.kv.insert(rkey::<T>(&rec.key()).as_bytes(), &encode(rec)?)?;
        if T::PREFIX == crate::model::KbArticle::PREFIX {
            self.invalidate_kb();
        }
        Ok(())
    }

    /// Run `f` as one atomic transaction and return its result.
    pub(crate) fn txn<R>(&self, f: impl Fn(&dyn TxView) -> Result<R, StoreError>) -> Result<R, StoreError> {
        let out = RefCell::new(None);
        self.kv.transact(&|v| {
            let r = f(v)?;
            *out.borrow_mut() = Some(r);
            Ok(())
        })?;
        out.into_inner().ok_or_else(|| StoreError::Backend("transaction produced no result".into()))
    }

    /// Ids stored under an index prefix (the last path segment of each key).
    pub(crate) fn index_ids(&self, prefix: &str, reverse: bool) -> Result<Vec<String>, StoreError> {
        let it = self.kv.scan_prefix(prefix.as_bytes());
        let it: Box<dyn Iterator<Item = _>> = if reverse { Box::new(it.rev()) } else { it };
        let mut out = Vec::new();
        for r in it {
            let (k, _) = r?;
            let k = String::from_utf8_lossy(&k);
            if let Some(id) = k.rsplit('/').next() {
                out.push(id.to_string());
            }
        }
        Ok(out)
    }

    pub(crate) fn kv(&self) -> &dyn KvBackend {
        &*self.kv
    }
}

/// Records with no secondary index, safe to write through the generic [`Store::put`].
pub trait PlainRecord: Record {}
impl PlainRecord for crate::model::Estate {}
impl PlainRecord for crate::model::Building {}
impl PlainRecord for crate::model::WarrantyRule {}
impl PlainRecord for crate::model::KbArticle {}
impl PlainRecord for crate::model::Announcement {}
impl PlainRecord for crate::model::Calendar {}
impl PlainRecord for crate::model::ListEntry {}
impl PlainRecord for crate::model::Agent {}
impl PlainRecord for crate::model::Queue {}
impl PlainRecord for crate::model::User {}
impl PlainRecord for crate::model::Bill {}
impl PlainRecord for crate::model::CallbackTask {}

/// Full key of a record.
pub(crate) fn rkey<T: Record>(key: &str) -> String {
    format!("{}{key}", T::PREFIX)
}

/// Typed read inside a transaction.
pub(crate) fn tx_get<T: DeserializeOwned>(v: &dyn TxView, key: &str) -> Result<Option<T>, StoreError> {
    match v.get(key.as_bytes())? {
        Some(b) => Ok(Some(decode(&b)?)),
        None => Ok(None),
    }
}

/// Typed write inside a transaction.
pub(crate) fn tx_put<T: Serialize>(v: &dyn TxView, key: &str, rec: &T) -> Result<(), StoreError> {
    v.insert(key.as_bytes(), &encode(rec)?)
}

/// Sortable timestamp for index keys (µs since epoch, zero-padded).
pub(crate) fn ts_key(t: &DateTime<FixedOffset>) -> String {
    format!("{:020}", t.timestamp_micros().max(0))
}

/// Refuse ids that would break the `/`-separated key layout.
pub(crate) fn check_id(what: &str, id: &str) -> Result<(), StoreError> {
    if id.is_empty() || id.contains('/') || id.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("{what} '{id}' must be non-empty without '/' or control characters")));
    }
    Ok(())
}
