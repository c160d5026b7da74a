//! Interpreter components (componentize-py, componentize-js: tens of MB, 14 and 4 core instances
//! each) and Rust flows (3 core instances) in flight at once on one small host: the pool must be
//! sized per concurrent instance for the largest of them, and a memory cap below what the
//! interpreter's image needs is refused at install by the canary, not at the first call.
//! Uses the example components built by `make examples` (examples/bill-lookup-{py,js}).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use courtyard_flows::{CallOutcome, FlowHost, FlowRegistry, HostConfig, InstallSpec, PluginLimits, Services};
use tokio::sync::{Notify, Semaphore};

use crate::common::{call::TestCall, dyn_call, guests};

/// A compiled-component cache shared by these tests and kept between runs: compiling an
/// interpreter component takes seconds of CPU, loading it from the cache milliseconds. The same
/// directory as `courtyard flow test` and the e2e runtimes, so `make test` compiles each once.
fn cache_dir() -> Option<PathBuf> {
    Some(std::env::temp_dir().join("courtyard-sim-cache"))
}

fn example(lang: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../examples/bill-lookup-{lang}/bill-lookup.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (build the examples: make examples)", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_js_and_rust_instances_coexist_in_a_pool_sized_for_four_calls() {
    let host = FlowHost::new(HostConfig { max_concurrent_instances: 4, cache_dir: cache_dir(), ..HostConfig::default() }).expect("host");
    let registry = Arc::new(FlowRegistry::new(host));
    registry.deploy(InstallSpec::new("py", "bill-lookup-py", example("py"))).await.expect("python flow installs");
    registry.deploy(InstallSpec::new("js", "bill-lookup-js", example("js"))).await.expect("js flow installs");
    let mut rust = InstallSpec::new("rust", "guest-normal", guests::bytes("normal"));
    rust.config_json = r#"{"label":"alpha"}"#.into();
    registry.deploy(rust).await.expect("rust flow installs");

    // Four calls held mid-flow (each parked in its first collect): two Python, one JS, one Rust.
    let gate = Arc::new(Semaphore::new(0));
    let parked = Arc::new(Notify::new());
    let mut calls = Vec::new();
    for (i, flow) in ["py", "py", "js", "rust"].into_iter().enumerate() {
        let call = TestCall::gated(format!("{flow}-{i}"), &[], gate.clone(), parked.clone());
        let (r, c) = (registry.clone(), dyn_call(&call));
        let task = tokio::spawn(async move { r.run_inbound(flow, c, Services::unavailable()).await });
        calls.push((flow, call, task));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while calls.iter().any(|(_, c, t)| c.said().is_empty() && !t.is_finished()) {
        assert!(tokio::time::Instant::now() < deadline, "calls did not reach their first collect");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for (flow, call, task) in &calls {
        assert!(!task.is_finished(), "{flow} call ended before the gate opened: {:?}", call.failures.lock());
        assert!(!call.said().is_empty(), "{flow} call never spoke");
    }
    // Open the gate: every collect then reports the caller gone; the flows end normally.
    gate.add_permits(16);
    for (flow, call, task) in calls {
        let report = task.await.expect("call task").expect("flow is routed");
        assert!(
            !matches!(report.outcome, CallOutcome::Failed { .. }),
            "{flow}: {:?}; failures {:?}",
            report.outcome,
            call.failures.lock()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_cap_below_the_interpreter_image_is_refused_at_install() {
    let host = FlowHost::new(HostConfig { max_concurrent_instances: 2, cache_dir: cache_dir(), ..HostConfig::default() }).expect("host");
    let registry = FlowRegistry::new(host);
    for lang in ["py", "js"] {
        let mut spec = InstallSpec::new(format!("tight-{lang}"), format!("bill-lookup-{lang}"), example(lang));
        spec.limits = Some(PluginLimits { memory_bytes: 4 << 20, ..PluginLimits::default() });
        let err = registry.deploy(spec).await.expect_err("4 MiB cannot hold an interpreter");
        assert!(err.to_string().contains("memory"), "{lang}: {err}");
        let mut spec = InstallSpec::new(format!("roomy-{lang}"), format!("bill-lookup-{lang}"), example(lang));
        spec.limits = Some(PluginLimits { memory_bytes: 64 << 20, ..PluginLimits::default() });
        registry.deploy(spec).await.unwrap_or_else(|e| panic!("{lang} with 64 MiB: {e}"));
    }
}
