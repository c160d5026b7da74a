//! `kill -9` mid-traffic, restart on the same data directory: nothing acknowledged is lost and
//! the calls cut off get a call record marked interrupted.
//!
//! Before the kill: one finished after-hours call (its caller left a voice message, so it leaves
//! a recording in the index and a callback task), a work order and a callback created through
//! the API, and two calls in progress in the IVR. After the restart: all of it is there, the two
//! cut-off calls have a finished CDR with `interrupted: true`, nothing is live, and a new call
//! goes through (RTP ports and SIP dialogs of the dead process are gone).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::rtp::Phone;
use crate::support::{Runtime, final_cdr, free_udp_port, free_udp_port_pair, http_get, http_request, scenario, sipp_uac};

fn get_json(rt: &Runtime, path: &str, token: &str) -> Value {
    let (code, body) = http_get(rt.http, path, Some(token)).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(code, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

fn post_json(rt: &Runtime, path: &str, token: &str, body: &str) -> Value {
    let (code, text) = http_request(rt.http, "POST", path, Some(token), Some(body)).unwrap_or_else(|e| panic!("POST {path}: {e}"));
    assert!(code == 200 || code == 201, "POST {path}: {code} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {path}: {e}: {text}"))
}

fn wait_until(what: &str, within: Duration, rt: &Runtime, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}; log:\n{}", rt.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn kill_9_mid_traffic_then_restart_keeps_every_record_and_marks_cut_off_calls_interrupted() {
    // Closed hours: the after-hours service takes a voice message and books a callback.
    let mut rt = Runtime::start_demo_with(&["--hours", "closed"]);
    let token = rt.admin_token();

    // Two calls that will be in progress at the kill (the caller would hold for 60 s).
    let cut_phone = Phone::bind();
    let sip = rt.sip.to_string();
    let sipp_dir = tempfile::tempdir().expect("sipp dir");
    let mut cut_off = Command::new("sipp")
        .arg(&sip)
        .arg("-sf")
        .arg(scenario("e2e_call.xml"))
        .args(["-i", "127.0.0.1", "-p", &free_udp_port().to_string(), "-mp", &free_udp_port_pair().to_string()])
        .args(["-s", "4008123456", "-key", "caller", "13900000001", "-key", "rtp_port", &cut_phone.port().to_string()])
        .args(["-m", "2", "-l", "2", "-r", "10", "-recv_timeout", "60000", "-timeout", "90s", "-nostdin"])
        .current_dir(sipp_dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run sipp (install sip-tester)");

    // The finished call: after-hours notice, a key to skip the emergency question, a few
    // seconds of (silent) voice message ended by the silence timeout, confirmation, goodbye.
    let phone = Phone::bind();
    let port = phone.port().to_string();
    let sipp = std::thread::spawn(move || {
        sipp_uac(
            sip.parse().expect("sip addr"),
            &scenario("e2e_call.xml"),
            &["-s", "4008123404", "-key", "caller", "13800138000", "-key", "rtp_port", &port, "-recv_timeout", "40000"],
        )
    });
    assert!(phone.wait_for_media(Duration::from_secs(20)), "no RTP from the runtime; log:\n{}", rt.log_text());
    wait_until("the after-hours notice", Duration::from_secs(20), &rt, || phone.speech_seconds() >= 1.0);
    phone.press('1');

    // Acknowledged writes through the API while calls run.
    let order = post_json(
        &rt,
        "/api/v1/orders",
        &token,
        r#"{"category":"repair","caller":"13800138000","description":"crash test: leaking pipe","priority":"high"}"#,
    );
    let order_id = order["id"].as_str().expect("order id").to_string();
    let cb = post_json(
        &rt,
        "/api/v1/callbacks",
        &token,
        r#"{"number":"13700000002","reason":"crash test callback","due":"2030-01-01T09:00:00+08:00"}"#,
    );
    let cb_id = cb["id"].as_str().expect("callback id").to_string();

    let run = sipp.join().expect("sipp thread");
    assert_eq!(run.code, 0, "after-hours call failed:\n{}\n{}", run.output, rt.log_text());
    let finished = final_cdr(&rt, "13800138000");
    let rec_id = finished["recording_id"].as_str().unwrap_or_else(|| panic!("no recording on {finished}")).to_string();
    let cb_task = finished["vars"]["callback_task"].as_str().unwrap_or_else(|| panic!("no callback task on {finished}")).to_string();

    wait_until("both cut-off calls live", Duration::from_secs(20), &rt, || {
        get_json(&rt, "/api/v1/calls/live", &token).as_array().is_some_and(|a| a.iter().filter(|c| c["caller"] == "13900000001").count() == 2)
    });
    let live_ids: Vec<String> = get_json(&rt, "/api/v1/calls/live", &token)
        .as_array()
        .map(|a| a.iter().filter(|c| c["caller"] == "13900000001").filter_map(|c| c["call_id"].as_str().map(String::from)).collect())
        .unwrap_or_default();

    rt.kill9_and_restart(&["--hours", "closed"]);
    let _ = cut_off.kill();
    let _ = cut_off.wait();
    let token = rt.admin_token();

    // Finished call, its recording (index entry and file) and callback task.
    let cdr = get_json(&rt, &format!("/api/v1/cdrs/{}", finished["call_id"].as_str().unwrap_or_default()), &token);
    assert_eq!(cdr["interrupted"], false, "{cdr}");
    assert!(!cdr["end"].is_null(), "{cdr}");
    let rec = get_json(&rt, &format!("/api/v1/recordings/{rec_id}"), &token);
    let (code, _) = http_get(rt.http, &format!("/api/v1/recordings/{rec_id}/audio"), Some(&token)).expect("audio");
    assert_eq!(code, 200, "recording audio of {rec}");
    let callbacks = get_json(&rt, "/api/v1/callbacks?limit=500", &token);
    let cb_ids: Vec<&str> = callbacks["items"].as_array().map(|a| a.iter().filter_map(|c| c["id"].as_str()).collect()).unwrap_or_default();
    assert!(cb_ids.contains(&cb_task.as_str()), "callback task {cb_task} of the call lost: {callbacks}");
    assert!(cb_ids.contains(&cb_id.as_str()), "callback {cb_id} made through the API lost: {callbacks}");
    // The work order, with its history.
    let o = get_json(&rt, &format!("/api/v1/orders/{order_id}"), &token);
    assert_eq!(o["order"]["description"], "crash test: leaking pipe", "{o}");

    // The calls cut off: a finished record marked interrupted.
    for id in &live_ids {
        let c = get_json(&rt, &format!("/api/v1/cdrs/{id}"), &token);
        assert_eq!(c["interrupted"], true, "cut-off call not marked interrupted: {c}");
        assert!(!c["end"].is_null(), "cut-off call has no end time: {c}");
    }

    // Nothing of the dead process is live, and a new call goes through.
    assert_eq!(get_json(&rt, "/api/v1/calls/live", &token).as_array().map(Vec::len), Some(0));
    let (_, metrics) = http_get(rt.http, "/metrics", None).expect("metrics");
    assert!(metrics.lines().any(|l| l == "courtyard_calls_active 0"), "{metrics}");
    let again = sipp_uac(rt.sip, &scenario("uac-call.xml"), &["-s", "4008123456"]);
    assert_eq!(again.code, 0, "call after restart failed:\n{}\n{}", again.output, rt.log_text());
    assert_eq!(rt.terminate(), Some(0));
}
