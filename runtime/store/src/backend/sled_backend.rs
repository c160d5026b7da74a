//! [`KvBackend`] on sled 0.34: one tree, keys namespaced by prefix, so every transaction is a
//! single-tree sled transaction (the best-tested path in sled).

use super::{Kv, KvBackend, TxBody, TxView};
use crate::StoreError;
use futures::future::BoxFuture;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree, UnabortableTransactionError};
use std::cell::RefCell;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

/// The sled engine.
pub struct SledBackend {
    db: sled::Db,
    flusher: GroupFlusher,
}

impl SledBackend {
    /// Open (or create) a database directory whose page cache holds at most `cache_bytes`.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::HighThroughput)
            // We issue explicit flushes for durability; the periodic flush only bounds data loss
            // for writes made through non-acknowledging paths.
            .flush_every_ms(Some(500))
            .open()?;
        let flusher = GroupFlusher::start(db.clone());
        Ok(SledBackend { db, flusher })
    }
}

/// Group commit: one thread runs `Db::flush` (write + fsync of sled's log) for all waiting
/// writers at once. A writer asks for generation `g` and waits until a flush that *started after*
/// its request has finished. sled's own `flush_async` was not used because concurrent calls of
/// it hung in our tests (8 tasks incrementing a counter never finished).
struct GroupFlusher {
    shared: Arc<FlushShared>,
    done_rx: tokio::sync::watch::Receiver<(u64, Option<String>)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct FlushShared {
    state: Mutex<FlushState>,
    cv: Condvar,
}

struct FlushState {
    requested: u64,
    shutdown: bool,
}

impl GroupFlusher {
    fn start(db: sled::Db) -> GroupFlusher {
        let shared = Arc::new(FlushShared { state: Mutex::new(FlushState { requested: 0, shutdown: false }), cv: Condvar::new() });
        let (done_tx, done_rx) = tokio::sync::watch::channel((0u64, None));
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("store-flush".into())
            .spawn(move || {
                let mut done = 0u64;
                loop {
                    let target = {
                        let mut st = sh.state.lock().unwrap_or_else(|p| p.into_inner());
                        while st.requested == done && !st.shutdown {
                            st = sh.cv.wait(st).unwrap_or_else(|p| p.into_inner());
                        }
                        if st.requested == done && st.shutdown {
                            break;
                        }
                        st.requested
                    };
                    let err = db.flush().err().map(|e| e.to_string());
                    done = target;
                    let _ = done_tx.send((done, err));
                }
                drop(db);
            })
            .ok();
        GroupFlusher { shared, done_rx, thread }
    }

    async fn flush(&self) -> Result<(), StoreError> {
        let my = {
            let mut st = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
            st.requested += 1;
            st.requested
        };
        self.shared.cv.notify_one();
        let mut rx = self.done_rx.clone();
        let r = rx
            .wait_for(|(g, _)| *g >= my)
            .await
            .map_err(|_| StoreError::Backend("flush thread stopped".into()))?;
        match &r.1 {
            None => Ok(()),
            Some(e) => Err(StoreError::Backend(format!("flush failed: {e}"))),
        }
    }
}

impl Drop for GroupFlusher {
    fn drop(&mut self) {
        if let Ok(mut st) = self.shared.state.lock() {
            st.shutdown = true;
        }
        self.shared.cv.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
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
        Box::pin(self.flusher.flush())
    }
    fn flush_blocking(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}
