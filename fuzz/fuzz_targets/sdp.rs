//! SDP offers/answers: parse, negotiate against our local media both as answerer and offerer,
//! and check that what we render parses again (we must never emit SDP we cannot read).
#![no_main]
use courtyard_sip::sdp::{self, LocalMedia};
use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};

fuzz_target!(|data: &[u8]| {
    let _ = sdp::sdp_from_body(Some("multipart/mixed;boundary=unique-boundary-1"), data);
    let Ok(sd) = sdp::parse(data) else { return };
    let local = LocalMedia::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40000);
    if let Ok(neg) = local.answer(&sd, 1) {
        let out = sdp::to_bytes(&neg.local_sdp);
        if let Err(e) = sdp::parse(&out) {
            panic!("our own answer does not parse: {e:?}\n{}", String::from_utf8_lossy(&out));
        }
    }
    let _ = local.accept_answer(&sd);
    let again = sdp::to_bytes(&sd);
    if let Err(e) = sdp::parse(&again) {
        panic!("re-rendered SDP does not parse: {e:?}\n{}", String::from_utf8_lossy(&again));
    }
});
