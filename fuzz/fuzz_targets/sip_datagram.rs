//! One UDP datagram through the SIP receive path: framing, lexing, validation (the same
//! `validate::inbound` decision the endpoint takes), plus the header parsers a request reaches.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let framed = courtyard_sip::framing::frame_datagram(data);
    if let Ok(None) = framed {
        return;
    }
    let framed = framed.map(|m| m.expect("checked above"));
    courtyard_fuzz::exercise_inbound(courtyard_sip::validate::inbound(framed));
});
