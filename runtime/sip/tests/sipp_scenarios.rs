//! Real-peer tests: SIPp scenarios from tests/sipp/ against the test UAS on 127.0.0.1:0.
//! Each must end with SIPp exit code 0.

mod common;

use common::{SERVICE, loopback_config, sipp, sipp_traced, start_uas};
use std::sync::atomic::Ordering;
use std::time::Duration;

async fn eventually(f: impl Fn() -> bool) -> bool {
    for _ in 0..100 {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uac_call_answer_ack_bye_over_udp() {
    let (ep, stats) = start_uas(loopback_config()).await;
    let (code, out) = sipp("uac-call.xml", ep.local_addr(), &["-s", SERVICE, "-m", "3"]).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(stats.answered.load(Ordering::SeqCst), 3);
    assert!(eventually(|| stats.remote_bye.load(Ordering::SeqCst) == 3).await);
    assert_eq!(ep.active_dialogs(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uac_call_over_tcp_on_the_same_port() {
    let (ep, stats) = start_uas(loopback_config()).await;
    assert_eq!(ep.tcp_addr().map(|a| a.port()), Some(ep.local_addr().port()));
    let target = ep.tcp_addr().unwrap();
    let (code, out) = sipp("uac-call.xml", target, &["-s", SERVICE, "-m", "2", "-t", "t1"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(eventually(|| stats.remote_bye.load(Ordering::SeqCst) == 2).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_hangs_up_first() {
    let (ep, stats) = start_uas(loopback_config()).await;
    let (code, out) = sipp("uac-call-runtime-hangup.xml", ep.local_addr(), &["-s", "hangup", "-m", "2"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(eventually(|| stats.local_bye.load(Ordering::SeqCst) == 2).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_before_answer_gets_487() {
    let (ep, stats) = start_uas(loopback_config()).await;
    let (code, out) = sipp("cancel.xml", ep.local_addr(), &["-s", "slow", "-m", "2"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(eventually(|| stats.cancelled.load(Ordering::SeqCst) == 2).await);
    assert_eq!(stats.answered.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_200_is_retransmitted_over_udp() {
    let (ep, stats) = start_uas(loopback_config()).await;
    let (code, out, trace) = sipp_traced("uac-call-200-retransmit.xml", ep.local_addr(), &["-s", SERVICE, "-m", "1"]).await;
    assert_eq!(code, 0, "{out}");
    // SIPp logs each received message as "received ... from" followed by the message
    let ok_for_invite = trace
        .split("message received")
        .filter(|m| m.contains("SIP/2.0 200 OK") && m.contains("CSeq: 1 INVITE"))
        .count();
    assert!(ok_for_invite >= 2, "expected the 200 OK to be retransmitted, saw {ok_for_invite}:\n{trace}");
    assert!(eventually(|| stats.remote_bye.load(Ordering::SeqCst) == 1).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_digest_then_unregister() {
    let (ep, _) = start_uas(loopback_config()).await;
    let mut events = ep.registrar().subscribe();
    let (code, out) = sipp("register-auth.xml", ep.local_addr(), &["-s", "8001", "-au", "8001", "-ap", "pw8001", "-m", "1"]).await;
    assert_eq!(code, 0, "{out}");
    let first = events.try_recv().expect("registered event");
    assert!(matches!(first, courtyard_sip::RegistrarEvent::Registered { ref user, .. } if user == "8001"), "{first:?}");
    assert!(matches!(events.try_recv(), Ok(courtyard_sip::RegistrarEvent::Unregistered { expired: false, .. })));
    assert!(ep.registrar().lookup("8001").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_wrong_password_is_forbidden() {
    let (ep, _) = start_uas(loopback_config()).await;
    let (code, out) = sipp("register-wrong-password.xml", ep.local_addr(), &["-s", "8001", "-au", "8001", "-ap", "wrong", "-m", "1"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(ep.registrar().lookup("8001").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_is_answered() {
    let (ep, _) = start_uas(loopback_config()).await;
    let (code, out) = sipp("options.xml", ep.local_addr(), &["-m", "2"]).await;
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reinvite_hold_unhold_and_info_dtmf() {
    let (ep, stats) = start_uas(loopback_config()).await;
    let (code, out) = sipp("reinvite-hold-info.xml", ep.local_addr(), &["-s", SERVICE, "-m", "1"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(eventually(|| stats.remote_bye.load(Ordering::SeqCst) == 1).await);
    assert_eq!(stats.reinvites.load(Ordering::SeqCst), 2);
    assert_eq!(stats.held.load(Ordering::SeqCst), 1);
    assert_eq!(stats.dtmf.lock().as_str(), "5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uac_call_to_a_sipp_phone() {
    use courtyard_sip::{CallProgress, LocalMedia, OutboundInvite};
    let (ep, _) = start_uas(loopback_config()).await;
    let port = common::free_port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let ep_addr = ep.local_addr();
    let sipp_task = tokio::spawn(async move {
        sipp("uas-answer.xml", ep_addr, &["-p", &port.to_string(), "-m", "1"]).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await; // SIPp binds its port
    let local = LocalMedia::new("127.0.0.1".parse().unwrap(), 42000);
    let mut call = ep.invite(OutboundInvite::new(format!("sip:agent@{addr}"), "4008123456", local)).await.unwrap();
    let mut rang = false;
    let (mut dialog, negotiated) = loop {
        match tokio::time::timeout(Duration::from_secs(10), call.next()).await.unwrap().unwrap() {
            CallProgress::Ringing { .. } => rang = true,
            CallProgress::Answered { dialog, negotiated } => break (dialog, negotiated),
            CallProgress::Failed { status, reason } => panic!("{status} {reason}"),
            CallProgress::Trying => {}
        }
    };
    assert!(rang);
    assert_eq!(negotiated.expect("answer").codec, courtyard_sip::Codec::Pcma);
    tokio::time::sleep(Duration::from_millis(200)).await;
    dialog.hangup().await.expect("BYE answered");
    let (code, out) = sipp_task.await.unwrap();
    assert_eq!(code, 0, "{out}");
}

/// A trunk that challenges in a new realm every time gets four answers, then the call fails with
/// the reason; no fifth retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_inventing_realms_gets_four_answers_then_the_call_fails() {
    use courtyard_sip::{CallProgress, LocalMedia, OutboundInvite};
    let (ep, _) = start_uas(loopback_config()).await;
    let port = common::free_port();
    let ep_addr = ep.local_addr();
    let sipp_task = tokio::spawn(async move { sipp("uas-realm-carousel.xml", ep_addr, &["-p", &port.to_string(), "-m", "1"]).await });
    tokio::time::sleep(Duration::from_millis(300)).await; // SIPp binds its port
    let mut inv = OutboundInvite::new(format!("sip:13800000000@127.0.0.1:{port}"), "4008123456", LocalMedia::new("127.0.0.1".parse().unwrap(), 42010));
    inv.credentials = Some(("courtyard".into(), "secret".into()));
    let mut call = ep.invite(inv).await.unwrap();
    let (status, reason) = loop {
        match tokio::time::timeout(Duration::from_secs(10), call.next()).await.unwrap().unwrap() {
            CallProgress::Failed { status, reason } => break (status, reason),
            CallProgress::Answered { .. } => panic!("must not be answered"),
            _ => {}
        }
    };
    assert_eq!(status, 401);
    assert!(reason.contains("challenged in 5 realms"), "{reason}");
    let (code, out) = sipp_task.await.unwrap();
    assert_eq!(code, 0, "SIPp saw a retry beyond the limit (or too few):\n{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_dialog_refer_is_accepted_and_notified() {
    let (ep, stats) = start_uas(loopback_config()).await;
    let (code, out) = sipp("refer.xml", ep.local_addr(), &["-s", SERVICE, "-m", "1"]).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(stats.refers.lock().len(), 1, "exactly the valid REFER reaches the runtime");
    assert!(stats.refers.lock()[0].starts_with("sip:8003@"), "{:?}", stats.refers.lock());
    assert!(eventually(|| stats.remote_bye.load(Ordering::SeqCst) == 1).await);
    assert_eq!(ep.active_dialogs(), 0);
}
