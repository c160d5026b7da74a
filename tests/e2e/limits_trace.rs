//! Operations on a live node (issue 11): a caller over `[limits] max_calls_per_caller` gets 486
//! with the limit named while their first call and another caller's call go on; and a SIP trace
//! started through the API logs the full text of that caller's messages — and nobody else's.

use std::time::Duration;

use crate::support::rtp::Phone;
use crate::support::{Runtime, http_get, http_request, scenario, sipp_call, sipp_uac, wait_until};

const TRACED: &str = "13800138077";
const OTHER: &str = "13800138078";
/// ivr-menu: the menu plays and waits for a key, so a call stays up as long as the caller holds.
const MENU: &str = "4008123400";

#[test]
fn caller_limit_refuses_the_second_call_and_a_trace_logs_only_the_traced_number() {
    let extra = tempfile::NamedTempFile::new().expect("temp toml");
    std::fs::write(extra.path(), "[limits]\nmax_calls_per_caller = 1\n").expect("write toml");
    let rt = Runtime::start_demo_with(&["--hours", "24x7", "--config-extra", &extra.path().to_string_lossy()]);
    let token = rt.admin_token();

    // Trace the caller's number for a minute.
    let body = format!(r#"{{"number":"{TRACED}","minutes":1}}"#);
    let (code, answer) = http_request(rt.http, "POST", "/api/v1/trace", Some(&token), Some(&body)).expect("POST trace");
    assert_eq!(code, 200, "{answer}");
    let (code, list) = http_get(rt.http, "/api/v1/trace", Some(&token)).expect("GET trace");
    assert!(code == 200 && list.contains(TRACED), "active traces should list the number: {code} {list}");
    // Without a bearer token, nobody starts a trace.
    let (code, _) = http_request(rt.http, "POST", "/api/v1/trace", None, Some(&body)).expect("POST trace");
    assert_eq!(code, 401);

    // First call from the traced number: up and hearing the menu.
    let phone = Phone::bind();
    let (sip, port) = (rt.sip, phone.port());
    let first = std::thread::spawn(move || sipp_call(sip, MENU, TRACED, port, Duration::from_secs(8)));
    if !phone.wait_for_media(Duration::from_secs(20)) {
        // Say why: SIPp may have failed before calling (its output), or the runtime never answered (its log).
        let sipp = if first.is_finished() { first.join().map(|r| r.output).unwrap_or_default() } else { "(still running)".into() };
        panic!("first call got no RTP in 20 s\n--- SIPp ---\n{sipp}\n--- runtime log ---\n{}", rt.log_text());
    }

    // A second call from the same number while the first is up: 486, the limit named.
    let second = sipp_uac(rt.sip, &scenario("e2e_caller_limit.xml"), &["-s", MENU, "-key", "caller", TRACED]);
    assert_eq!(second.code, 0, "the second call should get 486 (caller concurrent call limit):\n{}", second.output);

    // Another caller is not affected. (The hold is also SIPp's wait for the answer: 5 s keeps a
    // slow answer on a loaded CI machine from failing the call.)
    let other_phone = Phone::bind();
    let other = sipp_call(rt.sip, MENU, OTHER, other_phone.port(), Duration::from_secs(5));
    assert_eq!(other.code, 0, "another caller's call failed:\n{}", other.output);
    assert!(other_phone.speech_seconds() > 0.5, "the other caller heard no prompt");

    let first = first.join().expect("first call thread");
    assert_eq!(first.code, 0, "the first call failed:\n{}", first.output);

    // The refusal is counted.
    let (_, metrics) = http_get(rt.http, "/metrics", None).expect("metrics");
    let value = |line_start: &str| -> f64 {
        metrics.lines().find(|l| l.starts_with(line_start)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok()).unwrap_or(0.0)
    };
    assert_eq!(value(r#"courtyard_calls_refused_total{limit="caller"}"#), 1.0, "{metrics}");
    assert!(value(r#"courtyard_sip_responses_sent_total{code="486"}"#) >= 1.0, "{metrics}");

    // The trace: every message of the traced caller's two dialogs, in full; none of the other's.
    wait_until("trace lines in the log", Duration::from_secs(5), || rt.log_text().contains("courtyard::sip_trace"));
    let all = trace_records(&rt.log_text());
    assert!(all.contains("INVITE sip:") && all.contains(TRACED), "the traced INVITEs should be logged in full:\n{all}");
    assert!(all.contains("486 Busy Here (caller concurrent call limit)"), "the 486 should be in the trace:\n{all}");
    assert!(all.contains("BYE sip:") || all.contains("CSeq: 2 BYE"), "the first call's BYE should be in the trace:\n{all}");
    assert!(!all.contains(OTHER), "the untraced caller's messages must not be logged:\n{all}");
    assert_eq!(rt.terminate(), Some(0));
}

/// The trace records of a log: each from its `courtyard::sip_trace` target to the next log
/// record (a line starting with a timestamp; the runtime writes no colour codes to a file).
fn trace_records(log: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in log.lines() {
        let starts_record = line.len() > 20 && line.as_bytes()[4] == b'-' && line.as_bytes()[10] == b'T' && line[..4].bytes().all(|b| b.is_ascii_digit());
        if starts_record {
            inside = line.contains("courtyard::sip_trace");
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
