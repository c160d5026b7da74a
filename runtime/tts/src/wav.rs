//! Reading operator WAV files (any rate, any channel count, 8–32-bit PCM or float) as 8 kHz
//! mono, and writing 8 kHz WAV files.

use std::path::Path;
use std::sync::Arc;

use crate::TtsError;
use crate::resample::{TELEPHONE_RATE, resample_f32, to_i16};

/// Loads a WAV file as 8 kHz mono s16 (channels averaged, resampled); blocking file I/O.
pub fn load_wav_8k(path: &Path) -> Result<Arc<[i16]>, TtsError> {
    let wav_err = |message: String| TtsError::Wav {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = hound::WavReader::open(path).map_err(|e| wav_err(describe(e)))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| wav_err(describe(e)))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| wav_err(describe(e)))?
        }
    };
    let mono: Vec<f32> = interleaved
        .chunks(channels)
        .map(|frame| frame.iter().sum::<f32>() / frame.len() as f32)
        .collect();
    let out = resample_f32(&mono, spec.sample_rate, TELEPHONE_RATE)
        .map_err(|e| wav_err(e.to_string()))?;
    Ok(to_i16(&out).into())
}

fn describe(e: hound::Error) -> String {
    match e {
        hound::Error::Unsupported => {
            "unsupported WAV encoding (use PCM or float; convert with `sox in.wav -e signed -b 16 out.wav`)".into()
        }
        other => format!("not a readable WAV file: {other}"),
    }
}

/// Writes 8 kHz mono s16 samples as a WAV file (for operators, tests and debugging).
pub fn save_wav_8k(path: &Path, samples: &[i16]) -> Result<(), TtsError> {
    let wav_err = |e: hound::Error| TtsError::Wav {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: TELEPHONE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(wav_err)?;
    for &s in samples {
        writer.write_sample(s).map_err(wav_err)?;
    }
    writer.finalize().map_err(wav_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms(s: &[i16]) -> f64 {
        (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
    }

    /// Writes one second of a 500 Hz sine at half scale in the given format.
    fn write(path: &Path, rate: u32, bits: u16, format: hound::SampleFormat) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: format,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..rate {
            let v =
                0.5 * (2.0 * std::f64::consts::PI * 500.0 * f64::from(i) / f64::from(rate)).sin();
            match (format, bits) {
                (hound::SampleFormat::Float, _) => w.write_sample(v as f32).unwrap(),
                (_, 8) => w.write_sample((v * 127.0) as i8).unwrap(),
                (_, 24) => w.write_sample((v * 8_388_607.0) as i32).unwrap(),
                _ => w.write_sample((v * 32_767.0) as i16).unwrap(),
            }
        }
        w.finalize().unwrap();
    }

    #[test]
    fn every_pcm_and_float_format_reads_at_the_right_level_and_length() {
        let dir = tempfile::tempdir().unwrap();
        for (rate, bits, format) in [
            (8_000, 8, hound::SampleFormat::Int),
            (16_000, 16, hound::SampleFormat::Int),
            (48_000, 24, hound::SampleFormat::Int),
            (22_050, 32, hound::SampleFormat::Float),
        ] {
            let path = dir.path().join(format!("{rate}-{bits}.wav"));
            write(&path, rate, bits, format);
            let pcm = load_wav_8k(&path).unwrap();
            assert!(
                (pcm.len() as i64 - 8_000).abs() <= 4,
                "{rate}/{bits}: {} samples",
                pcm.len()
            );
            // Half-scale sine: RMS 0.354 of full scale (8-bit is coarser).
            let level = rms(&pcm[400..7_600]) / 32_767.0;
            assert!((level - 0.354).abs() < 0.01, "{rate}/{bits}: level {level}");
        }
    }
}
