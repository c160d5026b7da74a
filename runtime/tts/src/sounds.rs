//! Tones the media and ACD code play, generated at 8 kHz: the record beep, Chinese call
//! progress tones (ringback, busy), a hold chime and a hold melody for queues, and DTMF.
//!
//! Call progress tones follow the Chinese standard (YD/T 1206 / GB 3380: 450 Hz; ringback 1 s
//! on, 4 s off; busy 0.35 s on, 0.35 s off), which is what callers of a 物业 hotline expect.
//! Every burst has 5 ms raised-cosine fades so playback starts and stops without clicks, and
//! each buffer is one period: loop it for a continuous tone.

use std::f32::consts::PI;

use crate::resample::TELEPHONE_RATE;

/// Level of call-progress tones (about −15 dBFS peak), comfortable on a handset.
const TONE_LEVEL: f32 = 0.18;
const FADE_MS: u32 = 5;

fn samples_for(ms: u32) -> usize {
    (ms as usize * TELEPHONE_RATE as usize) / 1000
}

/// Silence of `ms` milliseconds.
pub fn silence(ms: u32) -> Vec<i16> {
    vec![0; samples_for(ms)]
}

/// A sum of sine waves (`freqs` in Hz) lasting `ms`, peak `level` (0..1 of full scale), with
/// click-free fades at both ends.
pub fn tone(freqs: &[f32], ms: u32, level: f32) -> Vec<i16> {
    let n = samples_for(ms);
    let fade = samples_for(FADE_MS).min(n / 2).max(1);
    let per = level.clamp(0.0, 1.0) / freqs.len().max(1) as f32;
    (0..n)
        .map(|i| {
            let t = i as f32 / TELEPHONE_RATE as f32;
            let v: f32 = freqs.iter().map(|f| (2.0 * PI * f * t).sin()).sum::<f32>() * per;
            let edge = i.min(n - 1 - i);
            let gain = if edge < fade {
                0.5 - 0.5 * (PI * edge as f32 / fade as f32).cos()
            } else {
                1.0
            };
            (v * gain * 32767.0).round() as i16
        })
        .collect()
}

/// The beep before recording starts (voicemail, complaint recording): 1 kHz, 300 ms.
pub fn beep() -> Vec<i16> {
    tone(&[1_000.0], 300, 0.3)
}

/// One period of Chinese ringback (回铃音): 450 Hz, 1 s on, 4 s off.
pub fn ringback() -> Vec<i16> {
    let mut out = tone(&[450.0], 1_000, TONE_LEVEL);
    out.extend(silence(4_000));
    out
}

/// One period of Chinese busy tone (忙音): 450 Hz, 350 ms on, 350 ms off.
pub fn busy() -> Vec<i16> {
    let mut out = tone(&[450.0], 350, TONE_LEVEL);
    out.extend(silence(350));
    out
}

/// One period of a gentle hold chime for callers waiting in a queue: two soft descending
/// notes, then quiet, 4 s in all (loop it between queue announcements).
pub fn hold_chime() -> Vec<i16> {
    let mut out = bell(880.0, 450, 0.15);
    out.extend(bell(659.25, 700, 0.15));
    out.resize(samples_for(4_000), 0);
    out
}

/// One period (about 6.4 s) of a simple pentatonic hold melody with bell-like notes; a
/// royalty-free stand-in until the operator uploads music to the prompt library.
pub fn hold_melody() -> Vec<i16> {
    // G major pentatonic: (frequency, duration ms); 0 Hz is a rest.
    #[rustfmt::skip]
    const NOTES: [(f32, u32); 14] = [
        (392.00, 400), (440.00, 400), (493.88, 400), (587.33, 800),
        (493.88, 400), (440.00, 400), (392.00, 800), (0.0, 400),
        (329.63, 400), (392.00, 400), (440.00, 400), (392.00, 400),
        (293.66, 800), (0.0, 400),
    ];
    let mut out = Vec::new();
    for (f, ms) in NOTES {
        if f == 0.0 {
            out.extend(silence(ms));
        } else {
            out.extend(bell(f, ms, 0.12));
        }
    }
    out
}

/// A note with a soft attack and exponential decay, plus a quiet octave for warmth.
fn bell(freq: f32, ms: u32, level: f32) -> Vec<i16> {
    let n = samples_for(ms);
    let attack = samples_for(10).max(1);
    let fade = samples_for(FADE_MS).min(n / 2).max(1);
    (0..n)
        .map(|i| {
            let t = i as f32 / TELEPHONE_RATE as f32;
            let decay = (-3.0 * t / (ms as f32 / 1000.0)).exp();
            let env = decay
                * (i as f32 / attack as f32).min(1.0)
                * ((n - 1 - i) as f32 / fade as f32).min(1.0);
            let v = (2.0 * PI * freq * t).sin() * 0.8 + (4.0 * PI * freq * t).sin() * 0.2;
            (v * env * level * 32767.0).round() as i16
        })
        .collect()
}

/// The DTMF row/column frequencies of a key (0–9, *, #, A–D), for in-band signalling and tests.
pub fn dtmf_freqs(key: char) -> Option<(f32, f32)> {
    const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    #[rustfmt::skip]
    let (r, c) = match key.to_ascii_uppercase() {
        '1' => (0, 0), '2' => (0, 1), '3' => (0, 2), 'A' => (0, 3),
        '4' => (1, 0), '5' => (1, 1), '6' => (1, 2), 'B' => (1, 3),
        '7' => (2, 0), '8' => (2, 1), '9' => (2, 2), 'C' => (2, 3),
        '*' => (3, 0), '0' => (3, 1), '#' => (3, 2), 'D' => (3, 3),
        _ => return None,
    };
    Some((ROWS[r], COLS[c]))
}

/// An in-band DTMF tone for `key` lasting `ms` (None for keys that have no tone).
pub fn dtmf(key: char, ms: u32) -> Option<Vec<i16>> {
    dtmf_freqs(key).map(|(lo, hi)| tone(&[lo, hi], ms, 0.4))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative power of `freq` in `s` (Goertzel), normalized by the signal's energy.
    fn power_at(s: &[i16], freq: f32) -> f32 {
        let k = 2.0 * (2.0 * PI * freq / TELEPHONE_RATE as f32).cos();
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for &x in s {
            let s0 = f32::from(x) + k * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let p = s1 * s1 + s2 * s2 - k * s1 * s2;
        let energy: f32 = s.iter().map(|&x| f32::from(x).powi(2)).sum();
        p / (energy * s.len() as f32 / 2.0).max(1.0)
    }

    fn loud(s: &[i16]) -> usize {
        s.iter().filter(|x| x.unsigned_abs() > 100).count()
    }

    #[test]
    fn beep_is_a_clean_1khz_burst() {
        let b = beep();
        assert_eq!(b.len(), 2_400);
        assert!(power_at(&b, 1_000.0) > 0.9, "{}", power_at(&b, 1_000.0));
        assert!(power_at(&b, 450.0) < 0.01);
        assert_eq!(b[0], 0);
        assert!(b.last().unwrap().unsigned_abs() < 200, "click at the end");
        assert!(b.iter().map(|x| x.unsigned_abs()).max().unwrap() <= 9_900);
    }

    #[test]
    fn chinese_progress_tones_have_the_standard_cadence() {
        let r = ringback();
        assert_eq!(r.len(), 40_000);
        assert!(power_at(&r[..8_000], 450.0) > 0.9);
        assert_eq!(loud(&r[8_000..]), 0);
        let b = busy();
        assert_eq!(b.len(), 5_600);
        assert!(power_at(&b[..2_800], 450.0) > 0.9);
        assert_eq!(loud(&b[2_800..]), 0);
    }

    #[test]
    fn hold_sounds_loop_without_clicks() {
        for (name, s) in [("chime", hold_chime()), ("melody", hold_melody())] {
            assert!(s.len() >= 32_000, "{name} {}", s.len());
            assert!(loud(&s) > 4_000, "{name} is audible");
            // Starts and ends near zero, so looping does not click.
            assert!(
                s[0].unsigned_abs() < 100 && s[s.len() - 1].unsigned_abs() < 100,
                "{name}"
            );
            assert!(
                s.iter().map(|x| x.unsigned_abs()).max().unwrap() < 8_000,
                "{name} is soft"
            );
        }
        assert_eq!(hold_chime().len(), 32_000);
    }

    #[test]
    fn dtmf_keys_carry_their_two_frequencies() {
        let five = dtmf('5', 100).unwrap();
        assert_eq!(five.len(), 800);
        assert!(power_at(&five, 770.0) > 0.4 && power_at(&five, 1336.0) > 0.4);
        assert!(power_at(&five, 697.0) < 0.05 && power_at(&five, 1209.0) < 0.05);
        assert_eq!(dtmf_freqs('#'), Some((941.0, 1477.0)));
        assert_eq!(dtmf_freqs('x'), None);
        assert_eq!(silence(20).len(), 160);
    }
}
