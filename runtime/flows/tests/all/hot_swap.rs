//! Hot swap with calls mid-flow, rollback, and the crash-loop breaker.

use std::sync::Arc;
use std::time::Duration;

use courtyard_flows::{CallOutcome, FlowHost, FlowRegistry, HostConfig, InstallSpec, RegistryError, Services};
use tokio::sync::{Notify, Semaphore};

use crate::common::{call::TestCall, dyn_call, guests, test_host};

fn labelled(flow: &str, label: &str) -> InstallSpec {
    let mut s = InstallSpec::new(flow, "guest-normal", guests::bytes("normal"));
    s.config_json = format!(r#"{{"label":"{label}"}}"#);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_progress_finish_on_their_version_while_new_calls_get_the_new_one() {
    let registry = Arc::new(FlowRegistry::new(test_host(None)));
    let v1 = registry.deploy(labelled("desk", "alpha")).await.unwrap();

    // 50 calls parked in `collect` on v1.
    let gate = Arc::new(Semaphore::new(0));
    let parked = Arc::new(Notify::new());
    let mut calls = Vec::new();
    for i in 0..50 {
        let call = TestCall::gated(format!("c{i}"), &["8"], gate.clone(), parked.clone());
        let (r, c) = (registry.clone(), dyn_call(&call));
        calls.push((call, tokio::spawn(async move { r.run_inbound("desk", c, Services::unavailable()).await })));
    }
    // Each call records the collect prompt just before it waits at the gate.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while calls.iter().any(|(c, _)| c.said().len() < 2) {
        assert!(tokio::time::Instant::now() < deadline, "calls did not reach collect");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(v1.counts().in_flight, 50);

    // Swap to v2 (prepared and canaried while the 50 calls are mid-flow).
    let v2 = registry.deploy(labelled("desk", "beta")).await.unwrap();
    assert_ne!(v1.key, v2.key, "same code, other config: another version");
    assert_eq!(registry.active("desk").unwrap().key, v2.key);
    let fresh = TestCall::new("new-1", &["8"]);
    let report = registry.run_inbound("desk", dyn_call(&fresh), Services::unavailable()).await.unwrap();
    assert_eq!(report.version, v2.key);
    assert_eq!(fresh.said().last().map(String::as_str), Some("再见，beta"));

    // Release the parked calls: every one finishes on v1.
    gate.add_permits(50);
    for (call, task) in calls {
        let report = task.await.unwrap().unwrap();
        assert_eq!(report.outcome, CallOutcome::Completed);
        assert_eq!(report.version, v1.key);
        assert_eq!(call.said().first().map(String::as_str), Some("您好，这里是alpha"));
        assert_eq!(call.said().last().map(String::as_str), Some("再见，alpha"));
    }
    assert_eq!(v1.counts().completed, 50);
    assert_eq!(v1.counts().in_flight, 0);

    // Rollback re-activates v1 for new calls.
    assert_eq!(registry.rollback("desk").unwrap(), v1.key);
    let again = TestCall::new("new-2", &["8"]);
    let report = registry.run_inbound("desk", dyn_call(&again), Services::unavailable()).await.unwrap();
    assert_eq!(report.version, v1.key);
    assert_eq!(again.said().last().map(String::as_str), Some("再见，alpha"));
    assert_eq!(registry.rollback("desk"), Err(RegistryError::NoPrevious("desk".into())));
    let infos = registry.versions("desk");
    assert_eq!(infos.len(), 2);
    assert!(infos.iter().any(|i| i.key == v1.key && i.active && i.counts.calls == 51));
    assert!(infos.iter().any(|i| i.key == v2.key && !i.active && i.counts.calls == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_loop_breaker_rolls_back_a_failing_version() {
    let host = FlowHost::new(HostConfig { max_concurrent_instances: 16, crash_loop_threshold: 3, ..HostConfig::default() })
        .unwrap();
    let registry = FlowRegistry::new(host);
    let good = registry.deploy(labelled("desk", "alpha")).await.unwrap();
    let bad = registry.deploy(InstallSpec::new("desk", "guest-panic", guests::bytes("panic"))).await.unwrap();
    assert_eq!(registry.active("desk").unwrap().key, bad.key);

    for i in 0..3 {
        let call = TestCall::new(format!("b{i}"), &["8"]);
        let report = registry.run_inbound("desk", dyn_call(&call), Services::unavailable()).await.unwrap();
        assert_eq!(report.version, bad.key);
        assert!(matches!(report.outcome, CallOutcome::Failed { .. }), "{:?}", report.outcome);
    }
    // The third failure in a row tripped the breaker.
    assert_eq!(registry.active("desk").unwrap().key, good.key);
    let infos = registry.versions("desk");
    assert!(infos.iter().any(|i| i.key == bad.key && i.tripped && i.counts.consecutive_failures == 3));

    let call = TestCall::new("after", &["8"]);
    let report = registry.run_inbound("desk", dyn_call(&call), Services::unavailable()).await.unwrap();
    assert_eq!(report.version, good.key);
    assert_eq!(report.outcome, CallOutcome::Completed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_does_not_trip_below_the_threshold() {
    let host = FlowHost::new(HostConfig { max_concurrent_instances: 16, crash_loop_threshold: 3, ..HostConfig::default() })
        .unwrap();
    let registry = FlowRegistry::new(host);
    let good = registry.deploy(labelled("desk", "alpha")).await.unwrap();
    let bad = registry.deploy(InstallSpec::new("desk", "guest-panic", guests::bytes("panic"))).await.unwrap();
    for i in 0..2 {
        let call = TestCall::new(format!("b{i}"), &[]);
        let report = registry.run_inbound("desk", dyn_call(&call), Services::unavailable()).await.unwrap();
        assert!(matches!(report.outcome, CallOutcome::Failed { .. }));
    }
    assert_eq!(registry.active("desk").unwrap().key, bad.key, "two failures are below the threshold of 3");
    assert_eq!(registry.rollback("desk").unwrap(), good.key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_rollout_splits_calls_by_share_and_estate_and_ends_on_promotion() {
    use courtyard_flows::CallPick;
    let registry = Arc::new(FlowRegistry::new(test_host(None)));
    let stable = registry.deploy(labelled("desk", "alpha")).await.unwrap();
    let candidate = registry.install(labelled("desk", "beta")).await.unwrap();
    registry.set_rollout("desk", &candidate.key, 30, vec!["estate-b".into()]).unwrap();
    assert!(matches!(registry.set_rollout("desk", &candidate.key, 101, vec![]), Err(RegistryError::BadPercent(101))));

    let run = |key: String, estate: Option<&'static str>| {
        let r = registry.clone();
        async move {
            let call = TestCall::new(&key, &["8"]);
            let pick = CallPick { key: &key, estate };
            r.run_inbound_picked("desk", dyn_call(&call), Services::unavailable(), Some(&pick)).await.unwrap().version
        }
    };
    // Every call of the named estate runs the candidate.
    for i in 0..20 {
        assert_eq!(run(format!("b-{i}"), Some("estate-b")).await, candidate.key);
    }
    // Elsewhere about 30 % do, and the same key always lands on the same side.
    let mut on_candidate = 0;
    for i in 0..200 {
        let v = run(format!("a-{i}@host"), Some("estate-a")).await;
        assert_eq!(v, run(format!("a-{i}@host"), Some("estate-a")).await);
        if v == candidate.key {
            on_candidate += 1;
        } else {
            assert_eq!(v, stable.key);
        }
    }
    assert!((30..=90).contains(&on_candidate), "{on_candidate} of 200 on the candidate at 30 %");
    let info = registry.versions("desk");
    let cand_info = info.iter().find(|v| v.key == candidate.key).unwrap();
    assert_eq!(cand_info.rollout.as_ref().map(|r| r.percent), Some(30));
    assert!(!cand_info.active);

    // The candidate cannot be removed while it takes calls; the stable one cannot either (active).
    assert!(matches!(registry.remove_version("desk", &candidate.key), Err(RegistryError::InUse { .. })));
    assert!(matches!(registry.remove_version("desk", &stable.key), Err(RegistryError::Active { .. })));

    // Promotion ends the rollout: every call runs the candidate, and the old one can be removed.
    registry.activate("desk", &candidate.key).unwrap();
    assert!(registry.versions("desk").iter().all(|v| v.rollout.is_none()));
    assert_eq!(run("a-1@host".into(), Some("estate-a")).await, candidate.key);
    registry.remove_version("desk", &stable.key).unwrap();
    assert_eq!(registry.versions("desk").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_rollout_candidate_ends_its_rollout_not_the_active_version() {
    use courtyard_flows::CallPick;
    let registry = Arc::new(FlowRegistry::new(test_host(None)));
    let stable = registry.deploy(labelled("desk", "alpha")).await.unwrap();
    let bad = registry.install(InstallSpec::new("desk", "guest-panic", guests::bytes("panic"))).await.unwrap();
    registry.set_rollout("desk", &bad.key, 0, vec!["estate-b".into()]).unwrap();
    for i in 0..10 {
        let key = format!("b-{i}");
        let call = TestCall::new(&key, &["8"]);
        let pick = CallPick { key: &key, estate: Some("estate-b") };
        let _ = registry.run_inbound_picked("desk", dyn_call(&call), Services::unavailable(), Some(&pick)).await.unwrap();
    }
    let info = registry.versions("desk");
    let bad_info = info.iter().find(|v| v.key == bad.key).unwrap();
    assert!(bad_info.tripped && bad_info.rollout.is_none(), "{bad_info:?}");
    assert_eq!(registry.active("desk").unwrap().key, stable.key);
    let key = "b-after".to_string();
    let call = TestCall::new(&key, &["8"]);
    let pick = CallPick { key: &key, estate: Some("estate-b") };
    let report = registry.run_inbound_picked("desk", dyn_call(&call), Services::unavailable(), Some(&pick)).await.unwrap();
    assert_eq!(report.version, stable.key);
}
