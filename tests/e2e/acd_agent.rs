//! Agents on real softphones (baresip, registered with digest auth). A caller asks for an agent:
//! the ACD rings the agent's phone, the agent answers, and audio flows both ways (the caller
//! hears the agent's 1500 Hz "voice", the agent's phone decodes the caller's 1000 Hz). A
//! supervisor whispers from a third phone: the supervisor hears both, the agent hears the
//! supervisor, the caller does not. The agent hangs up from the phone and files a wrap-up code,
//! which lands on the call record. A second test has an agent who never picks up (the ring
//! timeout moves the call to the next agent) and an attended transfer to a third agent.

use std::time::{Duration, Instant};

use crate::support::baresip::{Answer, Baresip, assert_talk_both_ways, sine, tone_share, wait_for_tone};
use crate::support::caller::Call;
use crate::support::{Runtime, api_json, final_cdr, http_request};

/// The agents' "voices": tones far from the hold melody's notes and octaves (294–1175 Hz).
const AGENT_HZ: u32 = 1500;
/// The consulted agent's voice.
const EXPERT_HZ: u32 = 2000;

/// The last second of audio.
fn last_second(a: &[i16]) -> &[i16] {
    &a[a.len().saturating_sub(8000)..]
}

/// Waits until the last second `audio` returns holds every `(frequency, minimum share)`.
fn hears(who: &str, tones: &[(f64, f64)], audio: impl Fn() -> Vec<i16>, log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let a = audio();
        let last = last_second(&a);
        if a.len() >= 8000 && tones.iter().all(|(f, min)| tone_share(last, *f) > *min) {
            return;
        }
        let shares: Vec<String> = tones.iter().map(|(f, _)| format!("{f} Hz {:.2}", tone_share(last, *f))).collect();
        assert!(Instant::now() < deadline, "{who} does not hear {tones:?} (last second: {shares:?}); log:\n{}", log());
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn post(rt: &Runtime, token: &str, path: &str, body: &str) -> (u16, String) {
    http_request(rt.http, "POST", path, Some(token), Some(body)).unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// The id of the call `agent` is on, from the live-call list.
fn live_call_of(rt: &Runtime, token: &str, agent: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let calls = api_json(rt, token, "/api/v1/calls/live");
        let list = calls.as_array().cloned().or_else(|| calls["calls"].as_array().cloned()).unwrap_or_default();
        if let Some(c) = list.iter().find(|c| c["agent"] == agent) {
            return c["call_id"].as_str().expect("call_id").to_string();
        }
        assert!(Instant::now() < deadline, "no live call with agent {agent}: {calls}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn caller_pressing_zero_talks_to_a_baresip_agent_while_a_supervisor_whispers() {
    let rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    let token = rt.admin_token();
    let agent = Baresip::start("8001", "demo8001", rt.sip, Answer::Auto, AGENT_HZ);
    assert!(agent.wait_registered(Duration::from_secs(20)), "baresip did not register:\n{}\n{}", agent.log_tail(), rt.log_text());

    let call = Call::for_an_agent(&rt, "13800138000");
    // The agent's phone rings, answers, and its voice reaches the caller through the bridge.
    // And the caller's voice reaches the agent's phone (decoded by baresip itself).
    assert_talk_both_ways(&rt, &call.phone, &agent, AGENT_HZ, Duration::from_secs(40), 12.0, "agent 8001");
    let call_id = live_call_of(&rt, &token, "8001");

    // Supervision needs a connected call: agent 8002 has none.
    let (code, body) = post(&rt, &token, "/api/v1/supervise", r#"{"mode":"whisper","supervisor_extension":"8005","agent_id":"8002"}"#);
    assert_eq!(code, 422, "supervising an agent without a call: {body}");

    // The supervisor's phone (extension 8005, voice 700 Hz) is rung and whispers to the agent.
    let supervisor = Baresip::start("8005", "demo8005", rt.sip, Answer::Auto, 700);
    assert!(supervisor.wait_registered(Duration::from_secs(20)), "supervisor did not register:\n{}", supervisor.log_tail());
    let (code, body) = post(&rt, &token, "/api/v1/supervise", r#"{"mode":"whisper","supervisor_extension":"8005","agent_id":"8001"}"#);
    assert_eq!(code, 200, "supervise: {body}\n{}", rt.log_text());
    assert!(body.contains(&call_id), "supervise names the call {call_id}: {body}");
    // The supervisor hears both parties (caller 1000 Hz + agent 440 Hz, mixed) …
    hears("the supervisor", &[(1000.0, 0.15), (AGENT_HZ as f64, 0.15)], || supervisor.heard(), || supervisor.log_tail());
    // … the agent hears the supervisor (mixed with the caller) …
    hears("the agent", &[(700.0, 0.15), (1000.0, 0.15)], || agent.heard(), || agent.log_tail());
    // … and the caller hears the agent only.
    let caller_hears = call.phone.audio();
    assert!(tone_share(last_second(&caller_hears), AGENT_HZ as f64) > 0.3, "the caller still hears the agent");
    assert!(tone_share(last_second(&caller_hears), 700.0) < 0.05, "the caller must not hear a whisper");

    // The agent hangs up from the phone; the runtime ends the caller's call.
    agent.command("/hangup");
    call.end(&rt);
    let (code, body) = post(
        &rt,
        &token,
        &format!("/api/v1/acd/calls/{call_id}/wrap-up"),
        r#"{"agent_id":"8001","code":"resolved","note":"账单已解释"}"#,
    );
    assert_eq!(code, 200, "wrap-up: {body}");
    let (code, _) = post(&rt, &token, &format!("/api/v1/acd/calls/{call_id}/wrap-up"), r#"{"agent_id":"8001","code":"made-up"}"#);
    assert_eq!(code, 422, "an unknown wrap-up code is refused");
    let codes = api_json(&rt, &token, "/api/v1/wrapup-codes");
    assert!(codes.as_array().is_some_and(|a| a.iter().any(|c| c == "resolved")), "{codes}");

    let cdr = final_cdr(&rt, "13800138000");
    assert_eq!(cdr["agent"], "8001", "CDR: {cdr}");
    assert_eq!(cdr["queue"], "default", "CDR: {cdr}");
    assert_ne!(cdr["hangup_side"], "caller", "the agent hung up: {cdr}");
    assert_eq!(cdr["vars"]["wrapup"], "resolved", "CDR: {cdr}");
    assert_eq!(cdr["vars"]["wrapup_note"], "账单已解释", "CDR: {cdr}");
    assert!(cdr["ivr_path"].as_array().is_some_and(|p| p.iter().any(|n| n == "main:0")), "IVR path: {cdr}");
    assert_eq!(rt.terminate(), Some(0));
}

/// An agent's state in the ACD snapshot (`{"state":"ready"}` …) and their KPIs today.
fn agent_snapshot(rt: &Runtime, token: &str, agent: &str) -> serde_json::Value {
    let snap = api_json(rt, token, "/api/v1/acd/snapshot");
    snap["agents"].as_array().and_then(|a| a.iter().find(|x| x["agent_id"] == agent).cloned()).unwrap_or_else(|| panic!("no agent {agent}: {snap}"))
}

#[test]
fn unanswered_agent_is_skipped_then_the_next_agent_consults_and_hands_over() {
    let rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    let token = rt.admin_token();
    // Registration order = idle order: 8001 (never picks up) is offered first, then 8002.
    let absent = Baresip::start("8001", "demo8001", rt.sip, Answer::Manual, 440);
    assert!(absent.wait_registered(Duration::from_secs(20)), "8001 did not register:\n{}", absent.log_tail());
    let agent = Baresip::start("8002", "demo8002", rt.sip, Answer::Auto, AGENT_HZ);
    assert!(agent.wait_registered(Duration::from_secs(20)), "8002 did not register:\n{}", agent.log_tail());
    let expert = Baresip::start("8003", "demo8003", rt.sip, Answer::Auto, EXPERT_HZ);
    assert!(expert.wait_registered(Duration::from_secs(20)), "8003 did not register:\n{}", expert.log_tail());

    // 8003 goes 示忙 from the phone (*22): the runtime answers, confirms and hangs up.
    expert.command("/dial *22");
    assert!(expert.wait_log(Duration::from_secs(20), |l| l.contains("session closed")), "*22 call did not end:\n{}", expert.log_tail());
    assert_eq!(agent_snapshot(&rt, &token, "8003")["state"]["state"], "not-ready", "{}", rt.log_text());
    assert!(expert.heard().len() > 4000, "8003 heard no confirmation");

    let call = Call::for_an_agent(&rt, "13900139000");
    // 8001 rings for the queue's 20 s ring timeout, then 8002 gets the call.
    assert!(
        wait_for_tone(Duration::from_secs(60), AGENT_HZ as f64, || call.phone.audio()),
        "the caller never reached 8002 ({AGENT_HZ} Hz); log:\n{}",
        rt.log_text()
    );
    assert_eq!(agent_snapshot(&rt, &token, "8001")["today"]["no_answer"], 1, "8001's missed offer is counted");
    let call_id = live_call_of(&rt, &token, "8002");

    // Attended transfer: 8002 consults 8003 while the caller holds, then hands the caller over.
    let (code, body) = post(&rt, &token, &format!("/api/v1/calls/{call_id}/transfer"), r#"{"extension":"8003","attended":true}"#);
    assert_eq!(code, 200, "consult: {body}\n{}", rt.log_text());
    let consult_started = call.phone.audio().len();
    hears("8002 consulting", &[(EXPERT_HZ as f64, 0.4)], || agent.heard(), || agent.log_tail());
    // The caller's next 1.5 s of audio (the last second of it: hold music only).
    let deadline = Instant::now() + Duration::from_secs(10);
    while call.phone.audio().len() < consult_started + 12000 {
        assert!(Instant::now() < deadline, "the caller gets no audio while holding");
        std::thread::sleep(Duration::from_millis(100));
    }
    let a = call.phone.audio();
    let (heard_agent, heard_expert) = (tone_share(last_second(&a), AGENT_HZ as f64), tone_share(last_second(&a), EXPERT_HZ as f64));
    assert!(heard_agent < 0.05 && heard_expert < 0.05, "the caller holds, hearing neither agent ({heard_agent:.2}, {heard_expert:.2})");
    let (code, body) = post(&rt, &token, &format!("/api/v1/calls/{call_id}/transfer/complete"), "{}");
    assert_eq!(code, 200, "complete: {body}");
    assert!(wait_for_tone(Duration::from_secs(10), EXPERT_HZ as f64, || call.phone.audio()), "the caller does not hear 8003 after the hand-over");
    call.phone.speak(&sine(1000.0, 6.0));
    hears("8003", &[(1000.0, 0.4)], || expert.heard(), || expert.log_tail());

    expert.command("/hangup");
    call.end(&rt);
    let cdr = final_cdr(&rt, "13900139000");
    assert_eq!(cdr["agent"], "8003", "CDR: {cdr}");
    assert_eq!(cdr["vars"]["transfer"], "attended:8003", "CDR: {cdr}");
    assert_eq!(rt.terminate(), Some(0));
}
