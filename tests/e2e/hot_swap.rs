//! Zero-drop hot swap under load (issue 9): while SIPp drives a steady stream of short calls into
//! ivr-menu, the operator activates a new signed version through the API and then rolls it back.
//! SIPp must report no failed call, and the call records must show calls on both versions, each
//! on the version that was active when it was answered — calls in progress across a swap finish
//! on the version they started with.
//!
//! The new version is the shipped ivr_menu component with one extra custom section (so its
//! digest, and so its version key, differ), packed with `plugin.toml` version 1.1.0 and signed
//! with a vendor key the node trusts — the same `courtyard plugin keygen/trust/pack/sign` an
//! operator uses.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};

use crate::support::{Runtime, api_json, finished_cdrs, http_request, plugins_dir, scenario, sipp_load};

const NUMBER: &str = "4008123400";
const CALLER: &str = "13700009999";
/// Calls, rate and length: ~12 s of steady load with ~20 calls in progress at any moment.
const CALLS: u32 = 80;
const PER_SECOND: u32 = 8;
const CALL_MS: u64 = 2500;

fn courtyard(args: &[&str], dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_courtyard")).args(args).current_dir(dir).output().expect("run courtyard");
    assert!(
        out.status.success(),
        "courtyard {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Appends a custom section (`name`, `payload`) to a wasm binary: same code, different digest.
fn with_custom_section(wasm: &[u8], name: &str, payload: &[u8]) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let mut body = Vec::new();
    leb(name.len(), &mut body);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut out = wasm.to_vec();
    out.push(0);
    leb(body.len(), &mut out);
    out.extend_from_slice(&body);
    out
}

/// A signed package of ivr-menu `version` whose key the node in `data` trusts.
pub(crate) fn signed_package(dir: &Path, data: &Path, version: &str) -> Vec<u8> {
    let d = dir.to_str().expect("utf-8 temp path");
    courtyard(&["plugin", "keygen", "--key-id", "e2e-vendor-2026", "--vendor", "e2e-vendor", "--out", d], dir);
    let trust = data.join("trust.toml");
    courtyard(&["plugin", "trust", "--trust", trust.to_str().expect("path"), "add", "e2e-vendor-2026.pub"], dir);
    let caps = ALL_CAPS.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
    let manifest = format!(
        "name = \"ivr-menu\"\nversion = \"{version}\"\nvendor = \"e2e-vendor\"\ndescription = \"ivr-menu, rebuilt for the hot-swap test\"\n\
         wit = \"courtyard:flow@0.1.0\"\nworld = \"inbound-flow\"\ncapabilities = [{caps}]\nmemory-mib = 32\nconfig-schema = '{{}}'\n"
    );
    std::fs::write(dir.join("plugin.toml"), manifest).expect("plugin.toml");
    let wasm = std::fs::read(plugins_dir().join("ivr_menu.wasm")).expect("ivr_menu.wasm (run `make plugins`)");
    std::fs::write(dir.join("ivr_menu.wasm"), with_custom_section(&wasm, "courtyard-e2e-build", version.as_bytes())).expect("wasm");
    courtyard(&["plugin", "pack", "plugin.toml", "ivr_menu.wasm", "-o", "ivr-menu.cyp"], dir);
    courtyard(&["plugin", "sign", "ivr-menu.cyp", "--key", "e2e-vendor-2026.key"], dir);
    std::fs::read(dir.join("ivr-menu.cyp")).expect("package")
}

pub(crate) const ALL_CAPS: [&str; 14] = [
    "call",
    "directory.read",
    "billing.read",
    "work-orders.read",
    "work-orders.write",
    "notify.sms",
    "notify.email",
    "notify.webhook",
    "notify.on-duty",
    "kv",
    "log",
    "config",
    "clock",
    "content",
];

/// POST with a raw (binary) body.
fn post_bytes(rt: &Runtime, token: &str, path: &str, body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(rt.http).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        rt.http,
        body.len()
    )
    .expect("write");
    s.write_all(body).expect("write body");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw).to_string();
    let code = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

fn active_key(rt: &Runtime, token: &str) -> String {
    let v = api_json(rt, token, "/api/v1/flows");
    let flow = v["flows"].as_array().and_then(|f| f.iter().find(|f| f["name"] == "ivr-menu")).cloned().expect("ivr-menu listed");
    let active = flow["versions"].as_array().and_then(|vs| vs.iter().find(|v| v["active"] == true)).cloned().expect("an active version");
    active["key"].as_str().expect("key").to_string()
}

/// Runs `f` and returns the wall-clock window it took.
fn timed(f: impl FnOnce()) -> (DateTime<Utc>, DateTime<Utc>) {
    let from = Utc::now();
    f();
    (from, Utc::now())
}

#[test]
fn activate_and_roll_back_under_load_drops_no_call() {
    let rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    let token = rt.admin_token();
    let old = active_key(&rt, &token);

    // Install (compile + canary) before the load; activation is what happens under load.
    let pkg_dir = tempfile::tempdir().expect("package dir");
    let pkg = signed_package(pkg_dir.path(), rt.data.path(), "1.1.0");
    let grants = ALL_CAPS.join(",");
    let (code, body) = post_bytes(&rt, &token, &format!("/api/v1/plugins/install?flow=ivr-menu&grants={grants}"), &pkg);
    assert_eq!(code, 200, "install refused: {body}\n{}", rt.log_text());
    let installed: serde_json::Value = serde_json::from_str(&body).expect("install json");
    let new = installed["version"].as_str().expect("version key").to_string();
    assert_ne!(new, old, "the rebuilt component must be a new version");
    assert_eq!(active_key(&rt, &token), old, "installing must not activate");

    let sip = rt.sip;
    let d = CALL_MS.to_string();
    let load = std::thread::spawn(move || {
        sipp_load(sip, &scenario("e2e_short_call.xml"), CALLS, PER_SECOND, &["-s", NUMBER, "-key", "caller", CALLER, "-d", &d])
    });
    // A third of the calls on the old version, then the new one, then back.
    let third = Duration::from_millis(u64::from(CALLS) * 1000 / u64::from(PER_SECOND) / 3);
    std::thread::sleep(third);
    let activated = timed(|| {
        let body = format!(r#"{{"version":"{new}"}}"#);
        let (code, text) = http_request(rt.http, "POST", "/api/v1/flows/ivr-menu/activate", Some(&token), Some(&body)).expect("activate");
        assert_eq!(code, 200, "activate: {text}");
    });
    std::thread::sleep(third);
    let rolled_back = timed(|| {
        let (code, text) = http_request(rt.http, "POST", "/api/v1/flows/ivr-menu/rollback", Some(&token), Some("")).expect("rollback");
        assert_eq!(code, 200, "rollback: {text}");
    });
    let run = load.join().expect("sipp thread");
    assert_eq!(run.code, 0, "SIPp saw failed calls during the swap:\n{}\n{}", run.output, rt.log_text());
    assert_eq!(active_key(&rt, &token), old, "rollback must reactivate the old version");

    // Every call has a finished record naming the version it ran on.
    let mut cdrs = Vec::new();
    crate::support::wait_until("all call records", Duration::from_secs(15), || {
        cdrs = finished_cdrs(&rt, &token, 500).into_iter().filter(|c| c["caller"] == CALLER).collect();
        cdrs.len() >= CALLS as usize
    });
    let margin = chrono::Duration::milliseconds(300);
    let at = |c: &serde_json::Value, k: &str| -> DateTime<Utc> {
        DateTime::<FixedOffset>::parse_from_rfc3339(c[k].as_str().unwrap_or_else(|| panic!("{k} missing: {c}"))).expect("time").with_timezone(&Utc)
    };
    let (mut on_old, mut on_new, mut spanning) = (0, 0, 0);
    for c in &cdrs {
        let version = c["plugin_version"].as_str().unwrap_or_else(|| panic!("no version in {c}"));
        let (answered, ended) = (at(c, "answer"), at(c, "end"));
        let is_new = version == format!("1.1.0@{new}");
        assert!(is_new || version.ends_with(&format!("@{old}")), "unknown version {version} in {c}");
        if is_new { on_new += 1 } else { on_old += 1 }
        // Which version was active when the call was answered (skip calls inside a swap's window).
        let expect_new = if answered < activated.0 - margin || answered > rolled_back.1 + margin {
            Some(false)
        } else if answered > activated.1 + margin && answered < rolled_back.0 - margin {
            Some(true)
        } else {
            None
        };
        if let Some(expect_new) = expect_new {
            assert_eq!(is_new, expect_new, "call answered at {answered} ran on {version}; swaps at {activated:?} and {rolled_back:?}: {c}");
        }
        let spans = |w: &(DateTime<Utc>, DateTime<Utc>)| answered < w.0 - margin && ended > w.1;
        if spans(&activated) || spans(&rolled_back) {
            spanning += 1;
        }
        assert!(c["hangup_cause"].as_str().is_none_or(|h| !h.contains("plugin")), "a plugin failure: {c}");
    }
    assert!(on_old > 0 && on_new > 0, "calls on both versions expected: {on_old} old, {on_new} new");
    assert!(spanning >= 5, "only {spanning} calls were in progress across a swap");
    eprintln!("hot swap: {} calls, {on_old} on {old}, {on_new} on 1.1.0@{new}, {spanning} across a swap", cdrs.len());
    assert_eq!(rt.terminate(), Some(0));
}
