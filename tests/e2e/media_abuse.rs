//! Bad media input on a live call (issue 4): garbage UDP on the runtime's RTP port, packets that
//! are not RTP version 2, truncated headers, a wrong payload type, 1500+ byte packets, digits
//! injected from a foreign address (the "RTP bleed" attack) and an SSRC change. The call must
//! survive all of it: the caller keeps hearing the flow, and RFC 4733 digits sent afterwards
//! (with the new SSRC) still drive the menu, while the foreign digit does not.

use std::net::UdpSocket;
use std::time::Duration;

use crate::support::caller::Call;
use crate::support::rtp::rtp_ssrc;
use crate::support::{Runtime, final_cdr, http_get};

/// A deterministic byte stream (xorshift), so a failure can be replayed.
fn garbage(seed: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed as u8
        })
        .collect()
}

#[test]
fn call_survives_garbage_odd_packets_and_ssrc_change_and_digits_still_work() {
    let rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    // 江辉 owns 1-1-201 and owes nothing: the bill branch ends the call with a goodbye.
    let call = Call::dial(&rt, "4008123400", "15513076910", Duration::from_secs(90));
    let rtp_port = call.phone.remote().expect("runtime RTP address");
    call.hear("main menu", 1.5);
    let before = call.phone.packets();

    let mut seed = 0x5eed_cafe_f00d_u64;
    // Garbage of every size, from the caller's own (latched) address.
    for len in [1, 2, 5, 11, 12, 13, 40, 172, 400, 1499] {
        call.phone.send_raw(&garbage(&mut seed, len));
    }
    // RTP-looking headers with the wrong version, a CSRC count past the end, an extension flag
    // with no extension, and padding longer than the packet.
    for first in [0x00u8, 0x40, 0xC0, 0x8F, 0x90, 0xA0] {
        let mut p = rtp_ssrc(0, false, 1, 160, 0x1234_5678, &[0xff; 20]);
        p[0] = first;
        if first == 0xA0 {
            *p.last_mut().expect("payload") = 0xff;
        }
        call.phone.send_raw(&p);
    }
    // A payload type nobody negotiated, and comfort noise.
    for pt in [96, 127, 13, 18, 34] {
        call.phone.send_packet(pt, &garbage(&mut seed, 160));
    }
    // Oversized packets: 1500+ bytes of PCMU, up to a 9 kB jumbo datagram.
    for len in [1500, 1600, 4000, 9000] {
        call.phone.send_packet(0, &garbage(&mut seed, len));
    }
    // RTP bleed: a foreign address sends a well-formed "0" (agent) key press; it must be dropped.
    let foreign = UdpSocket::bind("127.0.0.1:0").expect("bind");
    for i in 0..8u16 {
        let end = i >= 5;
        let payload = [0u8, if end { 0x8a } else { 0x0a }, 0x03, 0x20];
        let _ = foreign.send_to(&rtp_ssrc(101, i == 0, 40_000 + i, 999_000, 0xbad_0bad, &payload), rtp_port);
    }
    for _ in 0..20 {
        let _ = foreign.send_to(&garbage(&mut seed, 172), rtp_port);
    }
    // The phone restarts its stream: new SSRC from here on (silence and key presses).
    call.phone.change_ssrc(0x0ddb_a11);
    std::thread::sleep(Duration::from_millis(300));

    let (code, _) = http_get(rt.http, "/healthz", None).expect("healthz");
    assert_eq!(code, 200, "the runtime is unhealthy after bad media:\n{}", rt.log_text());

    // The menu still works with digits from the new stream.
    call.press("4");
    call.hear("info menu", 1.5);
    call.press("1");
    call.hear("office-hours answer", 2.0);
    call.press("*1");
    let phone = call.end(&rt);
    let after = phone.packets();
    assert!(after > before + 200, "the runtime's audio stalled after the bad input ({before} → {after} packets)");

    let cdr = final_cdr(&rt, "15513076910");
    let path: Vec<String> = cdr["ivr_path"].as_array().map(|a| a.iter().filter_map(|p| p.as_str().map(String::from)).collect()).unwrap_or_default();
    // The keys after the bad input, in order, and nothing from the foreign "0".
    let mut rest = path.iter();
    for node in ["main:4", "info:1", "main:1", "bills"] {
        assert!(rest.any(|p| p == node), "IVR path {path:?} lacks {node} (in order): the digits after the bad input must drive the menu");
    }
    assert!(!path.iter().any(|p| p.ends_with(":0") || p.contains("agent")), "the foreign 0 reached the menu: {path:?}");
    assert!(cdr["queue"].is_null(), "the foreign digit put the caller in a queue: {cdr}");
    assert_ne!(cdr["hangup_side"], "caller", "the flow should have ended the call: {cdr}");
    assert!(phone.speech_seconds() > 10.0, "caller heard only {:.1} s", phone.speech_seconds());
    assert_eq!(rt.terminate(), Some(0));
}
