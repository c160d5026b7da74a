//! Prompt playout: a prompt is a buffer of 8 kHz samples sent one 20 ms frame per tick.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::{DtmfDigit, FRAME};

/// How to play a prompt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlayOptions {
    /// A key press stops the prompt (the digit is returned, and also stays on the digit stream).
    pub barge_in: bool,
}

/// How a prompt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayOutcome {
    /// Played to the end.
    Completed,
    /// A key press interrupted it (barge-in).
    Interrupted(DtmfDigit),
    /// Stopped by `stop_play`, replaced by a newer prompt, or the session closed.
    Stopped,
}

/// A prompt being played by the session task.
#[derive(Debug)]
pub(crate) struct Playing {
    pcm: Arc<[i16]>,
    pos: usize,
    pub(crate) barge_in: bool,
    done: Option<oneshot::Sender<PlayOutcome>>,
}

impl Playing {
    pub(crate) fn new(pcm: Arc<[i16]>, opts: PlayOptions, done: oneshot::Sender<PlayOutcome>) -> Self {
        Self { pcm, pos: 0, barge_in: opts.barge_in, done: Some(done) }
    }

    /// True if nobody waits for this prompt any more (the `play` future was dropped).
    pub(crate) fn abandoned(&self) -> bool {
        self.done.as_ref().is_none_or(|d| d.is_closed())
    }

    /// True before the first frame went out (a talk spurt starts with it).
    pub(crate) fn at_start(&self) -> bool {
        self.pos == 0
    }

    /// Adds the next frame into `mix`; returns false when the prompt has no samples left.
    pub(crate) fn next_frame(&mut self, mix: &mut [i32; FRAME]) -> bool {
        let end = (self.pos + FRAME).min(self.pcm.len());
        if self.pos >= end {
            return false;
        }
        for (m, &s) in mix.iter_mut().zip(&self.pcm[self.pos..end]) {
            *m += s as i32;
        }
        self.pos = end;
        true
    }

    /// True when every sample has been sent.
    pub(crate) fn finished(&self) -> bool {
        self.pos >= self.pcm.len()
    }

    /// Reports the outcome to the waiting `play` call.
    pub(crate) fn complete(mut self, outcome: PlayOutcome) {
        if let Some(d) = self.done.take() {
            let _ = d.send(outcome);
        }
    }
}
