//! Trunk operations against real SIPp trunks: digest authentication (a 407 proxy challenge
//! answered with Proxy-Authorization, whose MD5 response is recomputed here from SIPp's trace,
//! then the 401 of the PBX behind the proxy answered with both headers; a
//! 401 challenge checked by SIPp's own `verifyauth`, with the right and a wrong password — the
//! wrong one is one refused attempt with a reason, no retry) and trunk health (OPTIONS
//! keep-alive: a SIPp trunk answering is `up` with a response code and RTT, an address nobody
//! listens on turns `down`, `courtyard_trunk_up` says so, and click-to-call (503) and a campaign
//! on the down trunk fail at once with "trunk down").

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use serde_json::{Value, json};

use crate::campaign::{Uas, api_json, campaign, post, targets};
use crate::support::{Runtime, free_udp_port, http_request};

fn trunk(name: &str, addr: SocketAddr, extra: &str) -> String {
    format!("[[trunk]]\nname = \"{name}\"\nhost = \"{addr}\"\ncaller_id = \"4008123456\"\n{extra}\n")
}

fn one_target(id: &str, trunk: &str, number: &str) -> Value {
    let mut c = campaign(
        id,
        trunk,
        json!({ "targets": [{ "id": "t1", "number": number, "params": { "unit_id": "xfhy-1-1-302" } }] }),
    );
    c["retry"]["failed"] = json!({ "max_attempts": 2, "spacing_secs": 60 });
    c
}

fn trunk_json(rt: &Runtime, token: &str, name: &str) -> Value {
    let all = api_json(rt, token, "/api/v1/trunks");
    all["trunks"].as_array().and_then(|a| a.iter().find(|t| t["name"] == name).cloned()).unwrap_or(Value::Null)
}

fn md5_hex(s: &str) -> String {
    format!("{:x}", Md5::digest(s.as_bytes()))
}

/// The parameter `name` of a digest header line (quotes removed).
fn param<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.split([',', ' ']).find_map(|p| p.trim().strip_prefix(name)?.strip_prefix('=')).map(|v| v.trim_matches('"'))
}

#[test]
fn trunks_answer_digest_challenges_and_report_health_from_options_keepalives() {
    let proxy_auth = Uas::spawn_traced("trunk-proxy-auth.xml", 1);
    let www_auth = Uas::spawn("trunk-auth.xml", 1);
    let wrong_pw = Uas::spawn("trunk-auth.xml", 1);
    // Answers every OPTIONS while the test runs (stopped by drop; its exit code is not checked).
    let healthy = Uas::spawn("uas-options.xml", 1000);
    let nobody: SocketAddr = format!("127.0.0.1:{}", free_udp_port()).parse().expect("addr");
    let creds = "username = \"courtyard\"\npassword = \"trunk-secret\"\noptions_interval_secs = 0";
    let extra_dir = tempfile::tempdir().expect("tempdir");
    let extra = extra_dir.path().join("trunks.toml");
    std::fs::write(
        &extra,
        format!(
            "[[flow]]\nname = \"arrears-reminder\"\nwasm = \"arrears_reminder.wasm\"\n\
             [flow.config.arrears]\nunit_param = \"unit_id\"\nintro_text = \"欠费{{amount}}\"\nmenu_prompt = \"确认请按3\"\nconfirmed_text = \"好的\"\n\
             [flow.config.common]\nfirst_digit_timeout_ms = 3000\n\n{}{}{}{}{}",
            // First = the click-to-call trunk.
            trunk("dead", nobody, "options_interval_secs = 1"),
            trunk("itsp-407", proxy_auth.addr, creds),
            trunk("itsp-401", www_auth.addr, creds),
            trunk("itsp-wrong", wrong_pw.addr, "username = \"courtyard\"\npassword = \"not-the-secret\"\noptions_interval_secs = 0"),
            trunk("healthy", healthy.addr, "options_interval_secs = 1"),
        ),
    )
    .expect("write extra config");
    let rt = Runtime::start_demo_with(&["--config-extra", &extra.to_string_lossy()]);
    let token = rt.admin_token();
    let t0 = Instant::now();

    for (id, trunk, number) in
        [("auth-407", "itsp-407", "13800000401"), ("auth-401", "itsp-401", "13800000402"), ("auth-wrong", "itsp-wrong", "13800000403")]
    {
        let (code, body) = post(&rt, &token, "/api/v1/campaigns", &one_target(id, trunk, number));
        assert_eq!(code, 201, "{body}");
    }

    // Health: the answering trunk is up, the silent one goes down after 3 unanswered probes.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (h, d) = (trunk_json(&rt, &token, "healthy"), trunk_json(&rt, &token, "dead"));
        if h["state"] == "up" && d["state"] == "down" {
            assert_eq!(h["last_response_code"], 200, "{h}");
            assert!(h["rtt_ms"].as_u64().is_some() && h["last_checked"].as_i64().is_some(), "{h}");
            assert!(d["last_response_code"].is_null() && d["last_checked"].as_i64().is_some(), "{d}");
            break;
        }
        assert!(Instant::now() < deadline, "trunk health: healthy {h}, dead {d}\n{}", rt.log_text());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(trunk_json(&rt, &token, "itsp-401")["state"], "configured", "keep-alive off");
    let (code, metrics) = http_request(rt.http, "GET", "/metrics", Some(&token), None).expect("GET /metrics");
    assert_eq!(code, 200, "{metrics}");
    assert!(metrics.contains("courtyard_trunk_up{trunk=\"healthy\"} 1"), "{metrics}");
    assert!(metrics.contains("courtyard_trunk_up{trunk=\"dead\"} 0"), "{metrics}");

    // Click-to-call on the down trunk: refused before the agent's phone rings.
    let (code, body) = post(&rt, &token, "/api/v1/calls/originate", &json!({ "agent_id": "8001", "number": "13800000405" }));
    assert_eq!(code, 503, "{body}");
    assert!(body.to_string().contains("trunk down"), "{body}");

    // A campaign on the down trunk: the attempt fails at once with the reason, no INVITE waits.
    let (code, body) = post(&rt, &token, "/api/v1/campaigns", &one_target("on-dead-trunk", "dead", "13800000404"));
    assert_eq!(code, 201, "{body}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let done = |id: &str| -> Option<Value> {
        let t = targets(&rt, &token, id).into_iter().next()?;
        let attempts = t["attempts"].as_array()?;
        (!attempts.is_empty() && !t["state"]["result"].is_null() || id == "on-dead-trunk" && !attempts.is_empty()).then_some(t)
    };
    let mut results = std::collections::HashMap::new();
    for id in ["auth-407", "auth-401", "auth-wrong", "on-dead-trunk"] {
        loop {
            if let Some(t) = done(id) {
                results.insert(id, t);
                break;
            }
            assert!(Instant::now() < deadline, "campaign {id}: {:?}\n{}", targets(&rt, &token, id), rt.log_text());
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let elapsed = t0.elapsed();

    // The configured credentials get both calls through: answered, the flow ran, callee hung up.
    for id in ["auth-407", "auth-401"] {
        let t = &results[id];
        let a = &t["attempts"][0];
        assert_eq!(a["kind"], "answered", "{id}: {t}\n{}", rt.log_text());
    }
    // Wrong password: one attempt, refused with a reason naming the credentials, not retried.
    let w = &results["auth-wrong"];
    let attempts = w["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 1, "{w}");
    assert_eq!(attempts[0]["kind"], "rejected", "{w}");
    assert!(attempts[0]["detail"].as_str().is_some_and(|d| d.starts_with("401") && d.contains("credentials")), "{w}");
    // The down trunk: a failed attempt saying so (a retry is due later, per the failed rule).
    let d = &results["on-dead-trunk"];
    assert_eq!(d["attempts"][0]["kind"], "failed", "{d}");
    assert!(d["attempts"][0]["detail"].as_str().is_some_and(|r| r.contains("trunk down")), "{d}");
    let (code, body) = post(&rt, &token, "/api/v1/campaigns/on-dead-trunk/cancel", &json!({}));
    assert_eq!(code, 200, "{body}");

    drop(rt);
    drop(healthy);
    let (code, trace) = proxy_auth.finish();
    assert_eq!(code, 0, "SIPp 407 trunk: {trace}");
    // The 407 answer, recomputed independently: MD5 digest with qop=auth over the INVITE's URI,
    // a higher CSeq, the same Call-ID. Then the PBX behind the proxy challenged (401): the third
    // INVITE answers both, the proxy's nonce counted twice.
    let invites: Vec<&str> = trace.split("INVITE sip:").skip(1).collect();
    assert_eq!(invites.len(), 3, "three INVITEs reached the 407 + 401 trunk:\n{trace}");
    let header = |msg: &str, name: &str| -> String {
        msg.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string()).unwrap_or_default()
    };
    assert_eq!(header(invites[0], "Call-ID:"), header(invites[1], "Call-ID:"), "{trace}");
    assert_eq!(header(invites[0], "Call-ID:"), header(invites[2], "Call-ID:"), "{trace}");
    let cseqs: Vec<String> = invites.iter().map(|m| header(m, "CSeq:")).collect();
    assert_eq!(cseqs, ["1 INVITE", "2 INVITE", "3 INVITE"], "{trace}");
    for (invite, name, realm, want_nc) in [
        (invites[1], "Proxy-Authorization:", "itsp.example", "00000001"),
        (invites[2], "Proxy-Authorization:", "itsp.example", "00000002"),
        (invites[2], "Authorization:", "pbx.example", "00000001"),
    ] {
        let auth = header(invite, name);
        let (uri, nonce, nc, cnonce) =
            (param(&auth, "uri").unwrap_or(""), param(&auth, "nonce").unwrap_or(""), param(&auth, "nc").unwrap_or(""), param(&auth, "cnonce").unwrap_or(""));
        assert!(uri.starts_with("sip:13800000401@") && nc == want_nc && !cnonce.is_empty(), "{name} {auth}");
        assert_eq!(param(&auth, "realm"), Some(realm), "{name} {auth}");
        let ha1 = md5_hex(&format!("courtyard:{realm}:trunk-secret"));
        let ha2 = md5_hex(&format!("INVITE:{uri}"));
        let expected = md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
        assert_eq!(param(&auth, "response"), Some(expected.as_str()), "{auth}");
    }
    assert!(header(invites[1], "Authorization:").is_empty(), "no PBX answer before its challenge:\n{}", invites[1]);

    for (name, uas) in [("401", www_auth), ("wrong password", wrong_pw)] {
        let (code, logs) = uas.finish();
        assert_eq!(code, 0, "SIPp {name} trunk: {logs}");
    }
    eprintln!("trunks e2e: 4 campaigns, health up/down, in {:.1} s", elapsed.as_secs_f64());
}
