//! Endpoint behaviour with Rust peers on loopback: UAC calls through a digest challenge,
//! CANCEL from the UAC, large INVITEs switching to TCP, SHA-256 registration, identical
//! answers for known and unknown users, pike-style bans and their expiry.

mod common;

use common::{SERVICE, loopback_config, start_uas};
use courtyard_sip::auth::authorize;
use courtyard_sip::{
    CallProgress, CallerPolicy, CallerVerdict, DialogEvent, Endpoint, LocalMedia, OutboundInvite, StaticCredentials,
    Transport,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;

struct ChallengeEveryone;
impl CallerPolicy for ChallengeEveryone {
    fn classify(&self, _: SocketAddr, _: &str) -> CallerVerdict {
        CallerVerdict::Challenge
    }
}

fn media() -> LocalMedia {
    LocalMedia::new("127.0.0.1".parse().unwrap(), 41000)
}

async fn uac_endpoint() -> Endpoint {
    let (ep, _incoming) = Endpoint::bind(loopback_config(), Arc::new(StaticCredentials::default())).await.unwrap();
    ep
}

async fn next(out: &mut courtyard_sip::OutboundCall) -> CallProgress {
    tokio::time::timeout(Duration::from_secs(10), out.next()).await.expect("progress in time").expect("progress")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uac_call_answers_a_proxy_challenge_and_sees_the_remote_bye() {
    let mut cfg = loopback_config();
    cfg.caller_policy = Arc::new(ChallengeEveryone);
    let (uas, stats) = start_uas(cfg).await;
    let uac = uac_endpoint().await;
    let target = format!("sip:hangup@{}", uas.local_addr());
    let mut inv = OutboundInvite::new(target.clone(), "4008123456", media());
    inv.credentials = Some(("8001".into(), "pw8001".into()));
    let mut out = uac.invite(inv).await.unwrap();
    let (mut dialog, negotiated) = loop {
        match next(&mut out).await {
            CallProgress::Answered { dialog, negotiated } => break (dialog, negotiated),
            CallProgress::Failed { status, reason } => panic!("call failed: {status} {reason}"),
            _ => {}
        }
    };
    let n = negotiated.expect("SDP answer");
    assert_eq!(n.codec, courtyard_sip::Codec::Pcmu);
    assert_eq!(n.remote_rtp, Some("127.0.0.1:40000".parse().unwrap()));
    // the test UAS hangs up "hangup" calls after 300 ms
    let ev = tokio::time::timeout(Duration::from_secs(5), dialog.next_event()).await.unwrap();
    assert_eq!(ev, Some(DialogEvent::Bye));
    assert_eq!(stats.answered.load(std::sync::atomic::Ordering::SeqCst), 1);

    // wrong password: the challenge is answered once more, then the 403 ends the attempt
    let mut inv = OutboundInvite::new(target, "4008123456", media());
    inv.credentials = Some(("8001".into(), "wrong".into()));
    let mut out = uac.invite(inv).await.unwrap();
    loop {
        match next(&mut out).await {
            CallProgress::Failed { status, .. } => {
                assert_eq!(status, 403);
                break;
            }
            CallProgress::Answered { .. } => panic!("must not be answered"),
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uac_cancel_while_ringing_and_local_hangup() {
    let (uas, stats) = start_uas(loopback_config()).await;
    let uac = uac_endpoint().await;
    let mut out = uac.invite(OutboundInvite::new(format!("sip:slow@{}", uas.local_addr()), "4008123456", media())).await.unwrap();
    loop {
        match next(&mut out).await {
            CallProgress::Ringing { .. } => break,
            CallProgress::Trying => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    out.cancel().await;
    loop {
        match next(&mut out).await {
            CallProgress::Failed { status, .. } => {
                assert_eq!(status, 487);
                break;
            }
            CallProgress::Ringing { .. } | CallProgress::Trying => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(stats.cancelled.load(std::sync::atomic::Ordering::SeqCst), 1);

    // answered call, hung up from the UAC side
    let mut out = uac.invite(OutboundInvite::new(format!("sip:{SERVICE}@{}", uas.local_addr()), "8001", media())).await.unwrap();
    let mut dialog = loop {
        if let CallProgress::Answered { dialog, .. } = next(&mut out).await {
            break dialog;
        }
    };
    dialog.hangup().await.expect("BYE answered");
    for _ in 0..50 {
        if stats.remote_bye.load(std::sync::atomic::Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stats.remote_bye.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(uac.active_dialogs(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_invite_goes_over_tcp() {
    let creds = Arc::new(StaticCredentials::default());
    let (uas, mut incoming) = Endpoint::bind(loopback_config(), creds).await.unwrap();
    let uac = uac_endpoint().await;
    let mut inv = OutboundInvite::new(format!("sip:{SERVICE}@{}", uas.local_addr()), "8001", media());
    inv.headers.push(("X-Padding".into(), "x".repeat(1500)));
    let _out = uac.invite(inv).await.unwrap();
    let call = tokio::time::timeout(Duration::from_secs(5), incoming.recv()).await.unwrap().unwrap();
    assert_eq!(call.peer().transport, Transport::Tcp, "RFC 3261 §18.1.1: > 1300 bytes must use TCP");
    assert_eq!(call.header("X-Padding").map(str::len), Some(1500));
    call.reject(486, "Busy Here").await;
}

fn register(branch: &str, user: &str, cseq: u32, auth: Option<&str>) -> String {
    let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    format!(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 10.9.9.9:5062;branch=z9hG4bK{branch};rport\r\nFrom: <sip:{user}@127.0.0.1>;tag=t{branch}\r\nTo: <sip:{user}@127.0.0.1>\r\nCall-ID: c{branch}\r\nCSeq: {cseq} REGISTER\r\nContact: <sip:{user}@10.9.9.9:5062>\r\nExpires: 120\r\n{auth}Content-Length: 0\r\n\r\n"
    )
}

/// Sends and waits up to 3 s for the answer (empty string if none).
async fn roundtrip(sock: &UdpSocket, msg: &str) -> String {
    exchange(sock, msg, Duration::from_secs(3)).await
}

/// Sends and expects silence: waits only 500 ms.
async fn silent(sock: &UdpSocket, msg: &str) -> bool {
    exchange(sock, msg, Duration::from_millis(500)).await.is_empty()
}

async fn exchange(sock: &UdpSocket, msg: &str, wait: Duration) -> String {
    sock.send(msg.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 8192];
    match tokio::time::timeout(wait, sock.recv(&mut buf)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        _ => String::new(),
    }
}

/// Blanks the values that must differ between any two answers (nonce, tags, Call-ID, branch).
fn shape(resp: &str) -> String {
    resp.lines()
        .map(|l| {
            let l = regex_lite_nonce(l);
            if l.starts_with("Via:") || l.starts_with("From:") || l.starts_with("To:") || l.starts_with("Call-ID:") {
                l.split(':').next().unwrap_or_default().to_string()
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn regex_lite_nonce(l: &str) -> String {
    match l.find("nonce=\"") {
        Some(i) => {
            let rest = &l[i + 7..];
            let end = rest.find('"').unwrap_or(rest.len());
            format!("{}nonce=\"*{}", &l[..i], &rest[end..])
        }
        None => l.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha256_registration_nat_source_and_no_user_enumeration() {
    let (ep, _) = start_uas(loopback_config()).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(ep.local_addr()).await.unwrap();

    let challenge = roundtrip(&sock, &register("a1", "8001", 1, None)).await;
    assert!(challenge.starts_with("SIP/2.0 401 Unauthorized\r\n"), "{challenge}");
    // RFC 3581: received and rport filled in for the NATed phone
    assert!(challenge.contains(&format!("rport={};received=127.0.0.1", sock.local_addr().unwrap().port())), "{challenge}");
    let sha = challenge.lines().find(|l| l.contains("algorithm=SHA-256")).expect("SHA-256 challenge").trim_start_matches("WWW-Authenticate: ");
    let auth = authorize(sha, "REGISTER", "sip:127.0.0.1", "8001", "pw8001").unwrap();
    assert!(auth.contains("algorithm=SHA-256"));
    let ok = roundtrip(&sock, &register("a2", "8001", 2, Some(&auth))).await;
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n"), "{ok}");
    let b = ep.registrar().lookup("8001");
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].contact, "sip:8001@10.9.9.9:5062");
    assert_eq!(b[0].source.addr, sock.local_addr().unwrap(), "calls must go to where the phone really is");

    // unknown user and known user: same 401 shape, same 403 shape
    let c_known = roundtrip(&sock, &register("b1", "8002", 1, None)).await;
    let c_unknown = roundtrip(&sock, &register("b2", "9999", 1, None)).await;
    assert_eq!(shape(&c_known), shape(&c_unknown));
    let md5 = |c: &str| c.lines().find(|l| l.contains("algorithm=MD5")).unwrap().trim_start_matches("WWW-Authenticate: ").to_string();
    let bad_known = authorize(&md5(&c_known), "REGISTER", "sip:127.0.0.1", "8002", "nope").unwrap();
    let bad_unknown = authorize(&md5(&c_unknown), "REGISTER", "sip:127.0.0.1", "9999", "nope").unwrap();
    let f_known = roundtrip(&sock, &register("b3", "8002", 2, Some(&bad_known))).await;
    let f_unknown = roundtrip(&sock, &register("b4", "9999", 2, Some(&bad_unknown))).await;
    assert!(f_known.starts_with("SIP/2.0 403 Forbidden\r\n"), "{f_known}");
    assert_eq!(shape(&f_known), shape(&f_unknown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_and_password_guessing_are_banned_then_forgiven() {
    let mut cfg = loopback_config();
    cfg.rate_limit.exempt.clear(); // loopback is an ordinary source here
    cfg.rate_limit.max_requests = 16;
    cfg.rate_limit.window = Duration::from_secs(2);
    cfg.rate_limit.ban = Duration::from_secs(3);
    cfg.rate_limit.max_auth_failures = 3;
    let (ep, _) = start_uas(cfg).await;
    let options = |i: u32| {
        format!("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKo{i}\r\nFrom: <sip:scan@127.0.0.1>;tag={i}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: o{i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    };
    let flood = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    flood.connect(ep.local_addr()).await.unwrap();
    for i in 0..20 {
        flood.send(options(i).as_bytes()).await.unwrap();
    }
    let mut answered = 0;
    let mut buf = vec![0u8; 4096];
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(1000), flood.recv(&mut buf)).await {
        answered += 1;
    }
    assert_eq!(answered, 16, "16 requests per window, then banned");
    assert!(silent(&flood, &options(100)).await, "still banned");
    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert!(roundtrip(&flood, &options(101)).await.starts_with("SIP/2.0 200"), "ban expired");

    // three wrong passwords from one source: banned (svcrack stops getting answers)
    tokio::time::sleep(Duration::from_millis(2100)).await; // fresh counting window
    let guess = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    guess.connect(ep.local_addr()).await.unwrap();
    for i in 0..3 {
        let ch = roundtrip(&guess, &register(&format!("g{i}"), "8001", 1, None)).await;
        let md5 = ch.lines().find(|l| l.contains("algorithm=MD5")).unwrap().trim_start_matches("WWW-Authenticate: ").to_string();
        let bad = authorize(&md5, "REGISTER", "sip:127.0.0.1", "8001", &format!("guess{i}")).unwrap();
        assert!(roundtrip(&guess, &register(&format!("h{i}"), "8001", 2, Some(&bad))).await.starts_with("SIP/2.0 403"));
    }
    assert!(silent(&guess, &register("z", "8001", 1, None)).await, "banned after 3 failures");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_without_g711_gets_488_with_a_reason() {
    let (ep, stats) = start_uas(loopback_config()).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(ep.local_addr()).await.unwrap();
    let sdp = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
    let invite = raw_invite("g729", sdp);
    sock.send(invite.as_bytes()).await.unwrap();
    let final_resp = final_response(&sock).await;
    assert!(final_resp.starts_with("SIP/2.0 488 Not Acceptable Here (no common codec"), "{final_resp}");
    assert!(final_resp.contains("Warning: 304 "), "{final_resp}");
    assert_eq!(stats.answered.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_named_by_host_name_is_resolved() {
    let (uas, _) = start_uas(loopback_config()).await;
    let uac = uac_endpoint().await;
    let target = format!("sip:nobody@localhost:{}", uas.local_addr().port());
    let mut out = uac.invite(OutboundInvite::new(target, "4008123456", media())).await.expect("resolved");
    loop {
        match next(&mut out).await {
            CallProgress::Failed { status, .. } => {
                assert_eq!(status, 404, "the test UAS answers unknown numbers with 404");
                break;
            }
            CallProgress::Answered { .. } => panic!("unexpected answer"),
            _ => {}
        }
    }
    let bad = uac.invite(OutboundInvite::new("sip:x@no-such-host.invalid", "1", media())).await;
    assert!(matches!(bad, Err(courtyard_sip::SipError::BadTarget(_))));
}

/// The first final response on `sock` (provisional ones skipped), or "" after 2 s of silence.
async fn final_response(sock: &UdpSocket) -> String {
    let mut buf = vec![0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(2), sock.recv(&mut buf)).await {
        let r = String::from_utf8_lossy(&buf[..n]).into_owned();
        if !r.starts_with("SIP/2.0 1") {
            return r;
        }
    }
    String::new()
}

/// A raw INVITE to the service number from 13800138000 with `sdp` as its offer.
fn raw_invite(tag: &str, sdp: &str) -> String {
    format!(
        "INVITE sip:{SERVICE}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK{tag};rport\r\nFrom: <sip:13800138000@127.0.0.1>;tag={tag}\r\nTo: <sip:{SERVICE}@127.0.0.1>\r\nCall-ID: {tag}@test\r\nCSeq: 1 INVITE\r\nContact: <sip:13800138000@127.0.0.1:5999>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

/// An overloaded node's 503 carries Retry-After, so a proxy sends its calls elsewhere for a while
/// instead of retrying here at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_can_carry_retry_after() {
    let creds = Arc::new(StaticCredentials::default());
    let (uas, mut incoming) = Endpoint::bind(loopback_config(), creds).await.unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(uas.local_addr()).await.unwrap();
    let sdp = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n";
    let invite = raw_invite("overload", sdp);
    sock.send(invite.as_bytes()).await.unwrap();
    let call = tokio::time::timeout(Duration::from_secs(5), incoming.recv()).await.unwrap().unwrap();
    call.reject_with(503, "Service Unavailable (media overloaded)", &[("Retry-After", "5".into())]).await;
    let final_resp = final_response(&sock).await;
    assert!(final_resp.starts_with("SIP/2.0 503 Service Unavailable (media overloaded)\r\n"), "{final_resp}");
    assert!(final_resp.lines().any(|l| l == "Retry-After: 5"), "{final_resp}");
}
