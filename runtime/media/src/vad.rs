//! Voice activity by frame energy: enough to end a recording on silence and to check that a
//! captured prompt is speech of the expected length, not silence or noise-free zeros.

use crate::FRAME;

/// Mean square above which a 20 ms frame counts as voice (≈ -40 dBFS).
pub const VOICE_MEAN_SQUARE: i64 = 100 * 100;

/// True when the frame carries voice-level energy.
pub fn is_voice(frame: &[i16]) -> bool {
    if frame.is_empty() {
        return false;
    }
    let ms: i64 = frame.iter().map(|&s| s as i64 * s as i64).sum::<i64>() / frame.len() as i64;
    ms >= VOICE_MEAN_SQUARE
}

/// Milliseconds of 20 ms frames with voice in 8 kHz audio.
pub fn voiced_ms(pcm: &[i16]) -> u32 {
    pcm.chunks(FRAME).filter(|f| is_voice(f)).count() as u32 * 20
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_is_voice_silence_and_faint_noise_are_not() {
        let mut pcm = crate::tone::sine(300.0, 400, 3000);
        pcm.extend(std::iter::repeat_n(0i16, 1600));
        pcm.extend(std::iter::repeat_n(40i16, 1600));
        assert_eq!(voiced_ms(&pcm), 400);
        assert!(!is_voice(&[]));
    }
}
