//! Transfer from the agent's own phone: baresip agent 8001 talks to a caller and presses
//! "transfer" (`/transfer sip:8002@…`, an in-dialog REFER). The runtime answers 202, rings 8002
//! on the blind-transfer path the API uses, and reports the outcome on the REFER's subscription:
//! baresip ends its call on the NOTIFY `SIP/2.0 200 OK`. The caller then
//! talks to 8002 both ways, 8001 is off the call (wrap-up), and the call record and the audit log
//! show the transfer like an API transfer, with the phone as the actor. Then 8002 tries to
//! transfer to a number the dial-plan guard refuses and gets NOTIFY 403.

use std::time::{Duration, Instant};

use crate::support::baresip::{Answer, Baresip, assert_talk_both_ways, wait_for_tone};
use crate::support::caller::Call;
use crate::support::{Runtime, api_json, final_cdr};

/// The transferring agent's voice.
const AGENT_HZ: u32 = 1500;
/// The transfer target's voice.
const TARGET_HZ: u32 = 2000;

/// An agent's ACD state name (`on-call`, `wrap-up`, `ready` …).
fn agent_state(rt: &Runtime, token: &str, agent: &str) -> String {
    let snap = api_json(rt, token, "/api/v1/acd/snapshot");
    let a = snap["agents"].as_array().and_then(|a| a.iter().find(|x| x["agent_id"] == agent).cloned());
    a.and_then(|a| a["state"]["state"].as_str().map(str::to_string)).unwrap_or_else(|| panic!("no agent {agent}: {snap}"))
}

#[test]
fn agent_transfers_the_caller_from_the_phone_with_refer() {
    let rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    let token = rt.admin_token();
    // Registration order = idle order: 8001 is offered the call.
    let agent = Baresip::start("8001", "demo8001", rt.sip, Answer::Auto, AGENT_HZ);
    assert!(agent.wait_registered(Duration::from_secs(20)), "8001 did not register:\n{}", agent.log_tail());
    let target = Baresip::start("8002", "demo8002", rt.sip, Answer::Auto, TARGET_HZ);
    assert!(target.wait_registered(Duration::from_secs(20)), "8002 did not register:\n{}", target.log_tail());

    let call = Call::for_an_agent(&rt, "13700137000");
    assert!(
        wait_for_tone(Duration::from_secs(40), AGENT_HZ as f64, || call.phone.audio()),
        "the caller never reached 8001; log:\n{}",
        rt.log_text()
    );
    assert_eq!(agent_state(&rt, &token, "8001"), "on-call");

    // The transfer button: an in-dialog REFER with Refer-To: <sip:8002@runtime>.
    agent.command(&format!("/transfer sip:8002@{}", rt.sip));
    // 8002's phone rings (auto-answers), the caller hears it and 8002 hears the caller.
    assert_talk_both_ways(&rt, &call.phone, &target, TARGET_HZ, Duration::from_secs(20), 6.0, "transfer target 8002");
    // The final NOTIFY (sipfrag `SIP/2.0 200 OK`, `Event: refer;id=<the REFER's CSeq>`) reached
    // the transferor, which then ends its call itself (baresip closes a call whose transfer
    // succeeded).
    let final_notify = |l: &str| {
        l.split("NOTIFY sip:").skip(1).any(|m| {
            let m = m.split("[;m").next().unwrap_or("");
            m.contains("Event: refer;id=") && m.contains("terminated;reason=noresource") && m.contains("SIP/2.0 200 OK")
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(final_notify(&agent.log_text()) && agent.log_text().contains("terminated (duration")) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        final_notify(&agent.log_text()) && agent.log_text().contains("terminated (duration"),
        "8001 never got the NOTIFY 200 for its REFER:\n{}",
        agent.log_tail()
    );
    // 8001 is off the call (wrap-up or ready), as after an API transfer.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = agent_state(&rt, &token, "8001");
        if s == "wrap-up" || s == "ready" {
            break;
        }
        assert!(Instant::now() < deadline, "8001 is still '{s}' after transferring");
        std::thread::sleep(Duration::from_millis(100));
    }

    // 8002 tries a number the dial-plan guard refuses (international, not in [dialplan] allow):
    // the runtime answers NOTIFY 403 and keeps the bridge; baresip 1.0 itself hangs up on a
    // failed transfer, which ends the call.
    target.command(&format!("/transfer sip:00882012345678@{}", rt.sip));
    let refused = |l: &str| l.split("NOTIFY sip:").skip(1).any(|m| m.split("[;m").next().unwrap_or("").contains("SIP/2.0 403 Forbidden"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !refused(&target.log_text()) {
        assert!(Instant::now() < deadline, "8002 never got NOTIFY 403 for a refused number:\n{}", target.log_tail());
        std::thread::sleep(Duration::from_millis(100));
    }
    call.end(&rt);
    let cdr = final_cdr(&rt, "13700137000");
    assert_eq!(cdr["vars"]["transfer"], "extension:8002", "CDR: {cdr}");
    assert_eq!(cdr["agent"], "8002", "CDR: {cdr}");
    let audit = api_json(&rt, &token, "/api/v1/audit?limit=50");
    let text = audit.to_string();
    assert!(
        text.contains(r#""actor":"8001 (phone REFER)""#) && text.contains(r#""action":"call.transfer""#),
        "no audit entry for the phone transfer: {audit}"
    );
    assert!(text.contains(r#""actor":"8002 (phone REFER)""#) && text.contains(r#""action":"dial.refused""#), "no audit of the refused number: {audit}");
    assert_eq!(rt.terminate(), Some(0));
}
