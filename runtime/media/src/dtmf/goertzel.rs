//! In-band DTMF detection with Goertzel filters, for callers whose phones send tones in the audio
//! instead of RFC 4733 events.
//!
//! Each 20 ms frame (160 samples) is tested for one row and one column tone that carry most of the
//! frame's energy (speech spreads energy and fails that test), with limited twist between them. A
//! key is reported when the same pair is seen in two consecutive frames, and again only after two
//! frames without it.

use super::{DtmfDigit, DtmfSource};

const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [['1', '2', '3', 'A'], ['4', '5', '6', 'B'], ['7', '8', '9', 'C'], ['*', '0', '#', 'D']];

/// Mean square below which a frame is silence for the detector (≈ -45 dBFS).
const MIN_MEAN_SQUARE: f32 = 1.0e3;
/// Share of the frame's energy each of the two tones must carry.
const MIN_TONE_SHARE: f32 = 0.15;
/// Share both tones together must carry (the rest is noise/speech).
const MIN_PAIR_SHARE: f32 = 0.65;
/// Largest allowed power ratio between the two tones (twist), ≈ 9 dB.
const MAX_TWIST: f32 = 8.0;
/// The runner-up in a group must be this many times weaker than the winner.
const MIN_GROUP_RATIO: f32 = 6.0;

/// Goertzel DTMF detector state for one audio stream at 8 kHz.
#[derive(Debug, Clone)]
pub struct GoertzelDetector {
    coeffs: [f32; 8],
    candidate: Option<char>,
    seen: u32,
    absent: u32,
    reported: Option<char>,
}

impl Default for GoertzelDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl GoertzelDetector {
    /// A detector for 8 kHz audio.
    pub fn new() -> Self {
        let mut coeffs = [0f32; 8];
        for (i, f) in ROWS.iter().chain(COLS.iter()).enumerate() {
            coeffs[i] = 2.0 * (2.0 * std::f32::consts::PI * f / 8000.0).cos();
        }
        Self { coeffs, candidate: None, seen: 0, absent: 0, reported: None }
    }

    /// Which key (if any) one block of samples contains.
    pub fn classify(&self, frame: &[i16]) -> Option<char> {
        let n = frame.len();
        if n < 100 {
            return None;
        }
        let energy: f32 = frame.iter().map(|&s| (s as f32) * (s as f32)).sum();
        if energy / (n as f32) < MIN_MEAN_SQUARE {
            return None;
        }
        let mut power = [0f32; 8];
        for (k, c) in self.coeffs.iter().enumerate() {
            let (mut s1, mut s2) = (0f32, 0f32);
            for &x in frame {
                let s0 = x as f32 + c * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            // Normalised so a pure tone's power equals its share of the frame energy (≈ 1.0).
            power[k] = (s1 * s1 + s2 * s2 - c * s1 * s2) / (energy * n as f32 / 2.0);
        }
        let best = |p: &[f32]| {
            let mut idx = 0;
            for i in 1..4 {
                if p[i] > p[idx] {
                    idx = i;
                }
            }
            let runner = (0..4).filter(|&i| i != idx).map(|i| p[i]).fold(0f32, f32::max);
            (idx, p[idx], runner)
        };
        let (r, rp, rr) = best(&power[..4]);
        let (c, cp, cr) = best(&power[4..]);
        let ok = rp >= MIN_TONE_SHARE
            && cp >= MIN_TONE_SHARE
            && rp + cp >= MIN_PAIR_SHARE
            && rp / cp <= MAX_TWIST
            && cp / rp <= MAX_TWIST
            && rp >= rr * MIN_GROUP_RATIO
            && cp >= cr * MIN_GROUP_RATIO;
        ok.then(|| KEYS[r][c])
    }

    /// Feeds one 20 ms frame; returns a key when a new press is confirmed.
    pub fn process(&mut self, frame: &[i16]) -> Option<DtmfDigit> {
        let key = self.classify(frame);
        match key {
            Some(k) if self.candidate == Some(k) => self.seen += 1,
            Some(k) => {
                self.candidate = Some(k);
                self.seen = 1;
            }
            None => {}
        }
        if key.is_none() {
            self.absent += 1;
            if self.absent >= 2 {
                self.candidate = None;
                self.seen = 0;
                self.reported = None;
            }
            return None;
        }
        self.absent = 0;
        if self.seen >= 2 && self.reported != key {
            self.reported = key;
            let ms = (frame.len() as u32 * self.seen) / 8;
            return key.map(|digit| DtmfDigit { digit, duration_ms: ms, volume: None, source: DtmfSource::Inband });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;
    use crate::tone;

    fn detect_all(pcm: &[i16]) -> String {
        let mut d = GoertzelDetector::new();
        pcm.chunks(160).filter_map(|f| d.process(f)).map(|d| d.digit).collect()
    }

    #[test]
    fn detects_every_key_through_both_g711_laws() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut pcm = Vec::new();
            for k in "0123456789*#ABCD".chars() {
                pcm.extend(tone::dtmf(k, 80, 6000).unwrap());
                pcm.extend(std::iter::repeat_n(0i16, 480));
            }
            let mut enc = Vec::new();
            codec.encode(&pcm, &mut enc);
            let mut dec = Vec::new();
            codec.decode(&enc, &mut dec);
            assert_eq!(detect_all(&dec), "0123456789*#ABCD", "{codec:?}");
        }
    }

    #[test]
    fn a_long_press_is_one_key_and_quiet_or_weak_tones_are_ignored() {
        let mut pcm = tone::dtmf('5', 1000, 8000).unwrap();
        pcm.extend(std::iter::repeat_n(0i16, 800));
        pcm.extend(tone::dtmf('5', 200, 8000).unwrap());
        assert_eq!(detect_all(&pcm), "55");
        assert_eq!(detect_all(&tone::dtmf('7', 200, 20).unwrap()), "");
    }

    #[test]
    fn single_tones_chords_and_noise_are_not_keys() {
        // A 1 kHz beep and a dial tone (350+440 Hz) are not DTMF.
        assert_eq!(detect_all(&tone::sine(1000.0, 500, 8000)), "");
        let dial: Vec<i16> = tone::sine(350.0, 500, 5000).iter().zip(tone::sine(440.0, 500, 5000)).map(|(a, b)| a + b).collect();
        assert_eq!(detect_all(&dial), "");
        // Pseudo-random noise at speech level.
        let mut x: u32 = 12345;
        let noise: Vec<i16> = (0..8000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((x >> 16) as i16) / 4
            })
            .collect();
        assert_eq!(detect_all(&noise), "");
        // A DTMF key with strong noise on top still fails the purity test, rather than guessing.
        let noisy: Vec<i16> = tone::dtmf('3', 400, 3000).unwrap().iter().zip(&noise).map(|(a, b)| a.saturating_add(b.saturating_mul(2))).collect();
        assert_eq!(detect_all(&noisy), "");
    }
}
