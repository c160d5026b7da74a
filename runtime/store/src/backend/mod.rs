//! The storage engine boundary: an ordered byte KV store with transactions and a flush barrier.
//!
//! Everything above this trait is engine-neutral. To replace sled (e.g. by redb, which the
//! stack notes measured as maintained and crash-safe), implement [`KvBackend`] and pass it to
//! [`crate::Store::with_backend`].

mod sled_backend;
pub use sled_backend::SledBackend;

use crate::StoreError;
use futures::future::BoxFuture;

/// A (key, value) pair from a scan.
pub type Kv = (Vec<u8>, Vec<u8>);

/// Operations available inside a transaction. Reads see the transaction's own writes.
pub trait TxView {
    /// Read a key.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Write a key.
    fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    /// Delete a key.
    fn remove(&self, key: &[u8]) -> Result<(), StoreError>;
}

/// The body of a transaction; may run more than once when the engine retries on conflict,
/// so it must have no side effects other than through the [`TxView`].
pub type TxBody<'a> = &'a dyn Fn(&dyn TxView) -> Result<(), StoreError>;

/// An ordered key-value engine.
pub trait KvBackend: Send + Sync {
    /// Read a key.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Write one key (atomic, not yet durable).
    fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    /// Delete one key (atomic, not yet durable).
    fn remove(&self, key: &[u8]) -> Result<(), StoreError>;
    /// Keys with this prefix in ascending order (reverse with `.rev()`).
    fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Kv, StoreError>> + Send + 'a>;
    /// Keys in `[start, end)` ascending.
    fn scan_range<'a>(
        &'a self,
        start: &[u8],
        end: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Kv, StoreError>> + Send + 'a>;
    /// Run `body` atomically (all its writes or none, also across a crash).
    fn transact(&self, body: TxBody<'_>) -> Result<(), StoreError>;
    /// A unique, monotonically increasing id (gaps allowed after a restart).
    fn next_id(&self) -> Result<u64, StoreError>;
    /// Durability barrier: resolves once every write issued before the call is on disk.
    fn flush(&self) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Blocking variant of [`KvBackend::flush`] for non-async callers and shutdown.
    fn flush_blocking(&self) -> Result<(), StoreError>;
}
