//! Call records written in groups: records that arrive within a few milliseconds of each other
//! are stored in one store transaction and one durable flush.
//!
//! Why: each call writes its record twice (at answer and at the end). At 1000 calls in progress
//! that was ~330 store transactions a second, and every sled transaction seals its log buffer
//! and hands a write to sled's I/O pool, which wakes all of its threads for each job: ~14 % of a
//! core went to that pool, on the same two cores as the media threads (docs/benchmarks.md,
//! session 8). No caller waits for a record (the answered one is written beside the flow, the
//! finished one after the hang-up), so a short wait to fill a group costs nobody anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use courtyard_store::model::Cdr;
use courtyard_store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// How long the first record of a group waits for others.
pub const GROUP_WINDOW: Duration = Duration::from_millis(10);
/// Most records in one group (one transaction).
pub const MAX_GROUP: usize = 256;

type Job = (Cdr, oneshot::Sender<Result<(), StoreError>>);

/// Hands call records to a background task that stores them in groups ([`module docs`](self)).
pub struct CdrWriter {
    jobs: mpsc::UnboundedSender<Job>,
    store: Arc<Store>,
    counts: Arc<Counts>,
}

/// Records written and the groups (transactions) they were written in, for `/metrics`.
#[derive(Default)]
struct Counts {
    records: AtomicU64,
    groups: AtomicU64,
}

impl CdrWriter {
    /// Starts the writer task on the current tokio runtime.
    pub fn start(store: Arc<Store>) -> CdrWriter {
        let (jobs, rx) = mpsc::unbounded_channel();
        let counts = Arc::new(Counts::default());
        tokio::spawn(run(store.clone(), rx, counts.clone()));
        CdrWriter { jobs, store, counts }
    }

    /// Stores `cdr` (keeping variables the API added to the stored record, see
    /// [`Store::upsert_cdr_keeping_vars`]) and returns once it is durable.
    pub async fn write(&self, cdr: Cdr) -> Result<(), StoreError> {
        let (done, result) = oneshot::channel();
        match self.jobs.send((cdr, done)) {
            Ok(()) => match result.await {
                Ok(r) => r,
                Err(_) => Err(StoreError::Backend("call-record writer stopped before writing the record".into())),
            },
            // The task is gone (runtime shutting down): write it alone rather than lose it.
            Err(mpsc::error::SendError((cdr, _))) => self.store.upsert_cdr_keeping_vars(&cdr).await,
        }
    }

    /// (records written, groups they were written in) since start.
    pub fn counts(&self) -> (u64, u64) {
        (self.counts.records.load(Ordering::Relaxed), self.counts.groups.load(Ordering::Relaxed))
    }
}

async fn run(store: Arc<Store>, mut rx: mpsc::UnboundedReceiver<Job>, counts: Arc<Counts>) {
    while let Some(first) = rx.recv().await {
        let mut group = vec![first];
        let deadline = tokio::time::Instant::now() + GROUP_WINDOW;
        // `timeout_at` polls the receive before its clock: records already queued are taken
        // without waiting.
        while group.len() < MAX_GROUP {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(job)) => group.push(job),
                Ok(None) | Err(_) => break,
            }
        }
        let (cdrs, waiters): (Vec<Cdr>, Vec<_>) = group.into_iter().unzip();
        let results = store.upsert_cdrs_keeping_vars(&cdrs).await;
        counts.records.fetch_add(cdrs.len() as u64, Ordering::Relaxed);
        counts.groups.fetch_add(1, Ordering::Relaxed);
        for (waiter, result) in waiters.into_iter().zip(results) {
            let _ = waiter.send(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courtyard_store::model::HangupSide;

    fn cdr(id: &str, store: &Store) -> Cdr {
        Cdr {
            call_id: id.into(),
            direction: "inbound".into(),
            caller: "13800138000".into(),
            called: "4008200".into(),
            start: store.now(),
            answer: None,
            end: None,
            flow: None,
            plugin_version: None,
            ivr_path: vec![],
            queue: None,
            agent: None,
            hangup_side: Some(HangupSide::Caller),
            hangup_cause: None,
            recording_id: None,
            vars: Default::default(),
            interrupted: false,
        }
    }

    /// Records handed over together are stored together (fewer groups than records), every
    /// writer learns its own result, and a bad record does not sink the others of its group.
    #[tokio::test(flavor = "current_thread")]
    async fn records_arriving_together_share_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).unwrap());
        let writer = CdrWriter::start(store.clone());
        let mut records: Vec<Cdr> = (0..40).map(|i| cdr(&format!("group-{i}@127.0.0.1"), &store)).collect();
        records.push(cdr("bad/id", &store));
        // All writes are queued before the writer task first runs (one thread, join_all polls
        // each once), so they form one group.
        let results = futures::future::join_all(records.iter().cloned().map(|c| writer.write(c))).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 40, "{results:?}");
        assert!(matches!(results.last(), Some(Err(StoreError::Invalid(_)))), "{:?}", results.last());
        for r in &records[..40] {
            assert!(store.get::<Cdr>(&r.call_id).unwrap().is_some(), "{} not stored", r.call_id);
        }
        assert_eq!(writer.counts(), (41, 1));
        // A lone record is written too, in its own group.
        writer.write(cdr("alone@127.0.0.1", &store)).await.unwrap();
        assert!(store.get::<Cdr>("alone@127.0.0.1").unwrap().is_some());
        assert_eq!(writer.counts(), (42, 2));
    }
}
