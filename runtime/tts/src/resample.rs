//! Conversion of engine and WAV audio to the telephone rate (8 kHz mono).
//!
//! Uses rubato's synchronous FFT resampler (fixed ratio, anti-aliased), which converts seconds
//! of audio in about a millisecond. Speech from espeak-ng peaks near full scale, and the
//! resampler's filter ringing then overshoots, so synthesized audio is scaled by
//! [`TTS_GAIN`] before resampling; results are clamped to the i16 range in any case.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::TtsError;

/// The telephone sample rate every public audio buffer of this crate uses.
pub const TELEPHONE_RATE: u32 = 8_000;

/// Gain applied to synthesized speech before resampling, to leave headroom against clipping.
pub const TTS_GAIN: f32 = 0.7;

/// Resamples mono s16 audio from `rate_in` to 8 kHz, multiplying by `gain` first.
pub fn to_8k(samples: &[i16], rate_in: u32, gain: f32) -> Result<Vec<i16>, TtsError> {
    let input: Vec<f32> = samples
        .iter()
        .map(|&s| f32::from(s) / 32768.0 * gain)
        .collect();
    resample_f32(&input, rate_in, TELEPHONE_RATE).map(|out| to_i16(&out))
}

/// Resamples mono f32 audio (full scale ±1.0) between two rates.
pub fn resample_f32(input: &[f32], rate_in: u32, rate_out: u32) -> Result<Vec<f32>, TtsError> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    if rate_in == rate_out {
        return Ok(input.to_vec());
    }
    if rate_in == 0 {
        return Err(TtsError::Audio("sample rate 0".into()));
    }
    let mut resampler = Fft::<f32>::new(
        rate_in as usize,
        rate_out as usize,
        1024,
        1,
        FixedSync::Both,
    )
    .map_err(|e| {
        TtsError::Audio(format!(
            "cannot resample {rate_in} Hz to {rate_out} Hz: {e}"
        ))
    })?;
    let adapter = InterleavedSlice::new(input, 1, input.len())
        .map_err(|e| TtsError::Audio(format!("resampler input: {e}")))?;
    let out = resampler
        .process_all(&adapter, input.len(), None)
        .map_err(|e| TtsError::Audio(format!("resampling failed: {e}")))?;
    Ok(out.take_data())
}

/// Converts ±1.0 floats to s16, clamping instead of wrapping.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f32, secs: f32, amp: f32) -> Vec<i16> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .map(|i| {
                (amp * 32767.0 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
                    as i16
            })
            .collect()
    }

    fn rms(s: &[i16]) -> f64 {
        (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
    }

    #[test]
    fn keeps_duration_and_in_band_tones() {
        let input = sine(22_050, 1_000.0, 2.0, 0.5);
        let out = to_8k(&input, 22_050, 1.0).unwrap();
        assert!(
            (out.len() as i64 - 16_000).abs() <= 8,
            "{} samples",
            out.len()
        );
        // A 1 kHz tone survives with its level (RMS of a 0.5 sine is 0.354 full scale).
        let level = rms(&out[800..15_000]) / 32767.0;
        assert!((level - 0.354).abs() < 0.02, "level {level}");
    }

    #[test]
    fn removes_tones_above_the_telephone_band() {
        // 6 kHz cannot be represented at 8 kHz and must be filtered, not folded to 2 kHz.
        let input = sine(22_050, 6_000.0, 1.0, 0.5);
        let out = to_8k(&input, 22_050, 1.0).unwrap();
        assert!(
            rms(&out[800..7_000]) < 0.01 * 32767.0,
            "aliasing rms {}",
            rms(&out)
        );
    }

    #[test]
    fn gain_scales_and_full_scale_does_not_wrap() {
        let input = sine(22_050, 400.0, 1.0, 1.0);
        let out = to_8k(&input, 22_050, TTS_GAIN).unwrap();
        let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak > 20_000 && peak < 24_500, "peak {peak}");
        assert!(to_8k(&[], 22_050, 1.0).unwrap().is_empty());
        assert_eq!(to_i16(&[2.0, -2.0]), vec![32767, -32768]);
    }
}
