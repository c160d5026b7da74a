//! The operator's lifecycle verbs on a live node, through the `courtyard flow …` CLI (which calls
//! the authenticated API): install a signed package, stage it for one estate, see a real call from
//! that estate run it while a caller from elsewhere stays on the active version, refuse to
//! uninstall what is in use, promote it — and find all of that again after a restart.

use std::process::Command;

use crate::hot_swap::{ALL_CAPS, signed_package};
use crate::support::{Runtime, api_json, final_cdr, scenario, sipp_uac};

const NUMBER: &str = "4008123400";
/// 张伟, a demo owner in estate `xfhy`.
const XFHY_CALLER: &str = "13800138000";
/// Not in the directory: no estate.
const STRANGER: &str = "13700001111";

/// Runs `courtyard flow <args> --server … --user admin --password admin-demo`.
fn flow_cli(rt: &Runtime, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_courtyard"))
        .arg("flow")
        .args(args)
        .args(["--server", &format!("http://{}", rt.http), "--user", "admin", "--password", "admin-demo"])
        .output()
        .expect("run courtyard flow");
    let mut text = String::from_utf8_lossy(&out.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn ivr_menu_versions(rt: &Runtime, token: &str) -> Vec<serde_json::Value> {
    let v = api_json(rt, token, "/api/v1/flows");
    let flow = v["flows"].as_array().and_then(|f| f.iter().find(|f| f["name"] == "ivr-menu")).cloned().expect("ivr-menu listed");
    flow["versions"].as_array().cloned().expect("versions")
}

fn call(rt: &Runtime, caller: &str) -> String {
    let run = sipp_uac(rt.sip, &scenario("e2e_short_call.xml"), &["-s", NUMBER, "-key", "caller", caller, "-d", "1500"]);
    assert_eq!(run.code, 0, "call from {caller} failed:\n{}\n{}", run.output, rt.log_text());
    let cdr = final_cdr(rt, caller);
    cdr["plugin_version"].as_str().unwrap_or_else(|| panic!("no plugin_version in {cdr}")).to_string()
}

#[test]
fn install_stage_promote_through_the_cli_and_keep_it_across_a_restart() {
    let mut rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    let token = rt.admin_token();
    let stable = ivr_menu_versions(&rt, &token).into_iter().find(|v| v["active"] == true).expect("active")["key"]
        .as_str()
        .expect("key")
        .to_string();

    let dir = tempfile::tempdir().expect("package dir");
    signed_package(dir.path(), rt.data.path(), "1.2.0");
    let pkg = dir.path().join("ivr-menu.cyp");
    let (ok, out) = flow_cli(&rt, &["install", "ivr-menu", pkg.to_str().expect("path"), "--grant", &ALL_CAPS.join(",")]);
    assert!(ok, "install: {out}");
    let installed: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let candidate = installed["version"].as_str().expect("version key").to_string();

    // A grant missing from the request is refused with the reason, and nothing is installed.
    let (ok, out) = flow_cli(&rt, &["install", "ivr-menu", pkg.to_str().expect("path"), "--grant", "call,log"]);
    assert!(!ok && out.contains("422") && out.contains("not granted"), "under-granted install: {out}");

    // Stage the candidate for estate xfhy only.
    let (ok, out) = flow_cli(&rt, &["rollout", "ivr-menu", &candidate, "--estate", "xfhy"]);
    assert!(ok, "rollout: {out}");
    assert_eq!(call(&rt, XFHY_CALLER), format!("1.2.0@{candidate}"), "an xfhy owner's call runs the candidate");
    assert!(call(&rt, STRANGER).ends_with(&format!("@{stable}")), "a caller from no estate stays on the active version");

    // In use: neither the candidate nor the active version can be uninstalled.
    let (ok, out) = flow_cli(&rt, &["uninstall", "ivr-menu", &candidate]);
    assert!(!ok && out.contains("409") && out.contains("rollout candidate"), "uninstall candidate: {out}");
    let (ok, out) = flow_cli(&rt, &["uninstall", "ivr-menu", &stable]);
    assert!(!ok && out.contains("409"), "uninstall active: {out}");

    // Promote; `flow list` shows it active.
    let (ok, out) = flow_cli(&rt, &["activate", "ivr-menu", &candidate]);
    assert!(ok, "activate: {out}");
    let (ok, out) = flow_cli(&rt, &["list"]);
    assert!(ok && out.lines().any(|l| l.contains(&candidate) && l.contains("ivr-menu@1.2.0") && l.contains("active")), "list: {out}");

    // Restart on the same data directory: the promoted package serves again.
    rt.restart(&["--hours", "24x7"]);
    let token = rt.admin_token();
    let versions = ivr_menu_versions(&rt, &token);
    let active = versions.iter().find(|v| v["active"] == true).expect("an active version after restart");
    assert_eq!(active["key"], candidate.as_str(), "after restart: {versions:?}\n{}", rt.log_text());
    assert_eq!(active["plugin_version"], "1.2.0");
    assert!(call(&rt, STRANGER).starts_with("1.2.0@"), "after restart every caller gets the promoted version");

    // Roll back, then the unused candidate can go, and stays gone.
    let (ok, out) = flow_cli(&rt, &["rollback", "ivr-menu"]);
    assert!(ok && out.contains(&stable), "rollback: {out}");
    let (ok, out) = flow_cli(&rt, &["uninstall", "ivr-menu", &candidate]);
    assert!(ok, "uninstall: {out}");
    assert!(!ivr_menu_versions(&rt, &token).iter().any(|v| v["key"] == candidate.as_str()));

    // Every step is in the audit log under the operator's name.
    let audit = api_json(&rt, &token, "/api/v1/audit?limit=200").to_string();
    for action in ["plugin.install", "flow.rollout", "flow.activate", "flow.rollback", "flow.uninstall"] {
        assert!(audit.contains(action), "{action} missing from the audit log: {audit}");
    }
}
