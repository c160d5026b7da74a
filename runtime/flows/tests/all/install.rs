//! Install-time refusals: malformed bytes, wrong world, ungranted interface, failing canary,
//! limits above the ceiling. Each names the reason, and nothing is activated.

use courtyard_flows::{
    Capability, CallOutcome, FlowKind, FlowRegistry, Grants, InstallError, InstallSpec, PluginLimits, RegistryError,
    Services,
};

use crate::common::{call::TestCall, dyn_call, guests, test_host};

#[tokio::test]
async fn malformed_bytes_are_refused_and_nothing_is_activated() {
    let registry = FlowRegistry::new(test_host(None));
    for bytes in [b"hello, not wasm".to_vec(), b"\0asm\x01\0\0\0garbage".to_vec(), Vec::new()] {
        let err = registry.deploy(InstallSpec::new("broken", "broken", bytes)).await.unwrap_err();
        match &err {
            RegistryError::Install(InstallError::Malformed(m)) => assert!(!m.is_empty()),
            other => panic!("expected a malformed-component error, got {other:?}"),
        }
        assert!(err.to_string().starts_with("not a valid WebAssembly component"), "{err}");
    }
    assert!(registry.active("broken").is_none());
    assert!(registry.flow_names().is_empty());
    // A truncated real component is refused too.
    let mut cut = guests::bytes("normal");
    cut.truncate(cut.len() / 2);
    let err = registry.install(InstallSpec::new("broken", "broken", cut)).await.unwrap_err();
    assert!(matches!(err, InstallError::Malformed(_)), "{err}");
}

#[tokio::test]
async fn wrong_world_is_refused_with_a_clear_message() {
    let registry = FlowRegistry::new(test_host(None));
    let err = registry.install(InstallSpec::new("tool", "tool", guests::bytes("wrong-world"))).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, InstallError::WrongWorld(_)), "{msg}");
    assert!(msg.contains("exports run") && msg.contains("handle-call") && msg.contains("on-answer"), "{msg}");

    // An outbound flow installed where an inbound one is expected.
    let mut spec = InstallSpec::new("ivr", "outbound", guests::bytes("outbound"));
    spec.kind = Some(FlowKind::Inbound);
    let err = registry.install(spec).await.unwrap_err();
    assert!(err.to_string().contains("expected world inbound-flow but the component implements outbound-flow"), "{err}");
    assert!(registry.active("ivr").is_none());
}

#[tokio::test]
async fn ungranted_interface_is_refused_naming_it() {
    let registry = FlowRegistry::new(test_host(None));
    let mut spec = InstallSpec::new("bill", "ungranted", guests::bytes("ungranted"));
    spec.grants = Grants::only([Capability::Call, Capability::Log]);
    let err = registry.install(spec.clone()).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, InstallError::Refused(_)), "{msg}");
    assert!(msg.contains("'courtyard:flow/billing@0.1.0'") || msg.contains("courtyard:flow/billing"), "{msg}");
    assert!(registry.active("bill").is_none());

    // Granting it makes the same component installable.
    spec.grants = Grants::only([Capability::Call, Capability::Billing]);
    registry.install(spec).await.unwrap();
}

/// Toolchains that import the whole world (componentize-py/js) get an interface declared unused
/// instead of granted: it installs, and a call into it traps naming the missing grant, so the
/// failure policy takes the caller and the business service is never reached.
#[tokio::test]
async fn an_interface_declared_unused_installs_and_traps_when_called() {
    let registry = FlowRegistry::new(test_host(None));
    let mut spec = InstallSpec::new("bill", "ungranted", guests::bytes("ungranted"));
    spec.grants = Grants::only([Capability::Call, Capability::Log]);
    spec.unused_imports = [Capability::Billing, Capability::Kv].into();
    let v = registry.deploy(spec).await.expect("installs with billing declared unused");
    assert_eq!(v.trapped_imports().collect::<Vec<_>>(), [Capability::Billing, Capability::Kv]);
    // The operator sees both lists for the version (GET /api/v1/flows).
    let info = &registry.versions("bill")[0];
    assert_eq!((info.grants.as_slice(), info.trapped_imports.as_slice()), (
        [Capability::Call, Capability::Log, Capability::Config].as_slice(),
        [Capability::Billing, Capability::Kv].as_slice()
    ));

    let call = TestCall::new("bill-1", &[]);
    let report = registry.run_inbound("bill", dyn_call(&call), Services::unavailable()).await.expect("routed");
    let CallOutcome::Failed { failure, .. } = &report.outcome else { panic!("expected a trap, got {:?}", report.outcome) };
    assert!(
        failure.message.contains("courtyard:flow/billing@0.1.0#arrears") && failure.message.contains("'billing' is not granted"),
        "{}",
        failure.message
    );
    // Nothing after the trapped call ran: the caller heard only the failure policy's apology.
    assert_eq!(call.said(), ["系统繁忙,正在为您转接人工客服"]);
}

#[tokio::test]
async fn failing_canary_keeps_the_previous_version_active() {
    let registry = FlowRegistry::new(test_host(None));
    let mut good = InstallSpec::new("desk", "guest-normal", guests::bytes("normal"));
    good.config_json = r#"{"label":"alpha"}"#.into();
    let v1 = registry.deploy(good.clone()).await.unwrap();

    let mut bad = good.clone();
    bad.config_json = r#"{"label":"beta","reject":true}"#.into();
    let err = registry.deploy(bad).await.unwrap_err();
    assert!(err.to_string().contains("canary failed: check-config rejected the configuration: configuration says reject"), "{err}");

    let mut not_json = good.clone();
    not_json.config_json = "{label: v3".into();
    assert!(matches!(registry.install(not_json).await, Err(InstallError::Config(_))));

    let mut greedy = good.clone();
    greedy.config_json = r#"{"label":"delta"}"#.into();
    greedy.limits = Some(PluginLimits { memory_bytes: 4 << 30, ..PluginLimits::default() });
    let err = registry.install(greedy).await.unwrap_err();
    assert!(err.to_string().contains("above the host's ceiling"), "{err}");

    assert_eq!(registry.active("desk").unwrap().key, v1.key);
    assert_eq!(registry.versions("desk").len(), 1);
    let call = TestCall::new("c", &["8"]);
    let report = registry.run_inbound("desk", dyn_call(&call), Services::unavailable()).await.unwrap();
    assert_eq!(report.outcome, CallOutcome::Completed);
}

#[tokio::test]
async fn outbound_flow_returns_its_outcome() {
    use courtyard_flows::wit::Target;
    let registry = FlowRegistry::new(test_host(None));
    registry.deploy(InstallSpec::new("remind", "outbound", guests::bytes("outbound"))).await.unwrap();
    let target = Target {
        campaign_id: "C1".into(),
        target_id: "T1".into(),
        number: "13800138000".into(),
        params: vec![("unit_id".into(), "U1".into())],
    };
    // Billing is unavailable: the flow returns an error, so the failure policy runs.
    let call = TestCall::new("o", &["1"]);
    let report = registry.run_outbound("remind", dyn_call(&call), Services::unavailable(), target).await.unwrap();
    assert!(matches!(report.outcome, CallOutcome::Failed { .. }), "{:?}", report.outcome);
    // An outbound flow cannot take an inbound call.
    let call = TestCall::new("i", &[]);
    let err = registry.run_inbound("remind", dyn_call(&call), Services::unavailable()).await.unwrap_err();
    assert!(matches!(err, RegistryError::WrongKind { .. }));
}
