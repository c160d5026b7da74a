//! Tone generation at 8 kHz: DTMF keys (in-band sending, tests), beeps before recording,
//! and test signals.

use crate::dtmf::frequencies;

/// A sine tone of `ms` milliseconds at `amplitude` (peak, 16-bit scale).
pub fn sine(freq: f32, ms: u32, amplitude: i16) -> Vec<i16> {
    let n = (ms as usize) * 8;
    (0..n)
        .map(|i| {
            let t = i as f32 / 8000.0;
            ((2.0 * std::f32::consts::PI * freq * t).sin() * amplitude as f32) as i16
        })
        .collect()
}

/// The dual tone of a DTMF key; `amplitude` is the combined peak (each tone gets half).
pub fn dtmf(digit: char, ms: u32, amplitude: i16) -> Option<Vec<i16>> {
    let (lo, hi) = frequencies(digit)?;
    let a = sine(lo, ms, amplitude / 2);
    let b = sine(hi, ms, amplitude / 2);
    Some(a.iter().zip(b).map(|(x, y)| x.saturating_add(y)).collect())
}

/// The short 1 kHz beep played before a recording starts.
pub fn beep() -> Vec<i16> {
    sine(1000.0, 250, 8000)
}
