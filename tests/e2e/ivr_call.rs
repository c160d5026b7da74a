//! A recognised owner calls the service number: SIPp does the signalling, the test's own RTP
//! endpoint hears the Mandarin prompts and presses keys with RFC 4733 events, and the call
//! record in the store shows the menu path taken.

use std::time::{Duration, Instant};

use crate::support::rtp::Phone;
use crate::support::{Runtime, final_cdr, scenario, sipp_uac};

fn wait_until(what: &str, within: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn owner_hears_mandarin_menu_and_navigates_with_rfc4733_digits() {
    let rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    let phone = Phone::bind();
    let sip = rt.sip;
    let port = phone.port().to_string();
    let sipp = std::thread::spawn(move || {
        sipp_uac(
            sip,
            &scenario("e2e_call.xml"),
            // ~15 s of call at real time; the caller hangs up after 30 s without a BYE.
            &["-s", "4008123456", "-key", "caller", "13800138000", "-key", "rtp_port", &port, "-recv_timeout", "30000"],
        )
    });

    assert!(phone.wait_for_media(Duration::from_secs(20)), "no RTP from the runtime; log:\n{}", rt.log_text());
    // The greeting and menu: real synthesized speech, not silence.
    wait_until("3 s of speech (greeting + menu)", Duration::from_secs(20), || phone.speech_seconds() >= 3.0);
    phone.press('4'); // 物业服务信息
    std::thread::sleep(Duration::from_millis(1500));
    let before_kb = phone.speech_seconds();
    phone.press('1'); // 服务时间 (knowledge-base answer read out)
    wait_until("the office-hours answer", Duration::from_secs(40), || phone.speech_seconds() >= before_kb + 3.0);

    let run = sipp.join().expect("sipp thread");
    assert_eq!(run.code, 0, "SIPp call failed:\n{}\n{}", run.output, rt.log_text());

    // Packets are paced: 50 per second of call, timestamps step by 160 samples.
    let rx = phone.received.lock().unwrap().clone();
    assert!(rx.len() > 200, "only {} RTP packets", rx.len());
    let steps_ok = rx.windows(2).filter(|w| w[1].seq == w[0].seq.wrapping_add(1)).filter(|w| w[1].ts.wrapping_sub(w[0].ts) == 160).count();
    assert!(steps_ok * 10 >= rx.len() * 9, "sequence/timestamp continuity broken: {steps_ok} good steps of {}", rx.len());

    // The call record shows what the caller did.
    let cdr = final_cdr(&rt, "13800138000");
    assert_eq!(cdr["called"], "4008123456", "{cdr}");
    assert_eq!(cdr["flow"], "ivr-main", "{cdr}");
    assert!(!cdr["answer"].is_null(), "answer time missing: {cdr}");
    let path: Vec<String> = cdr["ivr_path"].as_array().map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect()).unwrap_or_default();
    let path = path.join(" > ");
    assert!(path.contains("main:4") && path.contains("info:1"), "IVR path {path:?} should show keys 4 then 1; log:\n{}", rt.log_text());
    assert_eq!(rt.terminate(), Some(0));
}
