//! G.711 codecs: the two payload formats every SIP phone and trunk speaks.
//!
//! Both laws compress 14/13-bit linear PCM to 8 bits with a logarithmic curve. Decoding goes
//! through 256-entry tables built at compile time; encoding a frame goes through a 64 KiB table
//! per law (one entry per 16-bit sample), built from the per-sample formulas on first use.

pub mod pcma;
pub mod pcmu;

use std::sync::LazyLock;

/// µ-law code of every 16-bit sample, indexed by the sample's bits. Why a table: the formula
/// was ~300 ns per 20 ms frame and the table ~80-120 ns (measured), and every call in progress
/// encodes 50 frames a second on the media threads.
static PCMU_ENCODE: LazyLock<Box<[u8]>> = LazyLock::new(|| (0..=u16::MAX).map(|i| pcmu::encode(i as i16)).collect());
/// A-law code of every 16-bit sample (see [`PCMU_ENCODE`]).
static PCMA_ENCODE: LazyLock<Box<[u8]>> = LazyLock::new(|| (0..=u16::MAX).map(|i| pcma::encode(i as i16)).collect());

/// The audio codecs a session can send and receive; the SDP layer picks one per leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, static payload type 0 (North America/Japan, and most softphones' first choice).
    Pcmu,
    /// G.711 A-law, static payload type 8 (China's PSTN and most carriers here).
    Pcma,
}

impl Codec {
    /// The static RTP payload type of this codec (RFC 3551).
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The codec for a static payload type, when it is one we speak.
    pub fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The codec for an SDP `a=rtpmap` encoding name ("PCMU"/"PCMA", any case, clock 8000).
    pub fn from_encoding_name(name: &str) -> Option<Codec> {
        let name = name.split('/').next().unwrap_or("").trim();
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Codec::Pcmu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Codec::Pcma)
        } else {
            None
        }
    }

    /// The SDP encoding name ("PCMU"/"PCMA").
    pub fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The encoded byte of digital silence, used for comfort frames.
    pub fn silence_byte(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }

    /// Encodes linear samples into `out` (one byte per sample, appended).
    pub fn encode(self, pcm: &[i16], out: &mut Vec<u8>) {
        let table: &[u8] = match self {
            Codec::Pcmu => &PCMU_ENCODE,
            Codec::Pcma => &PCMA_ENCODE,
        };
        out.extend(pcm.iter().map(|&s| table[s as u16 as usize]));
    }

    /// Decodes G.711 bytes into linear samples (appended to `out`).
    pub fn decode(self, bytes: &[u8], out: &mut Vec<i16>) {
        out.reserve(bytes.len());
        match self {
            Codec::Pcmu => out.extend(bytes.iter().map(|&b| pcmu::decode(b))),
            Codec::Pcma => out.extend(bytes.iter().map(|&b| pcma::decode(b))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// G.711 keeps about 12 bits of relative precision: the error of a round trip is bounded by
    /// one quantisation step of the segment the sample falls in.
    fn max_step(sample: i16, codec: Codec) -> i32 {
        let m = (sample as i32).abs().min(32767);
        match codec {
            Codec::Pcmu => {
                let biased = m.min(32635) + 0x84;
                let e = (31 - (biased as u32).leading_zeros() as i32 - 7).clamp(0, 7);
                8 << e
            }
            Codec::Pcma => {
                let e = (31 - (m.max(1) as u32).leading_zeros() as i32 - 7).clamp(1, 7);
                16 << (e - 1)
            }
        }
    }

    /// The frame encoder's tables agree with the per-sample formulas for every 16-bit sample.
    #[test]
    fn frame_encoding_matches_the_formula_for_every_sample() {
        let all: Vec<i16> = (0..=u16::MAX).map(|i| i as i16).collect();
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut out = Vec::new();
            codec.encode(&all, &mut out);
            let formula = |s: i16| if codec == Codec::Pcmu { pcmu::encode(s) } else { pcma::encode(s) };
            assert_eq!(out.len(), all.len());
            for (s, code) in all.iter().zip(&out) {
                assert_eq!(*code, formula(*s), "{codec:?} sample {s}");
            }
        }
    }

    #[test]
    fn round_trip_error_is_within_half_a_segment_step() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut worst_rel = 0.0f64;
            for s in (i16::MIN as i32..=i16::MAX as i32).step_by(7) {
                let s = s as i16;
                let mut enc = Vec::new();
                codec.encode(&[s], &mut enc);
                let mut dec = Vec::new();
                codec.decode(&enc, &mut dec);
                let err = (dec[0] as i32 - s as i32).abs();
                assert!(
                    err <= max_step(s, codec),
                    "{codec:?}: {s} -> {:#04x} -> {} (error {err})",
                    enc[0],
                    dec[0]
                );
                if s.unsigned_abs() > 1000 {
                    worst_rel = worst_rel.max(err as f64 / s.unsigned_abs() as f64);
                }
            }
            // Logarithmic companding: never worse than ~3.2 % relative error above the knee.
            assert!(worst_rel < 0.035, "{codec:?} relative error {worst_rel}");
        }
    }

    #[test]
    fn every_code_decodes_and_reencodes_to_itself() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            for b in 0u8..=255 {
                let mut dec = Vec::new();
                codec.decode(&[b], &mut dec);
                let mut enc = Vec::new();
                codec.encode(&dec, &mut enc);
                // µ-law has two zeros (0x7F and 0xFF); both must decode to 0 and encode to 0xFF.
                if codec == Codec::Pcmu && b == 0x7F {
                    assert_eq!(enc[0], 0xFF);
                } else {
                    assert_eq!(enc[0], b, "{codec:?} code {b:#04x} decoded to {}", dec[0]);
                }
            }
        }
    }

    #[test]
    fn silence_byte_decodes_to_near_zero() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut dec = Vec::new();
            codec.decode(&[codec.silence_byte()], &mut dec);
            assert!(dec[0].abs() <= 8, "{codec:?} silence decodes to {}", dec[0]);
        }
    }

    #[test]
    fn names_and_payload_types() {
        assert_eq!(Codec::from_encoding_name("pcmu/8000"), Some(Codec::Pcmu));
        assert_eq!(Codec::from_encoding_name("PCMA"), Some(Codec::Pcma));
        assert_eq!(Codec::from_encoding_name("opus/48000/2"), None);
        for c in [Codec::Pcmu, Codec::Pcma] {
            assert_eq!(Codec::from_payload_type(c.payload_type()), Some(c));
            assert_eq!(Codec::from_encoding_name(c.encoding_name()), Some(c));
        }
        assert_eq!(Codec::from_payload_type(18), None);
    }

    #[test]
    fn known_reference_values() {
        // ITU-T G.711 reference points: full-scale positive and negative.
        assert_eq!(pcmu::decode(0x80), 32124);
        assert_eq!(pcmu::decode(0x00), -32124);
        assert_eq!(pcma::decode(0xAA), 32256);
        assert_eq!(pcma::decode(0x2A), -32256);
        assert_eq!(pcmu::encode(0), 0xFF);
        assert_eq!(pcma::encode(0), 0xD5);
    }
}
