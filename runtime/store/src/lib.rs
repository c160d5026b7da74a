//! courtyard-store: the call center's data — model, storage, indexes, CSV import, KB search.
//!
//! Layers, bottom up:
//! - [`backend::KvBackend`]: an ordered byte key-value store with atomic multi-key transactions
//!   and an explicit durability barrier. [`backend::SledBackend`] implements it; a redb backend
//!   would implement the same trait and nothing above it changes.
//! - [`Store`]: typed repositories (directory, billing, work orders, calls, content, people) with
//!   secondary indexes maintained in the same transaction as the record. Every `async` write
//!   returns only after the backend's flush, so an acknowledged write survives `kill -9`.
//! - [`import`]: CSV import (UTF-8 / GBK) with a per-line report.
//! - [`kb`]: BM25 search over jieba-segmented Chinese text.
//!
//! See `README.md` for the API the runtime's plugin services use and `docs/storage.md` for the
//! durability contract.

pub mod backend;
mod clock;
mod error;
pub mod import;
pub mod kb;
pub mod model;
mod repo;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::StoreError;
pub use repo::{CallerView, DEFAULT_CACHE_BYTES, PlainRecord, PurgeReport, Store, StoreOptions};
