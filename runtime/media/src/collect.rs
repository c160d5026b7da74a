//! Digit collection the way IVR flows need it (the WIT `collect`): a per-call buffer of key
//! presses that keeps type-ahead between prompts, prompts that a key can interrupt (the key then
//! counts as the first digit), and collection with min/max digits, first-digit and inter-digit
//! timeouts and a terminator key.
//!
//! Subscribe one [`DigitBuffer`] per call when the call starts, and do all prompts and
//! collection through it, so no key pressed in between is lost.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use crate::{DigitReceiver, DtmfDigit, MediaError, MediaSession, PlayOptions, PlayOutcome};

/// What to collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectSpec {
    /// Collection ends as soon as this many digits were pressed (at least 1).
    pub max_digits: usize,
    /// Wait for the first digit.
    pub first_digit_timeout: Duration,
    /// Wait between digits.
    pub inter_digit_timeout: Duration,
    /// A key that ends input early; not included in the digits.
    pub terminator: Option<char>,
}

/// Why collection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectEnd {
    /// `max_digits` were pressed.
    MaxDigits,
    /// The terminator key was pressed.
    Terminator,
    /// A timeout passed (the digits may be fewer than wanted, or none).
    Timeout,
    /// The session closed (hang-up).
    Closed,
}

/// Digits collected and why collection ended (the flow checks its minimum itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    /// The keys, in order, without the terminator.
    pub digits: String,
    /// Why collection ended.
    pub ended_by: CollectEnd,
}

/// A call's key presses, buffered from the moment it was created.
#[derive(Debug)]
pub struct DigitBuffer {
    session: MediaSession,
    rx: DigitReceiver,
    pending: VecDeque<DtmfDigit>,
}

impl DigitBuffer {
    /// Starts buffering the session's digits.
    pub fn new(session: &MediaSession) -> Self {
        Self { session: session.clone(), rx: session.digits(), pending: VecDeque::new() }
    }

    fn drain(&mut self) {
        while let Some(d) = self.rx.try_recv() {
            self.pending.push_back(d);
        }
    }

    /// Forgets keys pressed so far (e.g. before a question whose answer must not be typed ahead).
    pub fn clear(&mut self) {
        self.drain();
        self.pending.clear();
    }

    /// Keys waiting to be collected.
    pub fn pending(&mut self) -> usize {
        self.drain();
        self.pending.len()
    }

    /// Plays a prompt while buffering keys. With `barge_in`, a key waiting from before or pressed
    /// during the prompt stops it (the key stays buffered for [`DigitBuffer::collect`]).
    pub async fn play(&mut self, pcm: Arc<[i16]>, barge_in: bool) -> Result<PlayOutcome, MediaError> {
        self.drain();
        if barge_in && let Some(d) = self.pending.front() {
            return Ok(PlayOutcome::Interrupted(*d));
        }
        let session = self.session.clone();
        let play = session.play(pcm, PlayOptions { barge_in });
        tokio::pin!(play);
        loop {
            tokio::select! {
                r = &mut play => {
                    // The interrupting key was broadcast before the prompt ended: buffer it.
                    self.drain();
                    return r;
                }
                d = self.rx.recv() => match d {
                    Some(d) => self.pending.push_back(d),
                    None => return play.await,
                },
            }
        }
    }

    /// Collects keys (buffered ones first).
    pub async fn collect(&mut self, spec: CollectSpec) -> Collected {
        let mut digits = String::new();
        let max = spec.max_digits.max(1);
        loop {
            self.drain();
            let d = match self.pending.pop_front() {
                Some(d) => d,
                None => {
                    let wait = if digits.is_empty() { spec.first_digit_timeout } else { spec.inter_digit_timeout };
                    match tokio::time::timeout(wait, self.rx.recv()).await {
                        Ok(Some(d)) => d,
                        Ok(None) => return Collected { digits, ended_by: CollectEnd::Closed },
                        Err(_) => return Collected { digits, ended_by: CollectEnd::Timeout },
                    }
                }
            };
            if spec.terminator == Some(d.digit) {
                return Collected { digits, ended_by: CollectEnd::Terminator };
            }
            digits.push(d.digit);
            if digits.chars().count() >= max {
                return Collected { digits, ended_by: CollectEnd::MaxDigits };
            }
        }
    }

    /// Plays a prompt, then collects: the WIT `collect` in one call.
    pub async fn prompt_and_collect(&mut self, pcm: Arc<[i16]>, barge_in: bool, spec: CollectSpec) -> Result<Collected, MediaError> {
        match self.play(pcm, barge_in).await? {
            PlayOutcome::Stopped if self.session.is_closed() => Err(MediaError::Closed),
            _ => Ok(self.collect(spec).await),
        }
    }
}
