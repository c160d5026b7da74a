//! One real SIPp call per inbound business flow on the demo runtime (issue 6): a recognised
//! owner from the demo data calls each flow's number, hears synthesized Mandarin (non-silent
//! speech), presses keys with RFC 4733 events and talks (TTS audio sent as RTP); the test then
//! checks the call record's IVR path and the business record the flow left behind, through the
//! HTTP API (work orders, callbacks, recordings) and, for SMS, in the store after shutdown.
//! The open-hours flows run as concurrent calls into one runtime; after-hours needs a closed
//! calendar and runs on its own runtime (in parallel with the other test).
//!
//! ivr-main has its own test (ivr_call.rs).

use std::time::Duration;

use crate::support::caller::{Call, Voice};
use crate::support::rtp::speech_seconds_of;
use crate::support::{Runtime, api_json, final_cdr, http_get_bytes, notifications_in, wav_samples};

/// Longest any of these calls may last; each ends earlier, when its flow hangs up.
const HOLD: Duration = Duration::from_secs(90);

fn ivr_path(cdr: &serde_json::Value) -> Vec<String> {
    cdr["ivr_path"].as_array().map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// The runtime hung up (the flow finished), not the caller's hold timer.
fn assert_flow_ended(cdr: &serde_json::Value) {
    assert_ne!(cdr["hangup_side"], "caller", "the flow should have ended the call: {cdr}");
}

/// A work order of `caller` through the API.
fn order_of(rt: &Runtime, token: &str, caller: &str) -> serde_json::Value {
    let v = api_json(rt, token, &format!("/api/v1/orders?caller={caller}"));
    let items = v["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "one work order expected for {caller}: {v}");
    items[0].clone()
}

/// The recording's audio through the API holds what the caller said: at least 60% of the
/// speech the test sent (the recorder may trim at the beep and at `#`).
fn assert_recording_has_speech(rt: &Runtime, token: &str, id: &str, spoken: &[i16]) {
    let meta = api_json(rt, token, &format!("/api/v1/recordings/{id}"));
    assert!(meta["duration_ms"].as_u64().unwrap_or(0) >= 1000, "recording too short: {meta}");
    let (code, wav) = http_get_bytes(rt.http, &format!("/api/v1/recordings/{id}/audio"), token).expect("recording audio");
    assert_eq!(code, 200, "recording audio: {}", String::from_utf8_lossy(&wav));
    let samples = wav_samples(&wav).unwrap_or_else(|| panic!("recording {id} is not a WAV file ({} bytes)", wav.len()));
    let (got, sent) = (speech_seconds_of(&samples), speech_seconds_of(spoken));
    assert!(got >= sent * 0.6, "recording {id} holds {got:.2} s of speech, the caller said {sent:.2} s");
}

/// ivr-menu (4008123400): 4 → info menu, 1 → the office-hours answer, * → back, 1 → bills of a
/// known owner (侯刚, 2-1-403, 332.00 due), 1 → SMS payment link, goodbye.
fn ivr_menu(rt: &Runtime) -> Call {
    let call = Call::dial(rt, "4008123400", "15519037655", HOLD);
    call.hear("main menu", 1.5);
    call.press("4");
    call.hear("info menu", 1.5);
    call.press("1");
    call.hear("office-hours answer", 2.0);
    // Typed ahead during the answer: back to the main menu, then bills.
    call.press("*1");
    call.hear("the bill", 3.0);
    // During the statement: the SMS option of the offer that follows it.
    call.press("1");
    call
}

/// bill-lookup (4008123401): a known owner with arrears (陶霞, 1-1-1602, 263.00 due) hears the
/// statement and asks for the payment link by SMS.
fn bill_lookup(rt: &Runtime) -> Call {
    let call = Call::dial(rt, "4008123401", "13204182295", HOLD);
    call.hear("the bill", 3.0);
    call.press("1");
    call
}

/// repair-intake (4008123402): water (1) for a unit whose waterproofing is in warranty, a
/// spoken description, `#`; the work order is read back and confirmed.
fn repair_intake(rt: &Runtime, description: &[i16]) -> Call {
    let call = Call::dial(rt, "4008123402", "18027190971", HOLD);
    call.hear("repair categories", 1.5);
    call.press("1");
    call.hear_prompt("warranty notice, record prompt and beep", 2.0);
    call.say(description);
    call.press("#");
    call
}

/// complaint (4008123403): 1 complaint, the spoken complaint, `#`, then 1 (no agent). Returns
/// the call and the seconds of speech heard before the first key (the kind prompt alone).
fn complaint_flow(rt: &Runtime, words: &[i16]) -> (Call, f64) {
    let call = Call::dial(rt, "4008123403", "17731510040", HOLD);
    let first_prompt = call.hear_prompt("complaint or suggestion", 1.0);
    call.press("1");
    call.hear_prompt("record prompt and beep", 1.0);
    call.say(words);
    call.press("#");
    call.hear("order number", 2.0);
    // Typed ahead: 1 = no agent, at the offer after the read-back.
    call.press("1");
    (call, first_prompt)
}

#[test]
fn inbound_business_flows_on_real_calls() {
    let rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    let voice = Voice::new();
    let description = voice.say("厨房水管漏水,地上都是水,请尽快派师傅来修");
    let complaint_words = voice.say("楼上装修噪音太大,每天晚上十点以后还在施工");
    let kind_prompt = voice.say("投诉请按1,建议请按2");

    let (menu, bills, repair, (complaint, first_prompt)) = std::thread::scope(|s| {
        let menu = s.spawn(|| ivr_menu(&rt));
        let bills = s.spawn(|| bill_lookup(&rt));
        let repair = s.spawn(|| repair_intake(&rt, &description));
        let complaint = s.spawn(|| complaint_flow(&rt, &complaint_words));
        (menu.join().expect("ivr-menu call"), bills.join().expect("bill-lookup call"), repair.join().expect("repair call"), complaint.join().expect("complaint call"))
    });
    let phones = [menu.end(&rt), bills.end(&rt), repair.end(&rt), complaint.end(&rt)];
    for p in &phones {
        assert!(p.speech_seconds() >= 5.0, "a caller heard only {:.1} s of speech", p.speech_seconds());
    }
    // The prompt the caller hears is as long as the TTS of its text (issue 4): same engine,
    // so only lost, cut or repeated audio would make them differ.
    let expected = speech_seconds_of(&kind_prompt);
    assert!(
        (first_prompt - expected).abs() <= (expected * 0.15).max(0.2),
        "the complaint's first prompt lasted {first_prompt:.2} s of speech; its TTS lasts {expected:.2} s"
    );

    let token = rt.admin_token();

    let cdr = final_cdr(&rt, "15519037655");
    assert_eq!(cdr["flow"], "ivr-menu", "{cdr}");
    let path = ivr_path(&cdr);
    for node in ["main:4", "info:1", "main:1", "bills:sms"] {
        assert!(path.iter().any(|p| p == node), "ivr-menu path {path:?} lacks {node}");
    }
    assert_eq!(cdr["vars"]["sms"], "payment-link", "{cdr}");
    assert_flow_ended(&cdr);

    let cdr = final_cdr(&rt, "13204182295");
    assert_eq!(cdr["flow"], "bill-lookup", "{cdr}");
    assert!(ivr_path(&cdr).iter().any(|p| p == "bills:sms"), "{cdr}");
    assert_eq!(cdr["vars"]["arrears_fen"], "26300", "{cdr}");
    assert_eq!(cdr["vars"]["sms"], "payment-link", "{cdr}");
    assert_flow_ended(&cdr);

    let cdr = final_cdr(&rt, "18027190971");
    assert_eq!(cdr["flow"], "repair-intake", "{cdr}");
    assert!(ivr_path(&cdr).iter().any(|p| p == "repair:1"), "{cdr}");
    assert_flow_ended(&cdr);
    let order = order_of(&rt, &token, "18027190971");
    assert_eq!(order["category"], "repair", "{order}");
    assert_eq!(order["subcategory"], "water", "{order}");
    assert_eq!(cdr["vars"]["work_order"], order["id"], "the call record names the order: {cdr}");
    let rec = order["recording_id"].as_str().unwrap_or_else(|| panic!("repair order without recording: {order}"));
    assert_recording_has_speech(&rt, &token, rec, &description);

    let cdr = final_cdr(&rt, "17731510040");
    assert_eq!(cdr["flow"], "complaint", "{cdr}");
    assert!(ivr_path(&cdr).iter().any(|p| p == "complaint:complaint"), "{cdr}");
    assert_flow_ended(&cdr);
    let order = order_of(&rt, &token, "17731510040");
    assert_eq!(order["category"], "complaint", "{order}");
    assert_eq!(order["priority"], "high", "{order}");
    let rec = order["recording_id"].as_str().unwrap_or_else(|| panic!("complaint order without recording: {order}"));
    assert_recording_has_speech(&rt, &token, rec, &complaint_words);

    // The SMS payment links were queued for delivery (read from the store once it has stopped).
    let mut rt = rt;
    assert_eq!(rt.stop(), Some(0), "runtime did not stop cleanly:\n{}", rt.log_text());
    let sms = notifications_in(rt.data.path());
    for (to, amount) in [("13204182295", "263.00元"), ("15519037655", "332.00元")] {
        assert!(
            sms.iter().any(|n| n.channel == "sms" && n.to == to && n.text.contains(amount) && n.text.contains("http")),
            "no SMS payment link for {to} ({amount}) among {:?}",
            sms.iter().map(|n| (&n.channel, &n.to, &n.text)).collect::<Vec<_>>()
        );
    }
}

#[test]
fn after_hours_caller_leaves_a_voicemail_and_gets_a_callback_task() {
    let rt = Runtime::start_demo_with(&["--hours", "closed"]);
    let voice = Voice::new();
    let message = voice.say("我家门口的路灯坏了,麻烦明天派人看一下");
    let call = Call::dial(&rt, "4008123404", "15179066537", HOLD);
    call.hear_prompt("after-hours notice and the voicemail offer", 4.0);
    // No key: the emergency offer times out, the beep follows and the recording starts.
    call.hear_prompt("beep", 0.1);
    call.say(&message);
    call.press("#");
    let phone = call.end(&rt);
    assert!(phone.speech_seconds() >= 5.0, "the caller heard only {:.1} s of speech", phone.speech_seconds());

    let cdr = final_cdr(&rt, "15179066537");
    assert_eq!(cdr["flow"], "after-hours", "{cdr}");
    assert!(ivr_path(&cdr).iter().any(|p| p == "after-hours"), "{cdr}");
    assert_flow_ended(&cdr);
    let token = rt.admin_token();
    let v = api_json(&rt, &token, "/api/v1/callbacks?open=true");
    let tasks: Vec<_> = v["items"].as_array().cloned().unwrap_or_default().into_iter().filter(|c| c["number"] == "15179066537").collect();
    assert_eq!(tasks.len(), 1, "one callback task expected: {v}");
    let task = &tasks[0];
    assert_eq!(task["done"], false, "{task}");
    let rec = task["recording_id"].as_str().unwrap_or_else(|| panic!("callback task without the voicemail: {task}"));
    assert_recording_has_speech(&rt, &token, rec, &message);
    assert_eq!(rt.terminate(), Some(0));
}
