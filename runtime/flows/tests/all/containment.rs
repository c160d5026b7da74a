//! Hostile plugins (runaway loop, 1 GiB allocation, panic, returned error) end only their own
//! instance, get the failure policy, are counted per plugin and version, while other calls on
//! the same host keep being served.

use std::sync::Arc;
use std::time::Duration;

use courtyard_flows::{
    CallOutcome, FailureKind, FlowRegistry, InstallSpec, PluginLimits, PolicyAction, Services,
};

use crate::common::{call::TestCall, dyn_call, guests, test_host};

fn spec(flow: &str, guest: &str, config: &str) -> InstallSpec {
    let mut s = InstallSpec::new(flow, format!("guest-{guest}"), guests::bytes(guest));
    s.config_json = config.to_string();
    s.plugin_version = Some("1.0.0".into());
    s
}

fn failure_of(outcome: &CallOutcome) -> (FailureKind, String, PolicyAction) {
    match outcome {
        CallOutcome::Failed { failure, action } => (failure.kind, failure.message.clone(), action.clone()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugins_are_contained_while_other_calls_are_served() {
    let registry = Arc::new(FlowRegistry::new(test_host(None)));
    registry.deploy(spec("good", "normal", r#"{"label":"alpha"}"#)).await.unwrap();
    // A generous CPU budget for the spinner, so it is provably still running while good calls
    // complete; the others use the test host's default limits.
    let mut spin = spec("spin", "spin", "{}");
    spin.limits = Some(PluginLimits { cpu_ticks: 600, guest_wall: Duration::from_secs(60), ..PluginLimits::default() });
    registry.deploy(spin).await.unwrap();
    registry.deploy(spec("hog", "hog", "{}")).await.unwrap();
    registry.deploy(spec("panic", "panic", "{}")).await.unwrap();
    registry.deploy(spec("error", "normal", r#"{"label":"e","fail_with":"unit table corrupt"}"#)).await.unwrap();

    // Start the runaway loop and wait until it is inside the guest, looping.
    let spin_call = TestCall::new("spin-1", &[]);
    let spin_task = {
        let (r, c) = (registry.clone(), dyn_call(&spin_call));
        tokio::spawn(async move { r.run_inbound("spin", c, Services::unavailable()).await })
    };
    while spin_call.said().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Other hostile plugins and 20 good calls, all at once.
    let mut hostile = Vec::new();
    for flow in ["hog", "panic", "error"] {
        let call = TestCall::new(format!("{flow}-1"), &[]);
        let (r, c) = (registry.clone(), dyn_call(&call));
        hostile.push((flow, call, tokio::spawn(async move { r.run_inbound(flow, c, Services::unavailable()).await })));
    }
    let mut good = Vec::new();
    for i in 0..20 {
        let call = TestCall::new(format!("good-{i}"), &["8"]);
        let (r, c) = (registry.clone(), dyn_call(&call));
        good.push((call, tokio::spawn(async move { r.run_inbound("good", c, Services::unavailable()).await })));
    }
    for (call, task) in good {
        let report = task.await.unwrap().unwrap();
        assert_eq!(report.outcome, CallOutcome::Completed, "{:?}", call.said());
        assert_eq!(call.said().last().map(String::as_str), Some("再见，alpha"));
    }
    assert!(!spin_task.is_finished(), "good calls completed while the runaway plugin was still running");

    for (flow, call, task) in hostile {
        let report = task.await.unwrap().unwrap();
        let (kind, message, action) = failure_of(&report.outcome);
        match flow {
            "hog" => {
                assert_eq!(kind, FailureKind::Memory, "{message}");
                assert!(message.contains("memory limit exceeded") && message.contains("limit is 32 MiB"), "{message}");
            }
            "panic" => {
                assert_eq!(kind, FailureKind::Trap, "{message}");
                assert!(message.contains("boom: this plugin panics on purpose"), "{message}");
            }
            "error" => {
                assert_eq!(kind, FailureKind::Error, "{message}");
                assert!(message.contains("unit table corrupt"), "{message}");
            }
            _ => unreachable!(),
        }
        // Default failure policy: apology, then the default queue.
        assert!(call.said().iter().any(|s| s.contains("系统繁忙")), "{flow}: {:?}", call.said());
        assert_eq!(*call.enqueued.lock(), vec!["default".to_string()], "{flow}");
        assert!(matches!(action, PolicyAction::Enqueued(_)), "{flow}: {action:?}");
        assert_eq!(call.failures.lock().len(), 1, "{flow}: flow_failed called once");
    }

    let report = spin_task.await.unwrap().unwrap();
    let (kind, message, _) = failure_of(&report.outcome);
    assert_eq!(kind, FailureKind::Timeout, "{message}");
    assert!(message.contains("CPU budget exceeded"), "{message}");
    assert!(spin_call.said().iter().any(|s| s.contains("系统繁忙")));

    // The host still serves the flows whose plugins failed (a fresh instance per call).
    let call = TestCall::new("good-after", &["8"]);
    let report = registry.run_inbound("good", dyn_call(&call), Services::unavailable()).await.unwrap();
    assert_eq!(report.outcome, CallOutcome::Completed);

    let counts = registry.host().failure_counts();
    for (plugin, kind) in [
        ("guest-spin", FailureKind::Timeout),
        ("guest-hog", FailureKind::Memory),
        ("guest-panic", FailureKind::Trap),
        ("guest-normal", FailureKind::Error),
    ] {
        let c = counts.iter().find(|c| c.plugin == plugin && c.kind == kind && c.version == "1.0.0");
        assert_eq!(c.map(|c| c.count), Some(1), "{plugin} {kind}: {counts:?}");
    }
    assert_eq!(registry.host().free_instance_slots(), 128, "every instance slot was returned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_wall_clock_limit_stops_a_loop_even_with_a_large_cpu_budget() {
    let registry = FlowRegistry::new(test_host(None));
    let mut s = spec("spin", "spin", "{}");
    s.limits = Some(PluginLimits { cpu_ticks: 100_000, guest_wall: Duration::from_millis(300), ..PluginLimits::default() });
    registry.deploy(s).await.unwrap();
    let call = TestCall::new("spin-wall", &[]);
    let report = registry.run_inbound("spin", dyn_call(&call), Services::unavailable()).await.unwrap();
    let (kind, message, _) = failure_of(&report.outcome);
    assert_eq!(kind, FailureKind::Timeout);
    assert!(message.contains("guest wall-clock limit exceeded"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_flow_policy_hands_the_call_over_and_caller_hangup_is_not_a_failure() {
    let registry = FlowRegistry::new(test_host(None));
    let mut s = spec("panic", "panic", "{}");
    s.failure_policy = courtyard_flows::FailurePolicy {
        apology: None,
        fallback_flow: Some("ivr-basic".into()),
        queue: None,
        priority: 0,
    };
    registry.deploy(s).await.unwrap();
    let call = TestCall::new("p", &[]);
    let report = registry.run_inbound("panic", dyn_call(&call), Services::unavailable()).await.unwrap();
    let (_, _, action) = failure_of(&report.outcome);
    assert_eq!(action, PolicyAction::FallbackFlow("ivr-basic".into()));
    assert!(call.enqueued.lock().is_empty());

    // The caller hangs up at the menu (no digits queued): the flow ends, not a failure.
    registry.deploy(spec("good", "normal", r#"{"label":"alpha"}"#)).await.unwrap();
    let call = TestCall::new("h", &[]);
    let report = registry.run_inbound("good", dyn_call(&call), Services::unavailable()).await.unwrap();
    assert_eq!(report.outcome, CallOutcome::CallerHungUp);
    let v = registry.active("good").unwrap();
    assert_eq!(v.counts().failures, 0);
    assert_eq!(v.counts().caller_hangups, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_call_timeout_ends_a_call_parked_in_the_host() {
    use tokio::sync::{Notify, Semaphore};
    let registry = FlowRegistry::new(test_host(None));
    let mut s = spec("slow", "normal", r#"{"label":"alpha"}"#);
    s.limits = Some(PluginLimits { call_timeout: Duration::from_millis(300), ..PluginLimits::default() });
    registry.deploy(s).await.unwrap();
    // The caller never presses anything: the gate is never opened.
    let call = TestCall::gated("stuck", &["8"], Arc::new(Semaphore::new(0)), Arc::new(Notify::new()));
    let report = registry.run_inbound("slow", dyn_call(&call), Services::unavailable()).await.unwrap();
    let (kind, message, action) = failure_of(&report.outcome);
    assert_eq!(kind, FailureKind::Timeout);
    assert!(message.contains("total time limit"), "{message}");
    assert!(matches!(action, PolicyAction::Enqueued(_)), "{action:?}");
    assert_eq!(registry.host().free_instance_slots(), 128, "the parked instance's slot was returned");
}
