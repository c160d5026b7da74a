//! Flows written in Python and JavaScript on real calls (issue 12): the demo runtime with its
//! `bill-lookup` flow (4008123401) served by the componentize-py and the componentize-js builds of
//! examples/bill-lookup-{py,js} instead of the Rust plugin. A recognised owner (demo data) calls,
//! hears the synthesized statement and the SMS offer, presses 1; the call record shows the path
//! and the payment-link SMS is in the store. Both variants run concurrently, each on its own
//! runtime. The components are built by `make examples` (the test fails when they are missing).

use std::path::PathBuf;
use std::time::Duration;

use crate::support::caller::Call;
use crate::support::{Runtime, final_cdr, notifications_in, plugins_dir, repo_root};

/// Longest the call may last; it ends earlier, when the flow hangs up after the SMS.
const HOLD: Duration = Duration::from_secs(60);

/// A plugins directory holding the demo's Rust components, with `bill_lookup.wasm` replaced by
/// the given example's component.
fn plugins_with_bill_lookup(example: &str) -> (tempfile::TempDir, PathBuf) {
    let component = repo_root().join("examples").join(example).join("bill-lookup.wasm");
    assert!(component.is_file(), "{} missing: build it with `make examples`", component.display());
    let dir = tempfile::tempdir().expect("temp plugins dir");
    for entry in std::fs::read_dir(plugins_dir()).expect("plugins dir (make plugins)") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "wasm") && path.file_name().is_some_and(|n| n != "bill_lookup.wasm") {
            std::os::unix::fs::symlink(&path, dir.path().join(path.file_name().expect("name"))).expect("symlink");
        }
    }
    std::os::unix::fs::symlink(&component, dir.path().join("bill_lookup.wasm")).expect("symlink");
    (dir, component)
}

/// One bill-lookup call into the runtime serving `example`; checks the call record and the SMS.
fn bill_lookup_call(example: &str) {
    let (plugins, component) = plugins_with_bill_lookup(example);
    let size = std::fs::metadata(&component).map(|m| m.len()).unwrap_or(0);
    assert!(size > 5 << 20, "{example}: {} bytes is not an interpreter component", size);
    let mut rt = Runtime::start_demo_from(plugins.path(), &["--hours", "24x7"]);
    // The demo grants bill-lookup only what it uses; the interpreter imports kv and content too,
    // which the demo declares unused: they are linked as traps, not granted.
    let token = rt.admin_token();
    let flows = crate::support::api_json(&rt, &token, "/api/v1/flows");
    let version = flows["flows"].as_array().and_then(|f| f.iter().find(|f| f["name"] == "bill-lookup")).map(|f| f["versions"][0].clone());
    let version = version.unwrap_or_else(|| panic!("{example}: no bill-lookup flow: {flows}"));
    assert_eq!(version["trapped_imports"], serde_json::json!(["kv", "content"]), "{example}: {version}");
    assert!(!version["grants"].as_array().is_some_and(|g| g.iter().any(|c| c == "kv")), "{example}: {version}");
    let call = Call::dial(&rt, "4008123401", "13204182295", HOLD);
    call.hear_prompt("the bill and the SMS offer", 4.0);
    call.press("1");
    call.hear_prompt("SMS sent and goodbye", 1.0);
    call.end(&rt);

    let cdr = final_cdr(&rt, "13204182295");
    assert_eq!(cdr["flow"], "bill-lookup", "{example}: {cdr}");
    assert_ne!(cdr["hangup_side"], "caller", "{example}: the flow should have ended the call: {cdr}");
    let path: Vec<&str> = cdr["ivr_path"].as_array().map(|a| a.iter().filter_map(|p| p.as_str()).collect()).unwrap_or_default();
    assert!(path.contains(&"bills") && path.contains(&"bills:sms"), "{example}: IVR path {path:?}; {cdr}");
    assert_eq!(cdr["vars"]["sms"], "payment-link", "{example}: {cdr}");
    assert_eq!(cdr["vars"]["arrears_fen"], "26300", "{example}: {cdr}");
    assert!(!rt.log_text().contains("plugin failed"), "{example}: the flow failed; log:\n{}", rt.log_text());
    assert_eq!(rt.stop(), Some(0));

    let sms = notifications_in(rt.data.path());
    assert!(
        sms.iter().any(|n| n.channel == "sms" && n.to == "13204182295" && n.text.contains("263.00元") && n.text.contains("http")),
        "{example}: payment-link SMS missing: {:?}",
        sms.iter().map(|n| (&n.channel, &n.to, &n.text)).collect::<Vec<_>>()
    );
}

#[test]
fn python_and_js_bill_lookup_take_real_calls() {
    std::thread::scope(|s| {
        let py = s.spawn(|| bill_lookup_call("bill-lookup-py"));
        let js = s.spawn(|| bill_lookup_call("bill-lookup-js"));
        let (py, js) = (py.join(), js.join());
        if let Err(e) = py {
            std::panic::resume_unwind(e);
        }
        if let Err(e) = js {
            std::panic::resume_unwind(e);
        }
    });
}
