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
