//! [`KvBackend`] on sled 0.34: one tree, keys namespaced by prefix, so every transaction is a
//! single-tree sled transaction (the best-tested path in sled).

use super::{Kv, KvBackend, TxBody, TxView};
use crate::StoreError;
use futures::future::BoxFuture;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError};
use std::cell::RefCell;
use std::path::Path;

/// The sled engine.
#[derive(Clone)]
pub struct SledBackend {
    db: sled::Db,
}

impl SledBackend {
    /// Open (or create) a database directory.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .mode(sled::Mode::HighThroughput)
            // We issue explicit flushes for durability; the periodic flush only bounds data loss
            // for writes made through non-acknowledging paths.
            .flush_every_ms(Some(500))
            .open()?;
        Ok(SledBackend { db })
    }
}

fn conv(it: sled::Iter) -> Box<dyn DoubleEndedIterator<Item = Result<Kv, StoreError>> + Send> {
    Box::new(it.map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from)))
}

struct SledTx<'a> {
    tx: &'a TransactionalTree,
    failure: RefCell<Option<UnabortableTransactionError>>,
}

impl SledTx<'_> {
    fn fail(&self, e: UnabortableTransactionError) -> StoreError {
        *self.failure.borrow_mut() = Some(e);
        StoreError::TxRetry
    }
}

impl TxView for SledTx<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.tx.get(key).map(|o| o.map(|v| v.to_vec())).map_err(|e| self.fail(e))
    }
    fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.tx.insert(key, value).map(|_| ()).map_err(|e| self.fail(e))
    }
    fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        self.tx.remove(key).map(|_| ()).map_err(|e| self.fail(e))
    }
}

impl KvBackend for SledBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }
    fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.db.insert(key, value)?;
        Ok(())
    }
    fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        self.db.remove(key)?;
        Ok(())
    }
    fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Kv, StoreError>> + Send + 'a> {
        conv(self.db.scan_prefix(prefix))
    }
    fn scan_range<'a>(
        &'a self,
        start: &[u8],
        end: &[u8],
    ) -> Box<dyn DoubleEndedIterator<Item = Result<Kv, StoreError>> + Send + 'a> {
        conv(self.db.range(start.to_vec()..end.to_vec()))
    }
    fn transact(&self, body: TxBody<'_>) -> Result<(), StoreError> {
        let r = self.db.transaction(|tx| {
            let view = SledTx { tx, failure: RefCell::new(None) };
            match body(&view) {
                Ok(()) => Ok(()),
                Err(StoreError::TxRetry) => match view.failure.into_inner() {
                    Some(e) => Err(ConflictableTransactionError::from(e)),
                    None => Err(ConflictableTransactionError::Abort(StoreError::TxRetry)),
                },
                Err(e) => Err(ConflictableTransactionError::Abort(e)),
            }
        });
        match r {
            Ok(()) => Ok(()),
            Err(TransactionError::Abort(e)) => Err(e),
            Err(TransactionError::Storage(e)) => Err(e.into()),
        }
    }
    fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }
    fn flush(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.db.flush_async().await?;
            Ok(())
        })
    }
    fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}
