//! Bridging legs: caller ⇄ agent, and a supervisor listening, whispering or barging in.
//!
//! A one-way [`AudioLink`] takes the frames one session *receives* (after its jitter buffer,
//! decoded to PCM) and mixes them into what another session *sends*. Each leg keeps its own SSRC,
//! sequence numbers and timestamps, and encodes with its own codec, so rewriting and PCMU⇄PCMA
//! transcoding come for free, and any number of links can be combined: a bridge is two links plus
//! DTMF relay; listen is two more links into the supervisor; whisper is one link into the agent;
//! barge is listen plus links from the supervisor into both legs. The cost is one decode and one
//! encode per frame (tens of ns) and up to one frame of phase delay.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{DtmfSource, FRAME, MediaSession};

/// One 20 ms frame of decoded audio travelling between legs.
pub(crate) type Frame = [i16; FRAME];

/// Frames waiting in a link beyond this are dropped (bounds the delay a slow leg can add).
pub(crate) const MAX_FEED_BACKLOG: usize = 3;

/// The producing end of a link, held by the session whose received audio is copied.
#[derive(Debug)]
pub(crate) struct Tap {
    pub(crate) tx: mpsc::Sender<Frame>,
    pub(crate) alive: Arc<AtomicBool>,
}

impl Tap {
    /// Offers a frame; returns false when the link is gone and the tap should be removed.
    pub(crate) fn offer(&self, f: &Frame) -> bool {
        if !self.alive.load(Ordering::Relaxed) {
            return false;
        }
        match self.tx.try_send(*f) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// The consuming end of a link, held by the session that sends the audio on.
#[derive(Debug)]
pub(crate) struct Feed {
    pub(crate) rx: mpsc::Receiver<Frame>,
    pub(crate) alive: Arc<AtomicBool>,
}

impl Feed {
    /// Mixes the next frame into `mix`; returns (had audio, still alive).
    pub(crate) fn mix_into(&mut self, mix: &mut [i32; FRAME]) -> (bool, bool) {
        if !self.alive.load(Ordering::Relaxed) {
            return (false, false);
        }
        while self.rx.len() > MAX_FEED_BACKLOG {
            let _ = self.rx.try_recv();
        }
        match self.rx.try_recv() {
            Ok(f) => {
                for (m, s) in mix.iter_mut().zip(f) {
                    *m += s as i32;
                }
                (true, true)
            }
            Err(mpsc::error::TryRecvError::Empty) => (false, true),
            Err(mpsc::error::TryRecvError::Disconnected) => (false, false),
        }
    }
}

/// One-way audio from one leg into another; dropping it disconnects them.
#[derive(Debug)]
pub struct AudioLink {
    alive: Arc<AtomicBool>,
}

impl Drop for AudioLink {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Relaxed);
    }
}

/// Makes `to`'s remote party hear what `from`'s remote party says (whisper: supervisor → agent).
pub fn link_audio(from: &MediaSession, to: &MediaSession) -> AudioLink {
    let (tx, rx) = mpsc::channel(MAX_FEED_BACKLOG + 5);
    let alive = Arc::new(AtomicBool::new(true));
    from.add_tap(Tap { tx, alive: alive.clone() });
    to.add_feed(Feed { rx, alive: alive.clone() });
    AudioLink { alive }
}

/// Caller ⇄ agent: audio both ways and DTMF relayed both ways; dropping it unbridges (the legs
/// stay open, e.g. to play "the agent has left" or to re-queue).
#[derive(Debug)]
pub struct BridgeHandle {
    a: MediaSession,
    b: MediaSession,
    _links: [AudioLink; 2],
    relays: Vec<JoinHandle<()>>,
}

impl Drop for BridgeHandle {
    fn drop(&mut self) {
        for r in &self.relays {
            r.abort();
        }
    }
}

/// A supervisor's connection to a bridge; dropping it ends listening/whispering/barging.
#[derive(Debug)]
pub struct Supervision {
    _links: Vec<AudioLink>,
}

fn relay_digits(from: &MediaSession, to: &MediaSession) -> JoinHandle<()> {
    let mut digits = from.digits();
    let to = to.clone();
    tokio::spawn(async move {
        while let Some(d) = digits.recv().await {
            // Relayed as RFC 4733 (or tones) on the other leg; at least 80 ms so phones notice it.
            let ms = d.duration_ms.max(80);
            tracing::debug!(digit = %d.digit, source = ?d.source, "relaying DTMF across bridge");
            if to.send_dtmf(d.digit, ms).await.is_err() {
                break;
            }
            if d.source == DtmfSource::Injected {
                tracing::trace!("relayed an injected digit");
            }
        }
    })
}

/// Bridges two legs: audio both ways (transcoded if their codecs differ) and DTMF relay.
pub fn bridge(a: &MediaSession, b: &MediaSession) -> BridgeHandle {
    let links = [link_audio(a, b), link_audio(b, a)];
    let relays = vec![relay_digits(a, b), relay_digits(b, a)];
    BridgeHandle { a: a.clone(), b: b.clone(), _links: links, relays }
}

impl BridgeHandle {
    /// Silent monitoring: the supervisor's leg hears both parties; nobody hears the supervisor.
    pub fn listen(&self, supervisor: &MediaSession) -> Supervision {
        Supervision { _links: vec![link_audio(&self.a, supervisor), link_audio(&self.b, supervisor)] }
    }

    /// Coaching: the supervisor hears both parties and only the given leg (the agent) hears the
    /// supervisor.
    pub fn whisper(&self, supervisor: &MediaSession, to: &MediaSession) -> Supervision {
        let mut l = self.listen(supervisor);
        l._links.push(link_audio(supervisor, to));
        l
    }

    /// Three-way: everybody hears everybody.
    pub fn barge(&self, supervisor: &MediaSession) -> Supervision {
        let mut l = self.listen(supervisor);
        l._links.push(link_audio(supervisor, &self.a));
        l._links.push(link_audio(supervisor, &self.b));
        l
    }
}
