//! DTMF: the digits callers press, however they arrive — RFC 4733 telephone-events, in-band tones
//! (detected with Goertzel filters on G.711 audio), or SIP INFO relayed by the signalling layer.

pub mod goertzel;
pub mod rfc4733;

/// Where a digit came from; reports and debugging care, flows do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtmfSource {
    /// RFC 4733 telephone-event packets.
    Rfc4733,
    /// Tones in the audio, found by the Goertzel detector.
    Inband,
    /// Injected by the signalling layer (SIP INFO application/dtmf-relay) or a test.
    Injected,
}

/// One key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DtmfDigit {
    /// '0'-'9', '*', '#', 'A'-'D'.
    pub digit: char,
    /// How long the key was held, in ms (0 when unknown, e.g. SIP INFO without Duration).
    pub duration_ms: u32,
    /// RFC 4733 volume: power level in -dBm0 (0 = loudest); `None` for other sources.
    pub volume: Option<u8>,
    /// Where it came from.
    pub source: DtmfSource,
}

/// Maps a key to its RFC 4733 event code.
pub fn event_code(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(12 + (digit as u8 - b'A')),
        'a'..='d' => Some(12 + (digit as u8 - b'a')),
        _ => None,
    }
}

/// Maps an RFC 4733 event code to its key (codes above 15 are not keys: flash, tones …).
pub fn event_digit(code: u8) -> Option<char> {
    match code {
        0..=9 => Some((b'0' + code) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + code - 12) as char),
        _ => None,
    }
}

/// The (low, high) frequency pair of a key on the DTMF keypad.
pub fn frequencies(digit: char) -> Option<(f32, f32)> {
    const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    let (r, c) = match digit.to_ascii_uppercase() {
        '1' => (0, 0),
        '2' => (0, 1),
        '3' => (0, 2),
        'A' => (0, 3),
        '4' => (1, 0),
        '5' => (1, 1),
        '6' => (1, 2),
        'B' => (1, 3),
        '7' => (2, 0),
        '8' => (2, 1),
        '9' => (2, 2),
        'C' => (2, 3),
        '*' => (3, 0),
        '0' => (3, 1),
        '#' => (3, 2),
        'D' => (3, 3),
        _ => return None,
    };
    Some((ROWS[r], COLS[c]))
}

/// Parses a SIP INFO body carrying a key press, for [`crate::MediaSession::inject_dtmf`]:
/// `application/dtmf-relay` ("Signal=5\r\nDuration=160") or `application/dtmf` ("5").
/// Returns the key and the duration in ms (0 when not given).
pub fn parse_sip_info(content_type: &str, body: &str) -> Option<(char, u32)> {
    let ct = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let one_key = |s: &str| {
        let s = s.trim();
        let mut c = s.chars();
        match (c.next(), c.next()) {
            (Some(k), None) if event_code(k).is_some() => Some(k.to_ascii_uppercase()),
            // Some phones send the event code ("10" for '*', "11" for '#').
            _ => s.parse::<u8>().ok().and_then(event_digit),
        }
    };
    match ct.as_str() {
        "application/dtmf-relay" => {
            let mut key = None;
            let mut ms = 0;
            for line in body.lines() {
                let Some((name, value)) = line.split_once('=') else { continue };
                match name.trim().to_ascii_lowercase().as_str() {
                    "signal" => key = one_key(value),
                    "duration" => ms = value.trim().parse().unwrap_or(0),
                    _ => {}
                }
            }
            key.map(|k| (k, ms))
        }
        "application/dtmf" => one_key(body).map(|k| (k, 0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_info_bodies() {
        assert_eq!(parse_sip_info("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n"), Some(('5', 160)));
        assert_eq!(parse_sip_info("Application/DTMF-Relay; charset=x", "Signal= #\nDuration= 250"), Some(('#', 250)));
        assert_eq!(parse_sip_info("application/dtmf-relay", "Signal=11\r\n"), Some(('#', 0)));
        assert_eq!(parse_sip_info("application/dtmf", "*"), Some(('*', 0)));
        assert_eq!(parse_sip_info("application/dtmf-relay", "Signal=x\r\n"), None);
        assert_eq!(parse_sip_info("application/dtmf-relay", "Duration=100"), None);
        assert_eq!(parse_sip_info("text/plain", "5"), None);
    }

    #[test]
    fn codes_and_digits_are_inverse() {
        for d in "0123456789*#ABCD".chars() {
            assert_eq!(event_digit(event_code(d).unwrap()), Some(d));
            assert!(frequencies(d).is_some());
        }
        assert_eq!(event_code('x'), None);
        assert_eq!(event_digit(16), None);
    }
}
