//! One answered call as the plugin sees it: [`CallControl`] over a SIP dialog, an RTP session and
//! the TTS service.
//!
//! Prompts are synthesized (or taken from the prompt library / cache) and paced out by the media
//! session; digits arrive on one subscription per call and are buffered here, so a key pressed to
//! interrupt a prompt is the first digit of the following `collect`. When the caller hangs up the
//! `ended` token fires and every pending and later call-control function returns
//! `CallError::Hangup`, so the plugin unwinds promptly.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use courtyard_flows::CallControl;
use courtyard_flows::wit::{
    CallError, CallInfo, CollectEnd, CollectOptions, Collected, Level, QueueOutcome, RecordOptions, Recording,
    Segment,
};
use courtyard_media::{DigitReceiver, MediaSession, PlayOptions, PlayOutcome, RecordCallerOptions};
use parking_lot::Mutex;
use tokio::sync::Mutex as AsyncMutex;
use tokio_util::sync::CancellationToken;

use super::prompt::{beep, lang_of, to_speech};
use super::record::CallRecord;
use crate::app::Shared;

/// The live state of one call's flow: media, digits, and what goes into its call record.
pub struct CallLeg {
    info: CallInfo,
    media: MediaSession,
    digits: AsyncMutex<Keys>,
    /// Fires when the call is over (remote BYE/CANCEL, our hangup, shutdown).
    pub ended: CancellationToken,
    /// Asks the dialog task to send BYE.
    hangup_tx: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    /// What the call record will say about this call.
    pub record: Arc<Mutex<CallRecord>>,
    shared: Arc<Shared>,
}

impl CallLeg {
    /// Wraps an answered call.
    pub fn new(
        info: CallInfo,
        media: MediaSession,
        ended: CancellationToken,
        hangup_tx: tokio::sync::oneshot::Sender<()>,
        record: Arc<Mutex<CallRecord>>,
        shared: Arc<Shared>,
    ) -> Self {
        let digits = AsyncMutex::new(Keys { rx: media.digits(), ahead: std::collections::VecDeque::new() });
        CallLeg { info, media, digits, ended, hangup_tx: Mutex::new(Some(hangup_tx)), record, shared }
    }

    /// The media session (for bridging to an agent and recording control).
    pub fn media(&self) -> &MediaSession {
        &self.media
    }

    /// The call's id.
    pub fn call_id(&self) -> &str {
        &self.info.call_id
    }

    /// Says a plain text prompt (queue announcements, notices) without barge-in.
    pub async fn say_text(&self, text: &str) -> Result<(), CallError> {
        self.play(&[Segment::Text(text.to_string())], false).await
    }

    /// The next key the caller presses (`None` once the call's digit stream ends). Cancel-safe.
    pub async fn next_digit(&self) -> Option<char> {
        let mut d = self.digits.lock().await;
        d.recv().await.map(|d| d.digit)
    }

    fn check_live(&self) -> Result<(), CallError> {
        if self.ended.is_cancelled() { Err(CallError::Hangup) } else { Ok(()) }
    }

    /// Plays a prompt to its end, or until a key (with barge-in), the hangup, or an error.
    async fn play(&self, prompt: &[Segment], barge_in: bool) -> Result<(), CallError> {
        self.check_live()?;
        if prompt.is_empty() {
            return Ok(());
        }
        let speech = to_speech(prompt);
        let lang = lang_of(&self.info.language);
        let text = courtyard_tts::render_text(lang, &speech);
        self.record.lock().prompts.push(text.clone());
        tracing::debug!(call_id = %self.info.call_id, %text, barge_in, "say");
        let pcm = tokio::select! {
            _ = self.ended.cancelled() => return Err(CallError::Hangup),
            pcm = self.shared.tts.speak(lang, &speech) => pcm.map_err(|e| CallError::Failed(format!("speech synthesis failed: {e}")))?,
        };
        let outcome = tokio::select! {
            _ = self.ended.cancelled() => return Err(CallError::Hangup),
            r = self.media.play(pcm, PlayOptions { barge_in }) => r,
        };
        match outcome {
            Ok(PlayOutcome::Completed) | Ok(PlayOutcome::Interrupted(_)) | Ok(PlayOutcome::Stopped) => {
                self.check_live()
            }
            Err(e) => {
                if self.ended.is_cancelled() {
                    Err(CallError::Hangup)
                } else {
                    Err(CallError::Failed(format!("playing the prompt failed: {e}")))
                }
            }
        }
    }

    fn drain_digits(digits: &mut Keys) {
        digits.clear();
    }
}

#[async_trait]
impl CallControl for CallLeg {
    fn info(&self) -> CallInfo {
        self.info.clone()
    }

    async fn answer(&self) -> Result<(), CallError> {
        // Inbound calls are answered before the flow starts; answering twice is a no-op.
        self.check_live()
    }

    async fn say(&self, prompt: &[Segment], barge_in: bool) -> Result<(), CallError> {
        if !barge_in {
            self.play(prompt, false).await
        } else {
            // With barge-in, a key already typed ahead skips the prompt entirely.
            if self.digits.lock().await.has_pending() { self.check_live() } else { self.play(prompt, true).await }
        }
    }

    async fn collect(&self, prompt: &[Segment], options: &CollectOptions) -> Result<Collected, CallError> {
        let max = options.max_digits.max(1) as usize;
        let terminator = options.terminator.as_deref().and_then(|t| t.chars().next());
        if !options.barge_in {
            Self::drain_digits(&mut *self.digits.lock().await);
            self.play(prompt, false).await?;
            Self::drain_digits(&mut *self.digits.lock().await);
        } else {
            self.say(prompt, true).await?;
        }
        let mut got = String::new();
        let mut digits = self.digits.lock().await;
        loop {
            let wait = if got.is_empty() { options.first_digit_timeout_ms } else { options.inter_digit_timeout_ms };
            let next = tokio::select! {
                _ = self.ended.cancelled() => return Err(CallError::Hangup),
                d = tokio::time::timeout(Duration::from_millis(u64::from(wait.max(1))), digits.recv()) => d,
            };
            match next {
                Ok(Some(d)) => {
                    if Some(d.digit) == terminator {
                        return Ok(Collected { digits: got, ended_by: CollectEnd::Terminator });
                    }
                    got.push(d.digit);
                    if got.chars().count() >= max {
                        return Ok(Collected { digits: got, ended_by: CollectEnd::MaxDigits });
                    }
                }
                Ok(None) => return Err(CallError::Hangup),
                Err(_) => return Ok(Collected { digits: got, ended_by: CollectEnd::Timeout }),
            }
        }
    }

    async fn record(&self, options: &RecordOptions) -> Result<Recording, CallError> {
        self.check_live()?;
        if options.beep {
            let _ = tokio::select! {
                _ = self.ended.cancelled() => return Err(CallError::Hangup),
                r = self.media.play(beep(), PlayOptions { barge_in: false }) => r,
            };
        }
        let id = self.shared.new_recording_id();
        let path = self.shared.recording_path(&id);
        let opts = RecordCallerOptions {
            max: Duration::from_secs(u64::from(options.max_seconds.clamp(1, 600))),
            silence_timeout: (options.silence_timeout_ms > 0)
                .then(|| Duration::from_millis(u64::from(options.silence_timeout_ms))),
            terminator: options.terminator.as_deref().and_then(|t| t.chars().next()),
        };
        let rec = tokio::select! {
            r = self.media.record_caller(&path, opts) => r.map_err(|e| CallError::Failed(format!("recording failed: {e}")))?,
            _ = self.ended.cancelled() => return Err(CallError::Hangup),
        };
        let duration_ms = u32::try_from(rec.duration.as_millis()).unwrap_or(u32::MAX);
        self.shared
            .index_recording(&id, &rec.path, duration_ms, &self.info.call_id, "caller")
            .await
            .map_err(|e| CallError::Failed(format!("recording could not be stored: {e}")))?;
        self.record.lock().recordings.push(id.clone());
        Ok(Recording { id, duration_ms })
    }

    async fn transfer(&self, target: &str) -> Result<(), CallError> {
        self.check_live()?;
        self.shared.transfer(self, target).await
    }

    async fn enqueue(&self, queue: &str, priority: u32) -> Result<QueueOutcome, CallError> {
        self.check_live()?;
        self.record.lock().queue = Some(queue.to_string());
        self.shared.enqueue(self, queue, priority).await
    }

    async fn hangup(&self) {
        if let Some(tx) = self.hangup_tx.lock().take() {
            let mut rec = self.record.lock();
            if rec.hangup_side.is_none() {
                rec.hangup_side = Some("flow".into());
            }
            drop(rec);
            let _ = tx.send(());
        }
        self.ended.cancel();
    }

    async fn set_var(&self, name: &str, value: &str) {
        self.record.lock().vars.insert(name.to_string(), value.to_string());
    }

    async fn get_var(&self, name: &str) -> Option<String> {
        self.record.lock().vars.get(name).cloned()
    }

    async fn mark(&self, node: &str) {
        self.record.lock().path.push(node.to_string());
    }

    async fn log(&self, level: Level, message: &str) {
        let call_id = &self.info.call_id;
        match level {
            Level::Trace | Level::Debug => tracing::debug!(%call_id, plugin_log = %message),
            Level::Info => tracing::info!(%call_id, plugin_log = %message),
            Level::Warn => tracing::warn!(%call_id, plugin_log = %message),
            Level::Error => tracing::error!(%call_id, plugin_log = %message),
        }
    }
}

/// The call's key presses: one subscription to the media session's digit stream, plus keys
/// peeked ahead (a key pressed during a barge-in prompt stays here for the next `collect`).
struct Keys {
    rx: DigitReceiver,
    ahead: std::collections::VecDeque<courtyard_media::DtmfDigit>,
}

impl Keys {
    /// Next key, waiting for one. Cancel-safe.
    async fn recv(&mut self) -> Option<courtyard_media::DtmfDigit> {
        if let Some(d) = self.ahead.pop_front() {
            return Some(d);
        }
        self.rx.recv().await
    }

    /// Whether a key is already waiting (moves arrived keys into the look-ahead buffer).
    fn has_pending(&mut self) -> bool {
        while let Some(d) = self.rx.try_recv() {
            self.ahead.push_back(d);
        }
        !self.ahead.is_empty()
    }

    /// Forgets keys pressed so far.
    fn clear(&mut self) {
        self.ahead.clear();
        while self.rx.try_recv().is_some() {}
    }
}
