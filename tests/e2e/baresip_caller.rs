//! A second, independent caller (issue 4): Debian's baresip dials the ivr-menu number directly
//! (no registration) and navigates the menu with its own RFC 4733 key presses; the call record
//! shows the path its keys took and the flow, not the caller, ends the call.

use std::time::Duration;

use crate::support::baresip::BaresipCaller;
use crate::support::rtp::speech_seconds_of;
use crate::support::{Runtime, final_cdr};

#[test]
fn baresip_caller_navigates_ivr_menu_with_its_own_dtmf() {
    let rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    // 尹帅 owns 1-1-103 and owes nothing: the bill branch says so and hangs up.
    let caller = BaresipCaller::dial("13129673100", "4008123400", rt.sip);
    assert!(
        caller.wait_established(Duration::from_secs(20)),
        "baresip's call was not answered:\n{}\n{}",
        caller.phone.log_text(),
        rt.log_text()
    );
    // 4 info menu, 1 office hours, * back, 1 bills. The menus take keys while they speak
    // (barge-in) and keep keys typed ahead, so the keys need not wait for the prompts.
    for key in ['4', '1', '*', '1'] {
        std::thread::sleep(Duration::from_millis(1200));
        caller.press(key);
    }
    assert!(
        caller.wait_closed(Duration::from_secs(60)),
        "the flow did not end baresip's call:\n{}\n{}",
        caller.phone.log_text(),
        rt.log_text()
    );
    let cdr = final_cdr(&rt, "13129673100");
    assert_eq!(cdr["flow"], "ivr-menu", "{cdr}");
    let path: Vec<String> = cdr["ivr_path"].as_array().map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect()).unwrap_or_default();
    let mut rest = path.iter();
    for node in ["main:4", "info:1", "main:1", "bills"] {
        assert!(rest.any(|p| p == node), "IVR path {path:?} lacks {node} (in order): baresip's DTMF did not drive the menu\n{}", caller.phone.log_text());
    }
    assert_ne!(cdr["hangup_side"], "caller", "the flow should have ended the call: {cdr}");
    // baresip decoded real speech from the runtime's RTP (its own G.711 decoder).
    let heard = speech_seconds_of(&caller.phone.heard());
    assert!(heard >= 3.0, "baresip heard only {heard:.1} s of speech");
    assert_eq!(rt.terminate(), Some(0));
}
