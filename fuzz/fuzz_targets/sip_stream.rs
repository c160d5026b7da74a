//! A TCP byte stream cut into arbitrary chunks through `StreamDecoder`, each framed message
//! through `validate::inbound`. The first byte of the input picks the chunk size.
#![no_main]
use courtyard_sip::framing::StreamDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&c, rest)) = data.split_first() else { return };
    let chunk = usize::from(c % 64) + 1;
    let mut dec = StreamDecoder::new();
    'outer: for piece in rest.chunks(chunk) {
        dec.push(piece);
        loop {
            match dec.next_message() {
                Ok(Some(m)) => courtyard_fuzz::exercise_inbound(courtyard_sip::validate::inbound(Ok(m))),
                Ok(None) => break,
                Err(e) => {
                    let fatal = e.fatal;
                    courtyard_fuzz::exercise_inbound(courtyard_sip::validate::inbound(Err(e)));
                    if fatal {
                        break 'outer;
                    }
                    break;
                }
            }
        }
    }
});
