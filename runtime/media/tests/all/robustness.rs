//! Hostile and broken input: RTP bleed from a foreign address, garbage, huge datagrams, wrong
//! payload types, an SSRC change — the call survives, bad input is dropped and counted.

use std::time::Duration;

use courtyard_media::codec::Codec;
use courtyard_media::tone;

use crate::peer::{Peer, decode, session};

#[tokio::test]
async fn latches_to_first_source_and_never_relearns_from_a_foreign_address() {
    let s = session().await;
    let mut phone = Peer::new().await;
    let mut attacker = Peer::new().await;
    // Before signalling nothing is accepted (and nothing latched).
    phone.send(s.local_addr(), 0, 0, true, &[0xFF; 160]).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(s.stats().dropped_unsignalled, 1);
    // SDP says the phone is at some other (NATed) address; media really comes from `phone`.
    let sdp_addr = "127.0.0.1:9".parse().unwrap();
    s.set_remote(sdp_addr, Codec::Pcmu, Some(101));
    phone.stream(s.local_addr(), Codec::Pcmu, &tone::sine(800.0, 100, 5000)).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(s.stats().latched, Some(phone.addr()));
    // The attacker sprays valid RTP (and a DTMF key) at the port: all dropped, not latched.
    attacker.stream(s.local_addr(), Codec::Pcmu, &tone::sine(300.0, 100, 5000)).await;
    let mut digits = s.digits();
    attacker.press(s.local_addr(), 101, 1, 10).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    let st = s.stats();
    assert_eq!(st.dropped_foreign, 5 + 8);
    assert_eq!(st.latched, Some(phone.addr()));
    assert!(digits.try_recv().is_none(), "a foreign source cannot press keys");
    // Media keeps going to the phone, never to the attacker.
    phone.drain();
    assert!(phone.collect(5, Duration::from_secs(2)).await.len() == 5);
    attacker.drain();
    assert!(attacker.collect(1, Duration::from_millis(200)).await.is_empty(), "RTP bleed: audio leaked to attacker");
    // Only signalling moves the latch (re-INVITE with a new address).
    s.set_remote(attacker.addr(), Codec::Pcmu, Some(101));
    attacker.stream(s.local_addr(), Codec::Pcmu, &tone::sine(300.0, 60, 5000)).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(s.stats().latched, Some(attacker.addr()));
    s.close().await;
}

/// A port is reused while the previous call's phone still sends to it: that stale source is
/// latched first. The new caller's phone, at the address its SDP gave, takes the latch back with
/// its first packet; the new call's audio then goes to it, never to the stale sender again.
#[tokio::test]
async fn the_signalled_phone_takes_back_a_latch_a_stale_sender_took_first() {
    let s = session().await;
    let mut stale = Peer::new().await;
    let mut phone = Peer::new().await;
    stale.ssrc = 0x57a1e;
    s.set_remote(phone.addr(), Codec::Pcmu, Some(101));
    stale.stream(s.local_addr(), Codec::Pcmu, &tone::sine(300.0, 100, 5000)).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(s.stats().latched, Some(stale.addr()), "the stale sender came first");
    phone.stream(s.local_addr(), Codec::Pcmu, &tone::sine(800.0, 100, 5000)).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(s.stats().latched, Some(phone.addr()));
    // From now on the stale sender is foreign, and the call's audio reaches the phone only.
    let foreign = s.stats().dropped_foreign;
    stale.stream(s.local_addr(), Codec::Pcmu, &tone::sine(300.0, 60, 5000)).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(s.stats().dropped_foreign, foreign + 3);
    assert_eq!(s.stats().latched, Some(phone.addr()));
    phone.drain();
    stale.drain();
    assert_eq!(phone.collect(5, Duration::from_secs(2)).await.len(), 5);
    assert!(stale.collect(1, Duration::from_millis(200)).await.is_empty(), "the new call's audio went to the stale sender");
    s.close().await;
}

#[tokio::test]
async fn garbage_huge_wrong_payload_type_and_ssrc_change_do_not_break_the_call() {
    let s = session().await;
    let mut phone = Peer::new().await;
    s.set_remote(phone.addr(), Codec::Pcma, Some(101));
    let to = s.local_addr();
    phone.stream(to, Codec::Pcma, &tone::sine(800.0, 60, 5000)).await;
    phone.send_raw(to, b"\x00\x01garbage that is not RTP").await;
    phone.send_raw(to, &[0x80]).await;
    phone.send_raw(to, b"INVITE sip:bob@example.com SIP/2.0\r\n\r\n").await;
    phone.send_raw(to, &vec![0x80u8; 9000]).await;
    phone.send_raw(to, &vec![0x80u8; 1600]).await;
    // Payload type 0 (PCMU) on a PCMA call, and 96: not negotiated. Comfort noise (13) is fine.
    phone.send(to, 0, 1, false, &[0xFF; 160]).await;
    phone.send(to, 96, 1, false, &[0x40]).await;
    phone.send(to, 13, 1, false, &[0x40]).await;
    // The phone restarts its stream with a new SSRC and sequence numbers mid-call.
    phone.ssrc = 0xCAFE;
    phone.seq = 40_000;
    phone.ts = 7;
    let mut digits = s.digits();
    phone.stream(to, Codec::Pcma, &tone::sine(800.0, 100, 5000)).await;
    phone.press(to, 101, 9, 10).await;
    let d = tokio::time::timeout(Duration::from_secs(5), digits.recv()).await.unwrap().unwrap();
    assert_eq!(d.digit, '9');
    tokio::time::sleep(Duration::from_millis(60)).await;
    let st = s.stats();
    assert_eq!(st.dropped_garbage, 3);
    assert_eq!(st.dropped_oversize, 2);
    assert_eq!(st.dropped_wrong_pt, 2);
    assert_eq!(st.ssrc_changes, 1);
    assert_eq!(st.comfort_noise_received, 1);
    assert_eq!(st.packets_received, 3 + 1 + 5 + 8);
    // Still sending to the phone.
    phone.drain();
    let pk = phone.collect(5, Duration::from_secs(2)).await;
    assert_eq!(pk.len(), 5);
    assert_eq!(decode(&pk, Codec::Pcma).len(), 800);
    s.close().await;
}

#[tokio::test]
async fn a_flood_does_not_stop_the_clock() {
    let s = session().await;
    let phone = Peer::new().await;
    let flooder = Peer::new().await;
    s.set_remote(phone.addr(), Codec::Pcmu, None);
    let to = s.local_addr();
    let flood = tokio::spawn(async move {
        for i in 0..20_000u32 {
            let _ = flooder.sock.send_to(&i.to_be_bytes(), to).await;
            if i % 500 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    let pk = phone.collect(10, Duration::from_secs(5)).await;
    assert_eq!(pk.len(), 10, "session kept sending during the flood");
    flood.await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(s.stats().dropped_garbage > 0);
    s.close().await;
}
