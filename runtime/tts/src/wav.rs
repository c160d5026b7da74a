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
