//! The call simulator against real guest components: passing scripts, a failing script with
//! its first mismatch, the failure policy as seen by a script, and grant refusals.

use std::path::{Path, PathBuf};

use courtyard_flows::simulator::{SimError, run_script, run_script_file};

use crate::common::{guests, test_host};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts").join(name)
}

async fn run(guest: &str, name: &str) -> courtyard_flows::simulator::SimReport {
    let host = test_host(None);
    run_script_file(&host, &guests::path(guest), &script(name)).await.unwrap()
}

#[tokio::test]
async fn bill_lookup_script_passes() {
    let report = run("normal", "bill_lookup.toml").await;
    assert!(report.passed, "{report}");
    let text = report.to_string();
    assert!(text.contains("notify.send sms to 13800138000: 缴费链接 https://pay.courtyard.invalid/u/U1"), "{text}");
    assert!(text.ends_with("PASS"), "{text}");
}

#[tokio::test]
async fn repair_script_passes_with_recording_and_order_number() {
    let report = run("normal", "repair.toml").await;
    assert!(report.passed, "{report}");
    assert!(report.transcript.iter().any(|l| l.contains("work-orders.create #2611250001 repair urgent")), "{report}");
}

#[tokio::test]
async fn degraded_billing_and_outbound_scripts_pass() {
    let report = run("normal", "unavailable_billing.toml").await;
    assert!(report.passed, "{report}");
    assert!(report.transcript.iter().any(|l| l.contains("billing fails (unavailable)")), "{report}");
    let report = run("outbound", "outbound_reminder.toml").await;
    assert!(report.passed, "{report}");
}

#[tokio::test]
async fn failure_policy_is_visible_to_scripts() {
    let report = run("panic", "failure_policy.toml").await;
    assert!(report.passed, "{report}");
    assert!(report.transcript.iter().any(|l| l.starts_with("plugin failed: trap")), "{report}");
}

#[tokio::test]
async fn wrong_prompt_fails_at_its_step_with_transcript() {
    let report = run("normal", "wrong_prompt.toml").await;
    assert!(!report.passed);
    let m = report.mismatch.clone().unwrap();
    assert_eq!(m.step, 2);
    assert!(m.expected.contains("欢迎致电自来水公司"), "{m}");
    assert!(m.actual.contains("查询欠费请按一"), "{m}");
    let text = report.to_string();
    assert!(text.contains("FAIL at step 2") && text.contains("transcript:"), "{text}");
}

#[tokio::test]
async fn steps_left_when_the_plugin_ends_fail_the_run() {
    let host = test_host(None);
    let text = "[[step]]\nexpect_say = \"您好\"\n[[step]]\nexpect_say = \"按一\"\n[[step]]\npress = \"8\"\n\
                [[step]]\nexpect_say = \"再见\"\n[[step]]\nexpect_transfer = \"8001\"\n";
    let report = run_script(&host, "normal", guests::bytes("normal"), text, Path::new(".")).await.unwrap();
    assert!(!report.passed);
    let m = report.mismatch.unwrap();
    assert_eq!(m.step, 5);
    assert!(m.actual.contains("the plugin ended"), "{m}");
}

#[tokio::test]
async fn script_grants_apply_and_bad_scripts_are_reported() {
    let host = test_host(None);
    let text = "grants = [\"call\", \"log\"]\n[[step]]\nexpect_say = \"您好\"\n";
    let err = run_script(&host, "normal", guests::bytes("normal"), text, Path::new(".")).await.unwrap_err();
    assert!(matches!(err, SimError::Install(_)), "{err}");
    assert!(err.to_string().contains("courtyard:flow/"), "{err}");

    let err = run_script(&host, "normal", guests::bytes("normal"), "[[step]]\nexpect_say = \"(\"\n", Path::new("."))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("step 1") && err.to_string().contains("invalid regex"), "{err}");
}
