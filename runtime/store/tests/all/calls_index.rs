//! The caller index of call records (`calls_from`, screen-pop "last calls") must list exactly the
//! calls that the time-ordered listing (`cdrs_between`, what `/api/v1/cdrs` serves) shows for that
//! caller, through the runtime's write pattern: one upsert at answer, one at the end.
//!
//! Regression guard for a reported "calls_from finds nothing that /api/v1/cdrs lists": the cause
//! was the e2e harness (`Runtime::terminate` consumed the runtime and deleted its temp data dir
//! before the test reopened the store), not the index; these tests pin the index behaviour.

use crate::temp_store;
use chrono::Duration;
use courtyard_store::model::Cdr;

fn cdr(call_id: &str, caller: &str, start: chrono::DateTime<chrono::FixedOffset>) -> Cdr {
    Cdr {
        call_id: call_id.into(),
        direction: "inbound".into(),
        caller: caller.into(),
        called: "4008123456".into(),
        start,
        answer: Some(start),
        end: None,
        flow: Some("ivr-main".into()),
        plugin_version: None,
        ivr_path: Vec::new(),
        queue: None,
        agent: None,
        hangup_side: None,
        hangup_cause: None,
        recording_id: None,
        vars: Default::default(),
        interrupted: false,
    }
}

#[tokio::test]
async fn calls_from_lists_what_the_cdr_listing_lists_for_that_caller() {
    let (_d, store, _c) = temp_store();
    let t0 = store.now();
    let callers = ["13800138000", "+86 139-0000-0001", "02161234567", "8613700000002", "sipp"];
    let mut n = 0;
    for round in 0..40 {
        for (i, caller) in callers.iter().enumerate() {
            n += 1;
            // SIPp-style Call-IDs, as the runtime stores them.
            let id = format!("{n}-4242@127.0.0.{}", i + 1);
            let start = t0 + Duration::milliseconds(i64::from(round) * 1000 + i as i64 * 7);
            let mut c = cdr(&id, caller, start);
            store.upsert_cdr(&c).await.unwrap();
            c.end = Some(start + Duration::seconds(5));
            store.upsert_cdr(&c).await.unwrap();
        }
    }
    let all = store.cdrs_between(None, None, |_| true, 0, usize::MAX).unwrap();
    assert_eq!(all.total, 200);
    for caller in callers {
        let listed: Vec<String> =
            all.items.iter().filter(|c| c.caller == caller).map(|c| c.call_id.clone()).collect();
        let from: Vec<String> = store.calls_from(caller, 1000).unwrap().into_iter().map(|c| c.call_id).collect();
        assert_eq!(from, listed, "calls_from({caller}) disagrees with the CDR listing");
        let last = store.calls_from(caller, 3).unwrap();
        assert_eq!(last.len(), 3, "{caller}");
        assert_eq!(last[0].call_id, listed[0], "newest first for {caller}");
    }
}

/// Many calls ending at once (a load test's pattern): concurrent upserts of different CDRs must
/// leave every caller-index entry in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_call_records_keep_the_caller_index_complete() {
    let (_d, store, _c) = temp_store();
    let store = std::sync::Arc::new(store);
    let t0 = store.now();
    let mut tasks = Vec::new();
    for i in 0..400 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let caller = format!("1380000{:04}", i % 20);
            let start = t0 + Duration::milliseconds(i);
            let mut c = cdr(&format!("{i}-77@127.0.0.1"), &caller, start);
            store.upsert_cdr(&c).await.unwrap();
            tokio::task::yield_now().await;
            c.end = Some(start + Duration::seconds(3));
            store.upsert_cdr(&c).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = store.cdrs_between(None, None, |_| true, 0, usize::MAX).unwrap();
    assert_eq!(all.total, 400);
    for k in 0..20 {
        let caller = format!("1380000{k:04}");
        let from = store.calls_from(&caller, 1000).unwrap();
        assert_eq!(from.len(), 20, "calls_from({caller})");
        assert!(from.iter().all(|c| c.end.is_some()), "{caller}: index points at a stale record");
    }
}

/// An agent's wrap-up posted while the call is ending lands in the stored record; the host's
/// final write of the record it kept in memory must not drop it, whichever comes first.
#[tokio::test]
async fn the_final_write_keeps_vars_the_api_added_while_the_call_was_ending() {
    let (_d, store, _c) = temp_store();
    let start = store.now();
    let mut held = cdr("wrap-1@127.0.0.1", "13800138000", start);
    held.vars.insert("queue".into(), "default".into());
    store.upsert_cdr(&held).await.unwrap();
    // The API's wrap-up, on the stored record.
    let changed = store.update_cdr(&held.call_id, |c| {
        c.vars.insert("wrapup".into(), "resolved".into());
    });
    assert_eq!(changed.await.unwrap().vars["wrapup"], "resolved");
    // The host's final write: its own vars win, the wrap-up stays.
    held.end = Some(start + Duration::seconds(30));
    held.vars.insert("queue".into(), "vip".into());
    store.upsert_cdr_keeping_vars(&held).await.unwrap();
    let stored = store.get::<Cdr>(&held.call_id).unwrap().unwrap();
    assert_eq!(stored.vars["wrapup"], "resolved");
    assert_eq!(stored.vars["queue"], "vip");
    assert!(stored.end.is_some());
    // A plain upsert is a replacement (what the tests above rely on).
    held.vars.clear();
    store.upsert_cdr(&held).await.unwrap();
    assert!(store.get::<Cdr>(&held.call_id).unwrap().unwrap().vars.is_empty());
    // Changing a record that does not exist is NotFound, not an empty record.
    assert!(matches!(store.update_cdr("nope@x", |_| {}).await, Err(courtyard_store::StoreError::NotFound(_))));
}

/// Many records in one transaction: a bad id fails alone, the same call twice in one batch ends
/// as its later record (with the earlier one's vars), and the caller index points at each call once.
#[tokio::test]
async fn a_batch_of_records_is_written_together_and_a_bad_one_fails_alone() {
    let (_d, store, _c) = temp_store();
    let start = store.now();
    let mut answered = cdr("batch-1@127.0.0.1", "13800138001", start);
    answered.vars.insert("menu".into(), "1".into());
    let mut finished = answered.clone();
    finished.vars.clear();
    finished.end = Some(start + Duration::seconds(6));
    let other = cdr("batch-2@127.0.0.1", "13800138002", start);
    let bad = cdr("bad/id", "13800138003", start);
    let results = store.upsert_cdrs_keeping_vars(&[answered, bad, other, finished]).await;
    assert_eq!(results.len(), 4);
    assert!(results[0].is_ok() && results[2].is_ok() && results[3].is_ok(), "{results:?}");
    assert!(matches!(&results[1], Err(courtyard_store::StoreError::Invalid(m)) if m.contains("bad/id")), "{results:?}");
    let stored = store.get::<Cdr>("batch-1@127.0.0.1").unwrap().unwrap();
    assert!(stored.end.is_some(), "the later record of the batch wins");
    assert_eq!(stored.vars.get("menu").map(String::as_str), Some("1"), "the earlier record's vars are kept");
    assert!(store.get::<Cdr>("batch-2@127.0.0.1").unwrap().is_some());
    assert_eq!(store.calls_from("13800138001", 10).unwrap().len(), 1);
    assert!(store.calls_from("13800138003", 10).unwrap().is_empty());
    assert!(store.upsert_cdrs_keeping_vars(&[]).await.is_empty());
}

/// A rewrite that changes the caller or the start time moves the record's index entries; one that
/// changes neither (answer, end) leaves them where they are.
#[tokio::test]
async fn index_entries_follow_the_caller_and_start_of_the_latest_write() {
    let (_d, store, _c) = temp_store();
    let t0 = store.now();
    let mut c = cdr("move-1@127.0.0.1", "13800000001", t0);
    store.upsert_cdr(&c).await.unwrap();
    c.end = Some(t0 + Duration::seconds(5));
    store.upsert_cdr(&c).await.unwrap();
    assert_eq!(store.calls_from("13800000001", 10).unwrap().len(), 1);
    // Corrected caller (say, the P-Asserted-Identity arrived) and start.
    c.caller = "13900000002".into();
    c.start = t0 - Duration::seconds(60);
    store.upsert_cdr(&c).await.unwrap();
    assert!(store.calls_from("13800000001", 10).unwrap().is_empty(), "old caller entry removed");
    let now_from = store.calls_from("13900000002", 10).unwrap();
    assert_eq!(now_from.len(), 1);
    assert_eq!(now_from[0].start, c.start);
    let in_window = store.cdrs_between(Some(t0 - Duration::seconds(61)), Some(t0 - Duration::seconds(59)), |_| true, 0, 10).unwrap();
    assert_eq!(in_window.total, 1, "time index moved to the new start");
    assert_eq!(store.cdrs_between(Some(t0 - Duration::seconds(1)), None, |_| true, 0, 10).unwrap().total, 0);
    // An update through update_cdr that touches no indexed field keeps the entries.
    store.update_cdr(&c.call_id, |c| c.hangup_cause = Some("normal".into())).await.unwrap();
    assert_eq!(store.calls_from("13900000002", 10).unwrap().len(), 1);
    assert_eq!(store.cdrs_between(None, None, |_| true, 0, 10).unwrap().total, 1);
}
