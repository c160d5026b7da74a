//! The public façade of one call leg's media: open, point at the remote, play, collect digits,
//! record, close. Every method sends a message to the leg's task (see `engine.rs`), so the handle
//! is cheap to clone and usable from any task; the task ends when the session is closed or the
//! last handle is dropped, and its RTP port then returns to the allocator.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::bridge::{Feed, Tap};
use crate::engine::{Command, Engine};
use crate::socket::RtpSocket;
use crate::record::{CallerRecorder, Recorder};
use crate::stats::SendJitter;
use crate::thread::MediaThread;
use crate::{
    CallerRecording, Codec, DtmfDigit, DtmfSource, MediaError, MediaStats, PlayOptions, PlayOutcome, PortAllocator,
    RecordCallerOptions, RecordMode, RecordingInfo,
};

/// What the session sends when it has nothing to say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IdleAudio {
    /// Silence frames every 20 ms: keeps NAT pinholes open and phones that watch for RTP happy.
    #[default]
    Silence,
    /// Nothing between prompts (the RTP timestamp still advances with the clock).
    Nothing,
}

/// When to look for DTMF tones in the received audio.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InbandDtmf {
    /// Only when the remote did not offer telephone-events (avoids double digits from phones that
    /// send both).
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Per-session media settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaConfig {
    /// Receive jitter buffer depth in 20 ms packets (latency vs. reordering tolerance).
    pub jitter_depth: usize,
    /// What to send between prompts.
    pub idle: IdleAudio,
    /// In-band DTMF detection policy.
    pub inband_dtmf: InbandDtmf,
    /// Volume (-dBm0) of telephone-events we send.
    pub dtmf_volume: u8,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self { jitter_depth: 2, idle: IdleAudio::Silence, inband_dtmf: InbandDtmf::Auto, dtmf_volume: 10 }
    }
}

/// Shared between the handles and the task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) stats: Mutex<MediaStats>,
    /// Published by the task about once a second (it is 800 bytes; stats are per tick).
    pub(crate) send_jitter: Mutex<SendJitter>,
    /// Taken (dropped) by the task when it ends, so subscribers see the end of the stream.
    pub(crate) digits: Mutex<Option<broadcast::Sender<DtmfDigit>>>,
    /// Set after a command is sent and when the last handle goes: the leg looks at its command
    /// channel only then (an empty channel's `try_recv` every tick was 4.5 % of a media thread).
    pub(crate) pending: AtomicBool,
}

/// The last handle going closes the command channel; the leg must look at it to notice, after
/// it is closed (a flag raised first could be cleared by a drain that still saw it open).
impl Drop for Handle {
    fn drop(&mut self) {
        let (closed, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.cmd, closed));
        self.shared.pending.store(true, Ordering::Release);
    }
}

#[derive(Debug)]
struct Handle {
    cmd: mpsc::UnboundedSender<Command>,
    local: SocketAddr,
    shared: Arc<Shared>,
    ended: Mutex<Option<oneshot::Receiver<()>>>,
}

/// One call leg's media (RTP socket + task). Clones are handles to the same session.
#[derive(Debug, Clone)]
pub struct MediaSession {
    h: Arc<Handle>,
}

/// A subscription to a session's digits (RFC 4733, in-band and injected), in order.
#[derive(Debug)]
pub struct DigitReceiver {
    rx: broadcast::Receiver<DtmfDigit>,
}

impl DigitReceiver {
    /// The next digit; `None` once the session is closed.
    pub async fn recv(&mut self) -> Option<DtmfDigit> {
        loop {
            match self.rx.recv().await {
                Ok(d) => return Some(d),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(lost = n, "digit subscriber lagged; digits lost");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// A digit if one is already waiting.
    pub fn try_recv(&mut self) -> Option<DtmfDigit> {
        loop {
            match self.rx.try_recv() {
                Ok(d) => return Some(d),
                Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    }
}

impl MediaSession {
    /// Binds an RTP socket from `ports` and starts the leg's task; the port is known at once
    /// (for the SDP answer), media flows after [`MediaSession::set_remote`].
    pub async fn open(ports: &PortAllocator, config: MediaConfig) -> Result<Self, MediaError> {
        Self::open_on(&tokio::runtime::Handle::current(), ports, config)
    }

    /// Like [`MediaSession::open`], but the leg's task (and socket) live on the given runtime. Run
    /// media on a runtime of its own so plugin execution or SIP bursts on the main runtime cannot
    /// delay the 20 ms clock (send jitter).
    pub fn open_on(rt: &tokio::runtime::Handle, ports: &PortAllocator, config: MediaConfig) -> Result<Self, MediaError> {
        let (engine, session) = Self::new_leg(ports, config)?;
        let span = tracing::debug_span!("media", port = session.h.local.port());
        rt.spawn(tracing::Instrument::instrument(engine.run(), span));
        Ok(session)
    }

    /// Like [`MediaSession::open`], but the leg is driven by a [`MediaThread`] together with the
    /// other legs on that thread (the way the runtime runs calls: one timer wake-up serves every
    /// leg due in the same millisecond).
    pub fn open_on_thread(thread: &MediaThread, ports: &PortAllocator, config: MediaConfig) -> Result<Self, MediaError> {
        let (engine, session) = Self::new_leg(ports, config)?;
        thread.add(engine, session.h.local.port())?;
        Ok(session)
    }

    fn new_leg(ports: &PortAllocator, config: MediaConfig) -> Result<(Engine, Self), MediaError> {
        let (socket, lease) = ports.bind()?;
        let socket = RtpSocket::new(socket).map_err(MediaError::Bind)?;
        let local = socket.local_addr().map_err(MediaError::Bind)?;
        let (cmd, cmd_rx) = mpsc::unbounded_channel();
        let (digits, _) = broadcast::channel(64);
        let shared = Arc::new(Shared {
            stats: Mutex::new(MediaStats::default()),
            send_jitter: Mutex::new(SendJitter::default()),
            digits: Mutex::new(Some(digits.clone())),
            pending: AtomicBool::new(false),
        });
        let (ended_tx, ended_rx) = oneshot::channel();
        let engine = Engine::new(socket, lease, config, shared.clone(), digits, cmd_rx, ended_tx);
        Ok((engine, Self { h: Arc::new(Handle { cmd, local, shared, ended: Mutex::new(Some(ended_rx)) }) }))
    }

    fn send(&self, c: Command) -> Result<(), MediaError> {
        self.h.cmd.send(c).map_err(|_| MediaError::Closed)?;
        self.h.shared.pending.store(true, Ordering::Release);
        Ok(())
    }

    /// The bound RTP address (put it in the SDP answer).
    pub fn local_addr(&self) -> SocketAddr {
        self.h.local
    }

    /// Sets (or, on re-INVITE, changes) where media goes, the codec, and the telephone-event
    /// payload type; resets the RTP latch.
    pub fn set_remote(&self, addr: SocketAddr, codec: Codec, telephone_event_pt: Option<u8>) {
        let _ = self.send(Command::SetRemote { addr, codec, te_pt: telephone_event_pt });
    }

    /// Stops (false) or resumes (true) sending RTP, e.g. while the remote put the call on hold
    /// (`a=sendonly`/`inactive`); receiving, digits and recording go on.
    pub fn set_sending(&self, enabled: bool) {
        let _ = self.send(Command::SetSending(enabled));
    }

    /// Plays 8 kHz mono samples in paced 20 ms frames; replaces a prompt already playing.
    /// Dropping the returned future stops the prompt.
    pub async fn play(&self, pcm: Arc<[i16]>, opts: PlayOptions) -> Result<PlayOutcome, MediaError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Play { pcm, opts, done: tx })?;
        rx.await.map_err(|_| MediaError::Closed)
    }

    /// Stops the current prompt (its `play` returns [`PlayOutcome::Stopped`]).
    pub fn stop_play(&self) {
        let _ = self.send(Command::StopPlay);
    }

    /// Subscribes to digits from now on.
    pub fn digits(&self) -> DigitReceiver {
        let rx = match self.h.shared.digits.lock().as_ref() {
            Some(tx) => tx.subscribe(),
            // Closed session: a stream that ends at once.
            None => broadcast::channel(1).1,
        };
        DigitReceiver { rx }
    }

    /// Delivers a digit that arrived by signalling (SIP INFO application/dtmf-relay); it barges
    /// in and ends recordings like any other digit.
    pub fn inject_dtmf(&self, digit: char) -> Result<(), MediaError> {
        crate::dtmf::event_code(digit).ok_or(MediaError::InvalidDigit(digit))?;
        let d = DtmfDigit { digit: digit.to_ascii_uppercase(), duration_ms: 0, volume: None, source: DtmfSource::Injected };
        self.send(Command::Inject(d))
    }

    /// Sends a key to the remote as RFC 4733 events (in-band tones when no telephone-event payload
    /// type was negotiated); resolves when it has been sent. Keys queue behind each other.
    pub async fn send_dtmf(&self, digit: char, duration_ms: u32) -> Result<(), MediaError> {
        let code = crate::dtmf::event_code(digit).ok_or(MediaError::InvalidDigit(digit))?;
        let (tx, rx) = oneshot::channel();
        self.send(Command::SendDtmf { digit: digit.to_ascii_uppercase(), code, duration_ms, done: tx })?;
        rx.await.map_err(|_| MediaError::Closed)
    }

    /// Starts recording the call (both directions); replaces a recording in progress.
    pub async fn record_start(&self, path: impl AsRef<Path>, mode: RecordMode) -> Result<(), MediaError> {
        let path = path.as_ref().to_path_buf();
        let rec = tokio::task::spawn_blocking(move || Recorder::create(&path, mode))
            .await
            .map_err(|e| MediaError::Record(e.to_string()))??;
        self.send(Command::RecordStart(rec))
    }

    /// Pauses the call recording (paused time is left out of the file).
    pub fn record_pause(&self) {
        let _ = self.send(Command::RecordPause(true));
    }

    /// Resumes a paused call recording.
    pub fn record_resume(&self) {
        let _ = self.send(Command::RecordPause(false));
    }

    /// Stops the call recording and finalises the file(s); `None` if nothing was recording.
    pub async fn record_stop(&self) -> Result<Option<RecordingInfo>, MediaError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::RecordStop(tx))?;
        let Some(rec) = rx.await.map_err(|_| MediaError::Closed)? else { return Ok(None) };
        tokio::task::spawn_blocking(move || rec.finish()).await.map_err(|e| MediaError::Record(e.to_string()))?.map(Some)
    }

    /// Records what the caller says until the max length, trailing silence, or the terminator key.
    /// Returns early with [`crate::RecordEnd::Stopped`] if the session closes.
    pub async fn record_caller(&self, path: impl AsRef<Path>, opts: RecordCallerOptions) -> Result<CallerRecording, MediaError> {
        let path = path.as_ref().to_path_buf();
        let rec = tokio::task::spawn_blocking(move || CallerRecorder::create(&path, opts))
            .await
            .map_err(|e| MediaError::Record(e.to_string()))??;
        let (tx, rx) = oneshot::channel();
        self.send(Command::RecordCaller(rec, tx))?;
        let rec = rx.await.map_err(|_| MediaError::Closed)?;
        tokio::task::spawn_blocking(move || rec.finish()).await.map_err(|e| MediaError::Record(e.to_string()))?
    }

    /// A snapshot of the counters (updated every 20 ms).
    pub fn stats(&self) -> MediaStats {
        self.h.shared.stats.lock().clone()
    }

    /// How late the session's 20 ms clock fired (sender-side send jitter); updated every second.
    pub fn send_jitter(&self) -> SendJitter {
        self.h.shared.send_jitter.lock().clone()
    }

    /// Ends the session: stops prompts and recordings (finalising the call recording's file),
    /// closes the socket and frees the port; waits until done.
    pub async fn close(&self) {
        let _ = self.send(Command::Close);
        let ended = self.h.ended.lock().take();
        if let Some(rx) = ended {
            let _ = rx.await;
        }
    }

    /// True once the session's task has ended.
    pub fn is_closed(&self) -> bool {
        self.h.cmd.is_closed()
    }

    pub(crate) fn add_tap(&self, tap: Tap) {
        let _ = self.send(Command::AddTap(tap));
    }

    pub(crate) fn add_feed(&self, feed: Feed) {
        let _ = self.send(Command::AddFeed(feed));
    }
}
