//! Call recording to WAV (8 kHz, 16-bit, via hound).
//!
//! [`Recorder`] records the whole call — what the remote sent and what we sent — mixed to mono, as
//! stereo (left = remote party, right = what this session sent: prompts or the bridged agent), or
//! as two separate mono files. Time is continuous: a tick without audio in one direction writes
//! silence, so both directions stay aligned. Pausing skips ticks entirely (the paused time is not
//! in the file, e.g. while a caller reads out a card number).
//!
//! [`CallerRecorder`] records only the caller (voicemail, repair description) and decides itself
//! when to stop: maximum length, trailing silence (which is trimmed) or a terminator key.
//!
//! Files are written from the session task through a 64 KiB buffer (one write syscall every
//! ~2 s of mono audio); the header is finalised off the task in `spawn_blocking`.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hound::{SampleFormat, WavSpec, WavWriter};

use crate::{FRAME, MediaError};

type Writer = WavWriter<BufWriter<File>>;

/// How a call recording lays out the two directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordMode {
    /// One mono file, both directions summed (what a listener on the line heard).
    Mixed,
    /// One stereo file: left = remote party, right = what this session sent.
    Stereo,
    /// Two mono files: `<stem>-remote.wav` and `<stem>-local.wav` next to the given path.
    Separate,
}

/// A finished call recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingInfo {
    /// Files written (one, or two for [`RecordMode::Separate`]: remote first).
    pub paths: Vec<PathBuf>,
    /// Audio length (paused time excluded).
    pub duration: Duration,
}

fn open(path: &Path, channels: u16) -> Result<Writer, MediaError> {
    let spec = WavSpec { channels, sample_rate: 8000, bits_per_sample: 16, sample_format: SampleFormat::Int };
    let file = File::create(path).map_err(|e| MediaError::Record(format!("cannot create {}: {e}", path.display())))?;
    WavWriter::new(BufWriter::with_capacity(64 * 1024, file), spec)
        .map_err(|e| MediaError::Record(format!("cannot write {}: {e}", path.display())))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "recording".into());
    path.with_file_name(format!("{stem}-{suffix}.wav"))
}

/// Records both directions of a call.
pub struct Recorder {
    mode: RecordMode,
    writers: Vec<Writer>,
    paths: Vec<PathBuf>,
    paused: bool,
    frames: u64,
    failed: Option<String>,
}

impl Recorder {
    /// Creates the file(s); fails if a file cannot be created.
    pub fn create(path: &Path, mode: RecordMode) -> Result<Self, MediaError> {
        let (paths, channels) = match mode {
            RecordMode::Mixed => (vec![path.to_path_buf()], 1),
            RecordMode::Stereo => (vec![path.to_path_buf()], 2),
            RecordMode::Separate => (vec![sibling(path, "remote"), sibling(path, "local")], 1),
        };
        let writers = paths.iter().map(|p| open(p, channels)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { mode, writers, paths, paused: false, frames: 0, failed: None })
    }

    /// Pauses or resumes writing.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Writes one 20 ms tick: what arrived from the remote and what was sent (each may be absent).
    pub fn write(&mut self, remote: Option<&[i16; FRAME]>, local: Option<&[i16; FRAME]>) {
        if self.paused || self.failed.is_some() {
            return;
        }
        const ZERO: [i16; FRAME] = [0; FRAME];
        let r = remote.unwrap_or(&ZERO);
        let l = local.unwrap_or(&ZERO);
        let res = (|| -> Result<(), hound::Error> {
            match self.mode {
                RecordMode::Mixed => {
                    for i in 0..FRAME {
                        self.writers[0].write_sample(r[i].saturating_add(l[i]))?;
                    }
                }
                RecordMode::Stereo => {
                    for i in 0..FRAME {
                        self.writers[0].write_sample(r[i])?;
                        self.writers[0].write_sample(l[i])?;
                    }
                }
                RecordMode::Separate => {
                    for i in 0..FRAME {
                        self.writers[0].write_sample(r[i])?;
                        self.writers[1].write_sample(l[i])?;
                    }
                }
            }
            Ok(())
        })();
        match res {
            Ok(()) => self.frames += 1,
            Err(e) => {
                tracing::warn!(error = %e, "recording write failed; recording stopped");
                self.failed = Some(e.to_string());
            }
        }
    }

    /// Finalises the WAV headers (blocking I/O: call from `spawn_blocking`).
    pub fn finish(self) -> Result<RecordingInfo, MediaError> {
        for w in self.writers {
            w.finalize().map_err(|e| MediaError::Record(e.to_string()))?;
        }
        if let Some(e) = self.failed {
            return Err(MediaError::Record(e));
        }
        Ok(RecordingInfo { paths: self.paths, duration: Duration::from_millis(self.frames * 20) })
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("mode", &self.mode).field("paths", &self.paths).field("frames", &self.frames).finish()
    }
}

impl std::fmt::Debug for CallerRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerRecorder").field("path", &self.path).field("opts", &self.opts).field("ended", &self.ended).finish()
    }
}

/// When a caller recording stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordCallerOptions {
    /// Hard cap on the length.
    pub max: Duration,
    /// Stop after this much continuous silence (trailing silence is trimmed); `None` = never.
    pub silence_timeout: Option<Duration>,
    /// A key that ends the recording (not recorded).
    pub terminator: Option<char>,
}

/// Why a caller recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordEnd {
    /// The maximum length was reached.
    MaxLength,
    /// The caller was silent for the silence timeout.
    Silence,
    /// The caller pressed the terminator key.
    Terminator(char),
    /// The session closed (hang-up) or another recording replaced this one.
    Stopped,
}

/// A finished recording of the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerRecording {
    /// The WAV file (8 kHz mono).
    pub path: PathBuf,
    /// Audio length after trimming trailing silence.
    pub duration: Duration,
    /// Why it ended.
    pub ended_by: RecordEnd,
}

/// Records what the caller says, with its own end conditions.
pub struct CallerRecorder {
    writer: Option<Writer>,
    path: PathBuf,
    opts: RecordCallerOptions,
    /// Silent frames held back: written if voice resumes, dropped if the recording ends on silence.
    pending_silence: Vec<[i16; FRAME]>,
    written_frames: u64,
    elapsed_frames: u64,
    ended: Option<RecordEnd>,
}

impl CallerRecorder {
    /// Creates the file.
    pub fn create(path: &Path, opts: RecordCallerOptions) -> Result<Self, MediaError> {
        Ok(Self {
            writer: Some(open(path, 1)?),
            path: path.to_path_buf(),
            opts,
            pending_silence: Vec::new(),
            written_frames: 0,
            elapsed_frames: 0,
            ended: None,
        })
    }

    /// Feeds one tick of the caller's audio (`None` = nothing arrived, counts as silence);
    /// returns true when the recording has ended.
    pub fn write(&mut self, frame: Option<&[i16; FRAME]>) -> bool {
        if self.ended.is_some() {
            return true;
        }
        let f = frame.copied().unwrap_or([0; FRAME]);
        if crate::vad::is_voice(&f) {
            for s in std::mem::take(&mut self.pending_silence) {
                self.put(&s);
            }
            self.put(&f);
        } else {
            self.pending_silence.push(f);
            if let Some(t) = self.opts.silence_timeout
                && self.pending_silence.len() as u128 * 20 >= t.as_millis()
            {
                self.ended = Some(RecordEnd::Silence);
            }
        }
        self.elapsed_frames += 1;
        if self.ended.is_none() && self.elapsed_frames as u128 * 20 >= self.opts.max.as_millis() {
            // At the cap, silence inside the cap is real content.
            for s in std::mem::take(&mut self.pending_silence) {
                self.put(&s);
            }
            self.ended = Some(RecordEnd::MaxLength);
        }
        self.ended.is_some()
    }

    fn put(&mut self, f: &[i16; FRAME]) {
        let Some(w) = self.writer.as_mut() else { return };
        for &s in f {
            if let Err(e) = w.write_sample(s) {
                tracing::warn!(error = %e, "caller recording write failed");
                self.writer = None;
                self.ended = Some(RecordEnd::Stopped);
                return;
            }
        }
        self.written_frames += 1;
    }

    /// Offers a digit; returns true when it was the terminator and the recording ended.
    pub fn on_digit(&mut self, digit: char) -> bool {
        if self.ended.is_none() && self.opts.terminator == Some(digit) {
            self.ended = Some(RecordEnd::Terminator(digit));
            return true;
        }
        false
    }

    /// Marks the recording as stopped from outside (hang-up, replaced).
    pub fn stop(&mut self) {
        if self.ended.is_none() {
            self.ended = Some(RecordEnd::Stopped);
        }
    }

    /// Finalises the file (blocking I/O: call from `spawn_blocking`).
    pub fn finish(mut self) -> Result<CallerRecording, MediaError> {
        if let Some(w) = self.writer.take() {
            w.finalize().map_err(|e| MediaError::Record(format!("{}: {e}", self.path.display())))?;
        }
        Ok(CallerRecording {
            path: self.path,
            duration: Duration::from_millis(self.written_frames * 20),
            ended_by: self.ended.unwrap_or(RecordEnd::Stopped),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_recording_trims_trailing_silence_and_keeps_inner_silence() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("vm.wav");
        let opts = RecordCallerOptions { max: Duration::from_secs(10), silence_timeout: Some(Duration::from_millis(400)), terminator: Some('#') };
        let mut r = CallerRecorder::create(&p, opts).unwrap();
        let voice = [3000i16; FRAME];
        let mut ended = false;
        // 10 frames voice, 10 frames silence (< timeout), 10 frames voice, then silence until the end.
        for i in 0..100 {
            let f = if i < 10 || (20..30).contains(&i) { Some(&voice) } else { None };
            if r.write(f) {
                ended = true;
                break;
            }
        }
        assert!(ended);
        let rec = r.finish().unwrap();
        assert_eq!(rec.ended_by, RecordEnd::Silence);
        assert_eq!(rec.duration, Duration::from_millis(30 * 20));
        let wav = hound::WavReader::open(&p).unwrap();
        assert_eq!(wav.spec().sample_rate, 8000);
        assert_eq!(wav.len() as usize, 30 * FRAME);
    }

    #[test]
    fn mixed_stereo_and_separate_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let a = [100i16; FRAME];
        let b = [20i16; FRAME];
        for mode in [RecordMode::Mixed, RecordMode::Stereo, RecordMode::Separate] {
            let p = dir.path().join(format!("{mode:?}.wav"));
            let mut r = Recorder::create(&p, mode).unwrap();
            r.write(Some(&a), Some(&b));
            r.set_paused(true);
            r.write(Some(&a), None);
            r.set_paused(false);
            r.write(None, Some(&b));
            let info = r.finish().unwrap();
            assert_eq!(info.duration, Duration::from_millis(40));
            let samples: Vec<Vec<i16>> =
                info.paths.iter().map(|p| hound::WavReader::open(p).unwrap().into_samples::<i16>().map(|s| s.unwrap()).collect()).collect();
            match mode {
                RecordMode::Mixed => assert_eq!(samples[0], [vec![120; FRAME], vec![20; FRAME]].concat()),
                RecordMode::Stereo => {
                    assert_eq!(samples[0].len(), 4 * FRAME);
                    assert_eq!(&samples[0][..4], &[100, 20, 100, 20]);
                    assert_eq!(&samples[0][2 * FRAME..2 * FRAME + 2], &[0, 20]);
                }
                RecordMode::Separate => {
                    assert!(info.paths[0].to_string_lossy().ends_with("Separate-remote.wav"));
                    assert_eq!(samples[0], [vec![100; FRAME], vec![0; FRAME]].concat());
                    assert_eq!(samples[1], vec![20; 2 * FRAME]);
                }
            }
        }
    }
}
