//! espeak-ng through its C library, behind a small safe wrapper.
//!
//! espeak-ng keeps process-global state (the current voice, the synthesis callback, internal
//! buffers) and is not thread-safe, so the whole process gets **one** synthesis thread that
//! owns the library; callers send requests over a channel and await the reply. The `espeakng`
//! crate segfaults on Debian's 1.51 (its struct layout is wrong), so this module binds the C
//! API through `espeakng-sys` directly and keeps every `unsafe` block here.
//!
//! Mandarin uses the voice `cmn-latn-pinyin`: on Debian's 1.51 the plain `cmn` voice reads each
//! character's pinyin as English. Runs of Latin letters inside Mandarin text are handed to the
//! English voice as separate segments, which is what a bilingual speaker would do with "WiFi".
#![allow(unsafe_code)] // FFI to libespeak-ng; every unsafe block states its invariant.

use std::cell::RefCell;
use std::ffi::{CString, c_int, c_short};
use std::sync::OnceLock;
use std::sync::mpsc;

use espeakng_sys as sys;
use tokio::sync::oneshot;

use crate::TtsError;
use crate::engine::{Audio, EngineFuture, TtsEngine};
use crate::text::Lang;

/// espeak-ng's Mandarin voice that pronounces correctly on Debian's 1.51.
pub const MANDARIN_VOICE: &str = "cmn-latn-pinyin";
/// espeak-ng's English voice.
pub const ENGLISH_VOICE: &str = "en";

/// Speaking rate and voices for [`Espeak`].
#[derive(Clone, Debug)]
pub struct EspeakConfig {
    /// Words per minute (espeak-ng's default is 175; 80–450 accepted).
    pub rate_wpm: u32,
    /// Voice for [`Lang::Zh`].
    pub mandarin_voice: String,
    /// Voice for [`Lang::En`] and for Latin-letter runs inside Mandarin text.
    pub english_voice: String,
}

impl Default for EspeakConfig {
    fn default() -> Self {
        EspeakConfig {
            rate_wpm: 175,
            mandarin_voice: MANDARIN_VOICE.into(),
            english_voice: ENGLISH_VOICE.into(),
        }
    }
}

/// A request for the espeak thread.
enum Job {
    /// Synthesize text to PCM at the native rate.
    Synth {
        voice: String,
        rate_wpm: u32,
        text: String,
        reply: oneshot::Sender<Result<Vec<i16>, TtsError>>,
    },
    /// Translate text to espeak phoneme mnemonics (for checks and debugging).
    Phonemes {
        voice: String,
        text: String,
        reply: oneshot::Sender<Result<String, TtsError>>,
    },
}

/// Handle to the process's single espeak-ng thread.
struct Worker {
    jobs: mpsc::Sender<Job>,
    sample_rate: u32,
    /// Library version, e.g. "1.51".
    version: String,
}

static WORKER: OnceLock<Result<Worker, String>> = OnceLock::new();

thread_local! {
    /// Samples produced by the synthesis callback on the espeak thread for the current job.
    static PCM: RefCell<Vec<i16>> = const { RefCell::new(Vec::new()) };
}

/// The callback espeak-ng calls (on the espeak thread, during `espeak_Synth`) with audio.
unsafe extern "C" fn on_audio(
    wav: *mut c_short,
    numsamples: c_int,
    _events: *mut sys::espeak_EVENT,
) -> c_int {
    if !wav.is_null() && numsamples > 0 {
        // SAFETY: espeak-ng passes a buffer of `numsamples` valid samples that lives for the
        // duration of this call; we copy them out and keep no reference.
        let chunk = unsafe { std::slice::from_raw_parts(wav, numsamples as usize) };
        PCM.with(|pcm| pcm.borrow_mut().extend_from_slice(chunk));
    }
    0 // continue synthesis
}

fn worker() -> Result<&'static Worker, TtsError> {
    WORKER
        .get_or_init(start_worker)
        .as_ref()
        .map_err(|e| TtsError::Engine(e.clone()))
}

fn start_worker() -> Result<Worker, String> {
    let (jobs_tx, jobs_rx) = mpsc::channel::<Job>();
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(u32, String), String>>();
    std::thread::Builder::new()
        .name("espeak-ng".into())
        .spawn(move || {
            // SAFETY: this thread is the only one that ever calls into libespeak-ng (the
            // OnceLock guarantees a single worker per process). DONT_EXIT stops espeak-ng from
            // calling exit() when its data files are missing.
            let rate = unsafe {
                sys::espeak_Initialize(
                    sys::espeak_AUDIO_OUTPUT_AUDIO_OUTPUT_SYNCHRONOUS,
                    0,
                    std::ptr::null(),
                    sys::espeakINITIALIZE_DONT_EXIT as c_int,
                )
            };
            if rate <= 0 {
                let _ = ready_tx.send(Err(format!(
                    "espeak_Initialize failed ({rate}); is espeak-ng-data installed (apt install espeak-ng)?"
                )));
                return;
            }
            // SAFETY: `on_audio` has the callback signature espeak-ng expects and never unwinds.
            unsafe { sys::espeak_SetSynthCallback(Some(on_audio)) };
            // SAFETY: espeak_Info returns a static NUL-terminated version string (NULL path
            // pointer: we do not ask for the data path).
            let version = unsafe {
                let v = sys::espeak_Info(std::ptr::null_mut());
                if v.is_null() { String::from("unknown") } else { std::ffi::CStr::from_ptr(v).to_string_lossy().into_owned() }
            };
            let _ = ready_tx.send(Ok((rate as u32, version)));
            let mut current_voice = String::new();
            while let Ok(job) = jobs_rx.recv() {
                match job {
                    Job::Synth { voice, rate_wpm, text, reply } => {
                        let result = set_voice(&voice, &mut current_voice)
                            .and_then(|()| synth(rate_wpm, &text));
                        let _ = reply.send(result);
                    }
                    Job::Phonemes { voice, text, reply } => {
                        let result = set_voice(&voice, &mut current_voice).and_then(|()| to_phonemes(&text));
                        let _ = reply.send(result);
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the espeak-ng thread: {e}"))?;
    let (sample_rate, version) = ready_rx
        .recv()
        .map_err(|_| "the espeak-ng thread stopped during start-up".to_string())??;
    tracing::info!(sample_rate, %version, "espeak-ng initialized");
    Ok(Worker {
        jobs: jobs_tx,
        sample_rate,
        version,
    })
}

/// Selects a voice on the espeak thread (skipped when it is already current).
fn set_voice(voice: &str, current_voice: &mut String) -> Result<(), TtsError> {
    if *current_voice != voice {
        let name = CString::new(voice).map_err(|_| TtsError::UnknownVoice(voice.to_string()))?;
        // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
        let err = unsafe { sys::espeak_SetVoiceByName(name.as_ptr()) };
        if err != sys::espeak_ERROR_EE_OK {
            current_voice.clear();
            return Err(TtsError::UnknownVoice(voice.to_string()));
        }
        *current_voice = voice.to_string();
    }
    Ok(())
}

/// Synthesizes text with the current voice on the espeak thread.
fn synth(rate_wpm: u32, text: &str) -> Result<Vec<i16>, TtsError> {
    // Set every time: selecting a voice may reset espeak-ng's parameters.
    let wpm = rate_wpm.clamp(80, 450) as c_int;
    // SAFETY: plain integer parameter setter.
    unsafe { sys::espeak_SetParameter(sys::espeak_PARAMETER_espeakRATE, wpm, 0) };
    // Interior NULs would end the C string early; plugins may send anything.
    let text =
        CString::new(text.replace('\0', " ")).map_err(|e| TtsError::Engine(e.to_string()))?;
    let size = text.as_bytes_with_nul().len();
    PCM.with(|pcm| pcm.borrow_mut().clear());
    // SAFETY: `text` is NUL-terminated UTF-8 that outlives the call; in synchronous mode
    // espeak_Synth returns only after every callback for this text has run on this thread.
    let err = unsafe {
        sys::espeak_Synth(
            text.as_ptr().cast(),
            size,
            0,
            sys::espeak_POSITION_TYPE_POS_CHARACTER,
            0,
            sys::espeakCHARS_UTF8,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    // SAFETY: waits for pending synthesis (a no-op in synchronous mode, kept for safety).
    unsafe { sys::espeak_Synchronize() };
    let pcm = PCM.with(|pcm| std::mem::take(&mut *pcm.borrow_mut()));
    if err != sys::espeak_ERROR_EE_OK {
        return Err(TtsError::Engine(format!("espeak_Synth failed ({err})")));
    }
    Ok(pcm)
}

/// Translates text to phonemes on the espeak thread, clause by clause.
fn to_phonemes(text: &str) -> Result<String, TtsError> {
    let text =
        CString::new(text.replace('\0', " ")).map_err(|e| TtsError::Engine(e.to_string()))?;
    let mut cursor: *const std::ffi::c_void = text.as_ptr().cast();
    let mut out = Vec::new();
    // Each call translates one clause and advances `cursor`, or sets it to NULL at the end.
    while !cursor.is_null() {
        // SAFETY: `cursor` points into `text` (NUL-terminated, alive for the whole loop);
        // espeak-ng only advances it within the string or sets it to NULL.
        let ph =
            unsafe { sys::espeak_TextToPhonemes(&mut cursor, sys::espeakCHARS_UTF8 as c_int, 0) };
        if ph.is_null() {
            break;
        }
        // SAFETY: espeak-ng returns a NUL-terminated string valid until its next call.
        out.push(
            unsafe { std::ffi::CStr::from_ptr(ph) }
                .to_string_lossy()
                .trim()
                .to_string(),
        );
    }
    Ok(out.join(" "))
}

fn send(job: Job) -> Result<(), TtsError> {
    worker()?
        .jobs
        .send(job)
        .map_err(|_| TtsError::Engine("the espeak-ng thread has stopped".into()))
}

fn dropped<E>(_: E) -> TtsError {
    TtsError::Engine("the espeak-ng thread dropped a request".into())
}

/// Synthesizes `text` with an espeak-ng voice on the shared espeak thread (native rate).
pub async fn synthesize_voice(
    voice: &str,
    rate_wpm: u32,
    text: &str,
) -> Result<Vec<i16>, TtsError> {
    let (reply, rx) = oneshot::channel();
    send(Job::Synth {
        voice: voice.to_string(),
        rate_wpm,
        text: text.to_string(),
        reply,
    })?;
    rx.await.map_err(dropped)?
}

/// espeak-ng's phoneme mnemonics for `text` in `voice` (what `espeak-ng -x -v voice` prints);
/// used to check that Mandarin is read as Mandarin.
pub async fn phonemes(voice: &str, text: &str) -> Result<String, TtsError> {
    let (reply, rx) = oneshot::channel();
    send(Job::Phonemes {
        voice: voice.to_string(),
        text: text.to_string(),
        reply,
    })?;
    rx.await.map_err(dropped)?
}

/// espeak-ng's native output rate (22050 Hz), starting the engine if needed.
pub fn native_sample_rate() -> Result<u32, TtsError> {
    Ok(worker()?.sample_rate)
}

/// Splits Mandarin text into runs for the Mandarin voice and Latin-letter runs for the English
/// voice; `true` marks an English run.
pub fn split_latin_runs(text: &str) -> Vec<(bool, String)> {
    let mut runs: Vec<(bool, String)> = Vec::new();
    for c in text.chars() {
        let latin = c.is_ascii_alphabetic();
        // Spaces and apostrophes between letters stay in the English run ("Wi Fi", "don't").
        let joins_prev = matches!(c, ' ' | '\'' | '-') && runs.last().is_some_and(|(l, _)| *l);
        match runs.last_mut() {
            Some((is_latin, run)) if *is_latin == latin || joins_prev => run.push(c),
            _ => runs.push((latin, c.to_string())),
        }
    }
    // Separators that trailed an English run go back to the Mandarin side.
    let mut out: Vec<(bool, String)> = Vec::new();
    for (latin, run) in runs {
        if latin {
            let trimmed = run.trim_end_matches([' ', '\'', '-']);
            let tail = &run[trimmed.len()..];
            out.push((true, trimmed.to_string()));
            if !tail.is_empty() {
                out.push((false, tail.to_string()));
            }
        } else {
            out.push((false, run));
        }
    }
    // Merge neighbouring runs of the same kind and drop runs with nothing to say.
    let mut merged: Vec<(bool, String)> = Vec::new();
    for (latin, run) in out {
        match merged.last_mut() {
            Some((l, r)) if *l == latin => r.push_str(&run),
            _ => merged.push((latin, run)),
        }
    }
    merged.retain(|(_, r)| r.chars().any(char::is_alphanumeric));
    merged
}

/// The espeak-ng engine: Mandarin by default, English on request.
#[derive(Clone, Debug)]
pub struct Espeak {
    config: EspeakConfig,
    /// "espeak-ng-<version>": a library upgrade changes the audio, so it changes cache keys.
    id: String,
}

impl Espeak {
    /// Starts (once per process) the espeak-ng thread and returns an engine handle.
    pub fn new(config: EspeakConfig) -> Result<Espeak, TtsError> {
        let worker = worker()?;
        Ok(Espeak {
            config,
            id: format!("espeak-ng-{}", worker.version),
        })
    }

    /// Synthesizes text at espeak-ng's native rate, splitting Mandarin text into voice runs.
    pub async fn synthesize_native(&self, lang: Lang, text: &str) -> Result<Audio, TtsError> {
        let rate = native_sample_rate()?;
        let mut samples = Vec::new();
        match lang {
            Lang::En => {
                samples =
                    synthesize_voice(&self.config.english_voice, self.config.rate_wpm, text).await?
            }
            Lang::Zh => {
                for (latin, run) in split_latin_runs(text) {
                    let voice = if latin {
                        &self.config.english_voice
                    } else {
                        &self.config.mandarin_voice
                    };
                    samples.extend(synthesize_voice(voice, self.config.rate_wpm, &run).await?);
                }
            }
        }
        Ok(Audio {
            sample_rate: rate,
            samples,
        })
    }
}

impl Espeak {
    /// The voice name espeak-ng uses for `lang` (without settings).
    pub fn voice_name(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.config.mandarin_voice,
            Lang::En => &self.config.english_voice,
        }
    }

    /// espeak-ng's phonemes for `text` in `lang`'s voice (no Latin-run splitting).
    pub async fn phonemes(&self, lang: Lang, text: &str) -> Result<String, TtsError> {
        phonemes(self.voice_name(lang), text).await
    }
}

impl TtsEngine for Espeak {
    fn id(&self) -> &str {
        &self.id
    }

    fn voice(&self, lang: Lang) -> String {
        format!("{}@{}wpm", self.voice_name(lang), self.config.rate_wpm)
    }

    fn synthesize<'a>(&'a self, lang: Lang, text: &'a str) -> EngineFuture<'a> {
        Box::pin(self.synthesize_native(lang, text))
    }
}

#[cfg(test)]
mod tests {
    use super::split_latin_runs;

    #[test]
    fn latin_runs_are_split_out_of_mandarin() {
        let runs = split_latin_runs("请连接WiFi网络");
        assert_eq!(
            runs,
            vec![
                (false, "请连接".into()),
                (true, "WiFi".into()),
                (false, "网络".into())
            ]
        );
        let runs = split_latin_runs("工单 W O，二零二六");
        assert_eq!(
            runs,
            vec![
                (false, "工单 ".into()),
                (true, "W O".into()),
                (false, "，二零二六".into())
            ]
        );
        assert_eq!(split_latin_runs("您好"), vec![(false, "您好".into())]);
        assert_eq!(split_latin_runs("OK"), vec![(true, "OK".into())]);
        assert!(split_latin_runs("，。 ").is_empty());
    }
}
