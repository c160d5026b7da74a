//! Campaign progress in a real sled store (tempdir): a campaign shut down mid-way resumes after
//! the store is reopened, without calling finished targets again.
#![allow(missing_docs)]

use std::sync::Arc;

use courtyard_campaigns::*;
use courtyard_store::Store;
use parking_lot::Mutex;

/// Answers every call at once; the flow returns "ok". Records who was called.
#[derive(Default)]
struct AnswerAll {
    called: Mutex<Vec<String>>,
}

impl CallPlacer for AnswerAll {
    fn place(&self, req: PlaceRequest) -> BoxFuture<'static, PlaceResult> {
        self.called.lock().push(format!("{}#{}", req.target.id, req.attempt));
        Box::pin(async { PlaceResult::Answered { run: Box::pin(async { Ok("ok".to_string()) }) } })
    }
}

fn config() -> CampaignConfig {
    let mut c = CampaignConfig::from_toml(
        r#"
        id = "callback-week-48"
        flow = "satisfaction-survey"
        [limits]
        max_concurrent = 1
        calls_per_second = 1.0
        [hours]
        start = "00:00"
        end = "24:00"
        "#,
    )
    .unwrap();
    c.targets = (0..6).map(|i| Target { id: format!("t{i}"), number: format!("1390000000{i}"), params: Default::default() }).collect();
    c
}

async fn drive_until(clock: &ManualClock, h: &CampaignHandle, done: u32) {
    for _ in 0..10_000 {
        for _ in 0..64 {
            tokio::task::yield_now().await;
        }
        if h.progress().done >= done {
            return;
        }
        clock.advance_to_next_deadline();
    }
    panic!("stuck at {:?}", h.progress());
}

#[tokio::test]
async fn campaign_resumes_from_sled_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_795_000_000_000);
    let placer = Arc::new(AnswerAll::default());

    // First "process": three answered calls, then shutdown (the store is released).
    {
        let store = Arc::new(SledCampaignStore::new(Arc::new(Store::open(dir.path()).unwrap())));
        let h = start(config(), CampaignDeps { placer: placer.clone(), clock: clock.clone(), store }).unwrap();
        drive_until(&clock, &h, 3).await;
        h.shutdown().await;
    }
    // Calls placed before the shutdown finished and were recorded (sled writes are real I/O, so
    // one or two more calls may have started before the shutdown was seen).
    let first = placer.called.lock().len();
    assert!(first >= 3, "{first}");

    // Second "process": the same directory reopened; the campaign resumes where it stood.
    let sled = Arc::new(SledCampaignStore::new(Arc::new(Store::open(dir.path()).unwrap())));
    let snap = sled.load("callback-week-48").unwrap().expect("campaign stored");
    assert_eq!(snap.targets.len(), 6);
    assert_eq!(snap.progress.as_ref().map(|p| p.done), Some(first as u32));
    assert_eq!(snap.progress.as_ref().map(|p| p.in_flight), Some(0));
    let h = start(config(), CampaignDeps { placer: placer.clone(), clock: clock.clone(), store: sled.clone() }).unwrap();
    drive_until(&clock, &h, 6).await;
    let p = h.finished().await;
    assert_eq!(p.answered, 6);
    // Each target called exactly once across both processes.
    assert_eq!(placer.called.lock().clone(), ["t0#1", "t1#1", "t2#1", "t3#1", "t4#1", "t5#1"]);
    let listed = sled.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].state, RunState::Finished);
    assert_eq!(listed[0].done, 6);
}
