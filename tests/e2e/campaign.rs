//! Outbound campaigns through real SIP trunks: the demo runtime gets three `[[trunk]]`s, each a
//! SIPp UAS (one answers and presses 3, one is busy, one rings out), and campaigns created over
//! the HTTP API dial them. The answered targets run the arrears-reminder plugin for real (demo
//! unit xfhy-1-1-302 owes money): the target result and the outbound CDR say "confirmed".
//! Also: pacing (INVITEs ≥ 1 / calls_per_second apart), busy retries spaced, ring-out recorded,
//! a campaign outside its calling hours places no call, the dial-plan guard refuses an
//! injected dial string (422 + audit entry) and a CSV list with a bad line (line number).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Runtime, free_udp_port, free_udp_port_pair, http_request, scenario};

/// A SIPp UAS in the background on a known port, answering `calls` calls with `scenario_file`.
pub(crate) struct Uas {
    pub(crate) addr: SocketAddr,
    child: Child,
    dir: tempfile::TempDir,
}

impl Uas {
    pub(crate) fn spawn(scenario_file: &str, calls: u32) -> Uas {
        Uas::spawn_at(&scenario(scenario_file), free_udp_port(), calls)
    }

    /// Like [`Uas::spawn`], also writing SIPp's message trace (returned by [`Uas::finish`]).
    pub(crate) fn spawn_traced(scenario_file: &str, calls: u32) -> Uas {
        Uas::spawn_with(&scenario(scenario_file), free_udp_port(), calls, &["-trace_msg"])
    }

    /// A UAS with any scenario file on a given local port.
    fn spawn_at(scenario_path: &std::path::Path, port: u16, calls: u32) -> Uas {
        Uas::spawn_with(scenario_path, port, calls, &[])
    }

    fn spawn_with(scenario_path: &std::path::Path, port: u16, calls: u32, extra: &[&str]) -> Uas {
        let dir = tempfile::tempdir().expect("sipp dir");
        let child = Command::new("sipp")
            .arg("-sf")
            .arg(scenario_path)
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-mp", &free_udp_port_pair().to_string()])
            .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "60s", "-timeout_error", "-trace_err"])
            .args(extra)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run sipp (install sip-tester)");
        Uas { addr: format!("127.0.0.1:{port}").parse().expect("addr"), child, dir }
    }

    /// Waits for SIPp to exit after its calls; returns the exit code and its error log.
    pub(crate) fn finish(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let code = loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                break st.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break -2;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let logs = std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .collect::<String>();
        (code, logs)
    }
}

impl Drop for Uas {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn api_json(rt: &Runtime, token: &str, path: &str) -> Value {
    let (code, body) = http_request(rt.http, "GET", path, Some(token), None).expect("GET");
    assert_eq!(code, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

pub(crate) fn post(rt: &Runtime, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let (code, text) = http_request(rt.http, "POST", path, Some(token), Some(&body.to_string())).expect("POST");
    (code, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub(crate) fn campaign(id: &str, trunk: &str, extra: Value) -> Value {
    let mut c = json!({
        "id": id, "flow": "arrears-reminder", "trunk": trunk, "answer_delay_ms": 300, "ring_timeout_secs": 5,
        "limits": { "max_concurrent": 2, "calls_per_second": 2.0 },
        "hours": { "start": "00:00", "end": "24:00" },
        "retry": { "busy": { "max_attempts": 2, "spacing_secs": 1 }, "no_answer": { "max_attempts": 1, "spacing_secs": 60 },
                   "failed": { "max_attempts": 1, "spacing_secs": 60 } },
    });
    if let (Some(c), Some(e)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    c
}

pub(crate) fn targets(rt: &Runtime, token: &str, id: &str) -> Vec<Value> {
    api_json(rt, token, &format!("/api/v1/campaigns/{id}/targets"))["targets"].as_array().cloned().unwrap_or_default()
}

fn started(t: &Value) -> Vec<u64> {
    t["attempts"].as_array().map(|a| a.iter().filter_map(|x| x["started_ms"].as_u64()).collect()).unwrap_or_default()
}

#[test]
fn campaigns_dial_sipp_trunks_run_the_arrears_flow_and_respect_pacing_retries_hours_and_dial_plan() {
    let answer = Uas::spawn("campaign-answer.xml", 2);
    let busy = Uas::spawn("campaign-busy.xml", 2);
    let ringout = Uas::spawn("campaign-ringout.xml", 1);
    let extra_dir = tempfile::tempdir().expect("tempdir");
    let extra = extra_dir.path().join("outbound.toml");
    let trunk = |name: &str, addr: SocketAddr| {
        format!("[[trunk]]\nname = \"{name}\"\nhost = \"{addr}\"\ncaller_id = \"4008123456\"\nmax_concurrent = 4\ncalls_per_second = 10.0\noptions_interval_secs = 0\n")
    };
    std::fs::write(
        &extra,
        format!(
            "[[flow]]\nname = \"arrears-reminder\"\nwasm = \"arrears_reminder.wasm\"\n\
             [flow.config.arrears]\nunit_param = \"unit_id\"\nintro_text = \"欠费{{amount}}\"\nmenu_prompt = \"确认请按3\"\nconfirmed_text = \"好的\"\n\
             [flow.config.common]\nfirst_digit_timeout_ms = 3000\n\n{}{}{}",
            trunk("answer", answer.addr),
            trunk("busy", busy.addr),
            trunk("ringout", ringout.addr)
        ),
    )
    .expect("write extra config");
    let extra_arg = extra.to_string_lossy().to_string();
    let rt = Runtime::start_demo_with(&["--config-extra", &extra_arg]);
    let token = rt.admin_token();

    // A CSV list with bad lines is refused as a whole, each bad line named.
    let bad_csv = "number,unit_id\n13800000001,xfhy-1-1-302\n13x,xfhy-1-1-302\n500&SIP/itsp/14165551212,x\n";
    let (code, body) = post(&rt, &token, "/api/v1/campaigns", &campaign("bad-list", "answer", json!({ "targets_csv": bad_csv })));
    assert_eq!(code, 422, "{body}");
    let msg = body.to_string();
    assert!(msg.contains("line 3") && msg.contains("line 4") && !msg.contains("line 2"), "{msg}");

    let t0 = Instant::now();
    let csv = "number,unit_id\n138-0000-0001,xfhy-1-1-302\n13800000002,xfhy-1-1-302\n";
    let (code, body) = post(&rt, &token, "/api/v1/campaigns", &campaign("arrears-answer", "answer", json!({ "targets_csv": csv })));
    assert_eq!(code, 201, "{body}");
    let one = |n: &str| json!({ "targets": [{ "id": "t1", "number": n, "params": { "unit_id": "xfhy-1-1-302" } }] });
    let (code, body) = post(&rt, &token, "/api/v1/campaigns", &campaign("arrears-busy", "busy", one("13900000001")));
    assert_eq!(code, 201, "{body}");
    let mut ring = campaign("arrears-ringout", "ringout", one("13700000001"));
    ring["ring_timeout_secs"] = json!(2);
    let (code, body) = post(&rt, &token, "/api/v1/campaigns", &ring);
    assert_eq!(code, 201, "{body}");
    // Calling hours closed right now (a one-hour window 12 hours away): no call may go out.
    let hour = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 3600 + 12) % 24;
    let mut quiet = campaign("arrears-quiet", "answer", one("13600000001"));
    quiet["hours"] = json!({ "start": format!("{hour:02}:00"), "end": format!("{hour:02}:59"), "utc_offset_minutes": 0 });
    let (code, body) = post(&rt, &token, "/api/v1/campaigns", &quiet);
    assert_eq!(code, 201, "{body}");

    // The dial-plan guard: an injected dial string is refused before any call, and audited.
    let (code, body) = post(&rt, &token, "/api/v1/calls/originate", &json!({ "agent_id": "8001", "number": "500&SIP/itsp/14165551212" }));
    assert_eq!(code, 422, "{body}");
    assert!(body.to_string().contains("'&' chains"), "{body}");

    let deadline = Instant::now() + Duration::from_secs(45);
    for id in ["arrears-answer", "arrears-busy", "arrears-ringout"] {
        loop {
            let p = api_json(&rt, &token, &format!("/api/v1/campaigns/{id}"));
            if p["state"] == "finished" {
                break;
            }
            assert!(Instant::now() < deadline, "campaign {id} did not finish: {p}\n{}", rt.log_text());
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let elapsed = t0.elapsed();

    // Answered: the arrears flow ran and the owner pressed 3.
    let answered = targets(&rt, &token, "arrears-answer");
    assert_eq!(answered.len(), 2);
    for t in &answered {
        assert_eq!(t["state"]["result"]["outcome"], "confirmed", "{t}\n{}", rt.log_text());
    }
    // Pacing: 2 calls/s → the two INVITEs at least 500 ms apart.
    let mut starts: Vec<u64> = answered.iter().flat_map(started).collect();
    starts.sort();
    assert!(starts[1] - starts[0] >= 500, "call starts {} ms apart", starts[1] - starts[0]);
    let p = api_json(&rt, &token, "/api/v1/campaigns/arrears-answer");
    assert_eq!((p["done"].as_u64(), p["total"].as_u64(), p["answered"].as_u64()), (Some(2), Some(2), Some(2)), "{p}");
    assert_eq!(p["answered_pct"].as_f64(), Some(100.0), "{p}");

    // Busy: retried once, 1 s after the first attempt ended.
    let b = &targets(&rt, &token, "arrears-busy")[0];
    let a = b["attempts"].as_array().expect("attempts");
    assert_eq!(a.len(), 2, "{b}");
    assert!(a[1]["started_ms"].as_u64() >= a[0]["ended_ms"].as_u64().map(|e| e + 1000), "busy retry spaced: {b}");
    assert_eq!(b["state"]["result"], json!({ "kind": "exhausted", "last": "busy" }), "{b}");

    // Rang out: cancelled after the 2 s ring timeout, recorded as no-answer.
    let r = &targets(&rt, &token, "arrears-ringout")[0];
    assert_eq!(r["state"]["result"], json!({ "kind": "exhausted", "last": "no-answer" }), "{r}");
    let ra = &r["attempts"][0];
    assert!(ra["ended_ms"].as_u64() >= ra["started_ms"].as_u64().map(|s| s + 2000), "{r}");

    // Outside its hours: waiting, nothing dialled; cancel it over the API.
    let q = api_json(&rt, &token, "/api/v1/campaigns/arrears-quiet");
    assert_eq!(q["state"], "waiting-for-hours", "{q}");
    assert!(targets(&rt, &token, "arrears-quiet")[0]["attempts"].as_array().is_some_and(|a| a.is_empty()));
    let (code, body) = post(&rt, &token, "/api/v1/campaigns/arrears-quiet/cancel", &json!({}));
    assert_eq!(code, 200, "{body}");

    // The outbound CDRs: direction outbound, the flow, what it read and the outcome.
    let cdrs = api_json(&rt, &token, "/api/v1/cdrs?limit=50");
    let outbound: Vec<&Value> = cdrs["items"]
        .as_array()
        .map(|a| a.iter().filter(|c| c["direction"] == "outbound" && !c["end"].is_null() && !c["answer"].is_null()).collect())
        .unwrap_or_default();
    assert_eq!(outbound.len(), 2, "{cdrs}");
    // Every attempt nobody answered has its record too, with why: two busy, one rang out.
    let mut unanswered: Vec<(String, String, String)> = cdrs["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|c| c["direction"] == "outbound" && c["answer"].is_null())
                .map(|c| {
                    assert!(!c["end"].is_null() && c["flow"] == "arrears-reminder", "{c}");
                    let v = |k: &str| c["vars"][k].as_str().unwrap_or_default().to_string();
                    (v("campaign_id"), v("attempt"), c["hangup_cause"].as_str().unwrap_or_default().to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    unanswered.sort();
    let want = |c: &str, a: &str, why: &str| (c.to_string(), a.to_string(), why.to_string());
    assert_eq!(
        unanswered,
        [want("arrears-busy", "1", "busy"), want("arrears-busy", "2", "busy"), want("arrears-ringout", "1", "no-answer")],
        "{cdrs}"
    );
    for c in &outbound {
        assert_eq!(c["flow"], "arrears-reminder", "{c}");
        assert_eq!(c["vars"]["outcome"], "confirmed", "{c}");
        assert_eq!(c["vars"]["campaign_id"], "arrears-answer", "{c}");
        assert!(c["vars"]["arrears_fen"].as_str().is_some_and(|f| f.parse::<i64>().is_ok_and(|f| f > 0)), "{c}");
    }
    let audit = api_json(&rt, &token, "/api/v1/audit?limit=100").to_string();
    assert!(audit.contains("dial.refused") && audit.contains("campaign.create"), "{audit}");

    drop(rt);
    for (name, uas) in [("answer", answer), ("busy", busy), ("ringout", ringout)] {
        let (code, logs) = uas.finish();
        assert_eq!(code, 0, "SIPp {name} UAS: {logs}");
    }
    eprintln!("campaign e2e: 3 campaigns, 5 attempts over SIPp trunks in {:.1} s", elapsed.as_secs_f64());
}

/// Click-to-call: the agent's registered phone (SIPp) rings first and answers, then the number is
/// dialled through the trunk (SIPp), the legs are bridged, and when the callee hangs up the
/// runtime ends the agent's leg; the outbound CDR names the agent and the origin.
#[test]
fn click_to_call_rings_the_agent_first_then_dials_the_number_and_bridges() {
    let callee = Uas::spawn("campaign-callee-hangup.xml", 1);
    let extra_dir = tempfile::tempdir().expect("tempdir");
    let extra = extra_dir.path().join("trunk.toml");
    std::fs::write(&extra, format!("[[trunk]]\nname = \"carrier\"\nhost = \"{}\"\ncaller_id = \"4008123456\"\noptions_interval_secs = 0\n", callee.addr))
        .expect("write extra config");
    let rt = Runtime::start_demo_with(&["--config-extra", &extra.to_string_lossy()]);
    let token = rt.admin_token();

    // The agent's phone registers from a port, then answers INVITEs on that same port.
    let phone_port = free_udp_port();
    let console_sipp = crate::support::repo_root().join("tests/console/sipp");
    let reg = Command::new("sipp")
        .arg(rt.sip.to_string())
        .arg("-sf")
        .arg(console_sipp.join("agent-register.xml"))
        .args(["-s", "8001", "-au", "8001", "-ap", "demo8001", "-i", "127.0.0.1", "-p", &phone_port.to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "15s", "-timeout_error"])
        .current_dir(extra_dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run sipp");
    assert_eq!(reg.status.code(), Some(0), "agent REGISTER: {}", String::from_utf8_lossy(&reg.stdout));
    let phone = Uas::spawn_at(&console_sipp.join("agent-phone.xml"), phone_port, 1);
    std::thread::sleep(Duration::from_millis(300)); // SIPp binds its port

    let (code, body) = post(&rt, &token, "/api/v1/calls/originate", &json!({ "agent_id": "8001", "number": "13800000009" }));
    assert_eq!(code, 200, "{body}");
    let call_id = body["call_id"].as_str().expect("call_id").to_string();

    let deadline = Instant::now() + Duration::from_secs(20);
    let cdr = loop {
        let (code, text) = http_request(rt.http, "GET", &format!("/api/v1/cdrs/{call_id}"), Some(&token), None).expect("GET cdr");
        if code == 200 {
            let v: Value = serde_json::from_str(&text).expect("cdr json");
            if !v["end"].is_null() {
                break v;
            }
        }
        assert!(Instant::now() < deadline, "no finished CDR {call_id}: {code} {text}\n{}", rt.log_text());
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(cdr["direction"], "outbound", "{cdr}");
    assert_eq!(cdr["called"], "13800000009", "{cdr}");
    assert_eq!(cdr["agent"], "8001", "{cdr}");
    assert!(!cdr["answer"].is_null(), "the callee answered: {cdr}");
    assert_eq!(cdr["vars"]["origin"], "click-to-call", "{cdr}");

    let (code, logs) = callee.finish();
    assert_eq!(code, 0, "SIPp callee: {logs}");
    let (code, logs) = phone.finish();
    assert_eq!(code, 0, "SIPp agent phone: {logs}");
}
