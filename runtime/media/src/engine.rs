//! One leg's media: one socket, one 20 ms clock, all state owned by whoever drives the leg (no
//! locks on the packet path). The leg does work only at its ticks: each tick applies the commands
//! from the [`crate::MediaSession`] handles, takes the datagrams that arrived since the last tick
//! (stamped by the kernel on arrival, see [`crate::socket`]), pulls one received frame and sends
//! one frame. Nothing a command does is audible before the next frame goes out, so waiting for
//! the tick costs no latency; waking per packet or per command cost CPU the busiest calls need.
//!
//! Two drivers call [`Engine::on_tick`]: a tokio task per leg ([`Engine::run`], for sessions on a
//! tokio runtime) and a media thread driving hundreds of legs from one timing wheel
//! ([`crate::MediaThread`]).
//!
//! Pacing is the [`Pacer`]'s: absolute deadlines, so no drift; the RTP timestamp advances 160 per
//! tick whether or not a packet is sent.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use crate::bridge::{Feed, Frame, Tap};
use crate::dtmf::goertzel::GoertzelDetector;
use crate::dtmf::rfc4733::{EventSender, Rfc4733Receiver};
use crate::jitter::{Inserted, JitterBuffer, Pulled};
use crate::latch::{Latch, Verdict};
use crate::pacer::Pacer;
use crate::playout::Playing;
use crate::ports::PortLease;
use crate::record::{CallerRecorder, Recorder};
use crate::rtp::{self, MAX_RTP_PACKET};
use crate::session::Shared;
use crate::socket::{self, Clock, RtpSocket};
use crate::stats::{RecvTracker, SendJitter};
use crate::{Codec, DtmfDigit, FRAME, IdleAudio, InbandDtmf, MediaConfig, MediaStats, PlayOptions, PlayOutcome};

/// Audio ticks between two DTMF keys we send.
const DTMF_GAP_TICKS: u32 = 3;

/// Messages from session handles to the task.
#[derive(Debug)]
pub(crate) enum Command {
    SetRemote { addr: SocketAddr, codec: Codec, te_pt: Option<u8> },
    Play { pcm: Arc<[i16]>, opts: PlayOptions, done: oneshot::Sender<PlayOutcome> },
    StopPlay,
    SetSending(bool),
    Inject(DtmfDigit),
    SendDtmf { digit: char, code: u8, duration_ms: u32, done: oneshot::Sender<()> },
    RecordStart(Recorder),
    RecordPause(bool),
    RecordStop(oneshot::Sender<Option<Recorder>>),
    RecordCaller(CallerRecorder, oneshot::Sender<CallerRecorder>),
    AddTap(Tap),
    AddFeed(Feed),
    Close,
}

#[derive(Debug, Clone, Copy)]
struct Remote {
    codec: Codec,
    te_pt: Option<u8>,
}

enum DtmfOut {
    Events(EventSender, Option<oneshot::Sender<()>>),
    Tones { pcm: Vec<i16>, pos: usize, done: Option<oneshot::Sender<()>> },
}

struct QueuedDigit {
    digit: char,
    code: u8,
    duration_ms: u32,
    done: oneshot::Sender<()>,
}

pub(crate) struct Engine {
    cmds: mpsc::UnboundedReceiver<Command>,
    pacer: Pacer,
    /// Told when the leg has ended (its port is free again).
    ended: Option<oneshot::Sender<()>>,
    socket: RtpSocket,
    _lease: PortLease,
    cfg: MediaConfig,
    shared: Arc<Shared>,
    digit_tx: Option<broadcast::Sender<DtmfDigit>>,
    remote: Option<Remote>,
    latch: Latch,
    // send side
    ssrc: u32,
    seq: u16,
    ts: u32,
    sent_any: bool,
    sending: bool,
    sent_last_tick: bool,
    play: Option<Playing>,
    dtmf_queue: VecDeque<QueuedDigit>,
    dtmf_out: Option<DtmfOut>,
    dtmf_gap: u32,
    feeds: Vec<Feed>,
    // receive side
    rx_ssrc: Option<u32>,
    jitter: JitterBuffer,
    rx_pcm: VecDeque<i16>,
    /// Samples taken from the jitter buffer but not decoded, while nothing listens to the
    /// caller's audio (see [`Engine::pull_rx`]).
    rx_undecoded: usize,
    tracker: RecvTracker,
    rfc4733: Rfc4733Receiver,
    goertzel: GoertzelDetector,
    taps: Vec<Tap>,
    // recording
    recorder: Option<Recorder>,
    caller_rec: Option<(CallerRecorder, oneshot::Sender<CallerRecorder>)>,
    stats: MediaStats,
    send_jitter: SendJitter,
    ticks: u64,
    // scratch
    pkt: Vec<u8>,
    enc: Vec<u8>,
    dec: Vec<i16>,
    digits: Vec<DtmfDigit>,
}

impl Engine {
    pub(crate) fn new(
        socket: RtpSocket,
        lease: PortLease,
        cfg: MediaConfig,
        shared: Arc<Shared>,
        digit_tx: broadcast::Sender<DtmfDigit>,
        cmds: mpsc::UnboundedReceiver<Command>,
        ended: oneshot::Sender<()>,
    ) -> Self {
        Self {
            cmds,
            pacer: Pacer::new(Instant::now(), rand::random()),
            ended: Some(ended),
            socket,
            _lease: lease,
            cfg,
            shared,
            digit_tx: Some(digit_tx),
            remote: None,
            latch: Latch::default(),
            ssrc: rand::random(),
            seq: rand::random(),
            ts: 0,
            sent_any: false,
            sending: true,
            sent_last_tick: false,
            play: None,
            dtmf_queue: VecDeque::new(),
            dtmf_out: None,
            dtmf_gap: 0,
            feeds: Vec::new(),
            rx_ssrc: None,
            jitter: JitterBuffer::new(cfg.jitter_depth),
            rx_pcm: VecDeque::with_capacity(2 * FRAME),
            rx_undecoded: 0,
            tracker: RecvTracker::default(),
            rfc4733: Rfc4733Receiver::new(),
            goertzel: GoertzelDetector::new(),
            taps: Vec::new(),
            recorder: None,
            caller_rec: None,
            stats: MediaStats::default(),
            send_jitter: SendJitter::default(),
            ticks: 0,
            pkt: Vec::with_capacity(256),
            enc: Vec::with_capacity(FRAME),
            dec: Vec::with_capacity(FRAME),
            digits: Vec::new(),
        }
    }

    /// Puts the leg's first tick at `first` (later ones follow every 20 ms from there).
    pub(crate) fn start_at(&mut self, first: Instant) {
        self.pacer.restart_at(first);
    }

    /// When the leg's next tick is due.
    pub(crate) fn deadline(&self) -> Instant {
        self.pacer.deadline()
    }

    /// The leg's tick, called at (or after) [`Engine::deadline`] with the time it actually runs.
    /// Returns `false` once the leg has ended (closed, or every handle dropped): the driver must
    /// then call [`Engine::finish`] and not tick it again.
    pub(crate) fn on_tick(&mut self, now: Instant) -> bool {
        let fired = self.pacer.fire(now);
        self.send_jitter.record(fired.late.as_micros().min(u32::MAX as u128) as u32);
        self.stats.ticks_skipped += fired.skipped as u64;
        // Cleared before draining: a command sent while we drain sets it again for the next tick.
        if self.shared.pending.swap(false, std::sync::atomic::Ordering::Acquire) {
            loop {
                match self.cmds.try_recv() {
                    Ok(Command::Close) | Err(TryRecvError::Disconnected) => {
                        self.shutdown();
                        return false;
                    }
                    Ok(c) => self.command(c),
                    Err(TryRecvError::Empty) => break,
                }
            }
        }
        self.receive();
        self.tick(fired.timestamp);
        true
    }

    /// Drives the leg as a tokio task of its own, first tick one frame from now.
    pub(crate) async fn run(mut self) {
        self.start_at(Instant::now() + crate::pacer::TICK);
        let sleep = tokio::time::sleep_until(self.deadline());
        tokio::pin!(sleep);
        loop {
            (&mut sleep).await;
            if !self.on_tick(Instant::now()) {
                self.finish();
                return;
            }
            sleep.as_mut().reset(self.deadline());
        }
    }

    /// Takes what arrived since the last tick. Bounded, so a flood cannot starve the clock: what
    /// is beyond the bound waits in (or overflows) the socket's buffer.
    fn receive(&mut self) {
        let clock = Clock::now();
        // ICMP errors reported on the socket are not fatal for RTP: try again next tick.
        let _ = socket::recv_batch(self.socket.fd(), 64, &clock, |data, from, arrived| self.on_datagram(data, from, arrived));
    }

    fn shutdown(&mut self) {
        if let Some(p) = self.play.take() {
            p.complete(PlayOutcome::Stopped);
        }
        if let Some((mut r, done)) = self.caller_rec.take() {
            r.stop();
            let _ = done.send(r);
        }
        if let Some(r) = self.recorder.take() {
            // Nobody will ask for it any more: finalise so the file is a valid WAV.
            if let Err(e) = r.finish() {
                tracing::warn!(error = %e, "finalising call recording at close failed");
            }
        }
        self.publish();
        self.shared.send_jitter.lock().clone_from(&self.send_jitter);
        self.digit_tx = None;
        self.shared.digits.lock().take();
    }

    /// Frees the leg (socket closed, then its port back to the allocator) and then tells
    /// [`crate::MediaSession::close`] it has ended, so a closed session's port can be reused at
    /// once. Called by the driver once [`Engine::on_tick`] returned `false`.
    pub(crate) fn finish(mut self) {
        let ended = self.ended.take();
        drop(self);
        if let Some(ended) = ended {
            let _ = ended.send(());
        }
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::SetRemote { addr, codec, te_pt } => {
                let changed_codec = self.remote.is_some_and(|r| r.codec != codec);
                self.remote = Some(Remote { codec, te_pt });
                self.latch.reset(addr);
                if changed_codec {
                    self.jitter.reset();
                    self.rx_pcm.clear();
                    self.rx_undecoded = 0;
                }
                tracing::debug!(%addr, ?codec, ?te_pt, "remote set");
            }
            Command::Play { pcm, opts, done } => {
                if let Some(p) = self.play.take() {
                    p.complete(PlayOutcome::Stopped);
                }
                self.play = Some(Playing::new(pcm, opts, done));
            }
            Command::StopPlay => {
                if let Some(p) = self.play.take() {
                    p.complete(PlayOutcome::Stopped);
                }
            }
            Command::SetSending(on) => self.sending = on,
            Command::Inject(d) => self.on_digit(d),
            Command::SendDtmf { digit, code, duration_ms, done } => {
                self.dtmf_queue.push_back(QueuedDigit { digit, code, duration_ms, done })
            }
            Command::RecordStart(r) => {
                if let Some(old) = self.recorder.replace(r)
                    && let Err(e) = old.finish()
                {
                    tracing::warn!(error = %e, "finalising replaced recording failed");
                }
            }
            Command::RecordPause(p) => {
                if let Some(r) = self.recorder.as_mut() {
                    r.set_paused(p);
                }
            }
            Command::RecordStop(done) => {
                let _ = done.send(self.recorder.take());
            }
            Command::RecordCaller(r, done) => {
                if let Some((mut old, old_done)) = self.caller_rec.replace((r, done)) {
                    old.stop();
                    let _ = old_done.send(old);
                }
            }
            Command::AddTap(t) => self.taps.push(t),
            Command::AddFeed(f) => self.feeds.push(f),
            Command::Close => {}
        }
    }

    fn inband_enabled(&self) -> bool {
        match self.cfg.inband_dtmf {
            InbandDtmf::Always => true,
            InbandDtmf::Never => false,
            InbandDtmf::Auto => self.remote.is_some_and(|r| r.te_pt.is_none()),
        }
    }

    fn on_digit(&mut self, d: DtmfDigit) {
        self.stats.digits_received += 1;
        tracing::debug!(digit = %d.digit, source = ?d.source, "digit");
        if let Some(tx) = &self.digit_tx {
            let _ = tx.send(d);
        }
        if self.play.as_ref().is_some_and(|p| p.barge_in)
            && let Some(p) = self.play.take()
        {
            p.complete(PlayOutcome::Interrupted(d));
        }
        if let Some((r, _)) = self.caller_rec.as_mut()
            && r.on_digit(d.digit)
            && let Some((r, done)) = self.caller_rec.take()
        {
            let _ = done.send(r);
        }
    }

    /// Whether anything uses the caller's decoded audio this tick: a tap (bridge, supervisor),
    /// a recording, a caller recording (voicemail), or in-band DTMF detection.
    fn rx_audio_wanted(&self) -> bool {
        !self.taps.is_empty() || self.recorder.is_some() || self.caller_rec.is_some() || self.inband_enabled()
    }

    /// Takes one 20 ms frame of received audio from the jitter buffer, decoded, when something
    /// wants it. Otherwise (an IVR call whose digits come as RFC 4733 events: most of a call
    /// centre's calls) the jitter buffer is still drained at the same pace, so its timing, loss
    /// and concealment figures stay true, but nothing is decoded: decoding and copying were ~5 %
    /// of a media thread at 1000 calls.
    fn pull_rx(&mut self) -> Option<Frame> {
        let codec = self.remote?.codec;
        if !self.rx_audio_wanted() {
            self.rx_pcm.clear();
            while self.rx_undecoded < FRAME {
                match self.jitter.pull() {
                    // G.711: one byte per sample.
                    Some(Pulled::Packet(p)) => {
                        self.rx_undecoded += p.len();
                        self.jitter.recycle(p);
                    }
                    Some(Pulled::Missing) => {
                        self.stats.concealed_frames += 1;
                        self.rx_undecoded += FRAME;
                    }
                    None => break,
                }
            }
            self.rx_undecoded = self.rx_undecoded.saturating_sub(FRAME);
            return None;
        }
        // Listening starts: what was skipped of the frame in progress is heard as silence, so
        // the caller's audio stays in step with the clock.
        if self.rx_undecoded > 0 {
            self.rx_pcm.extend(std::iter::repeat_n(0i16, self.rx_undecoded));
            self.rx_undecoded = 0;
        }
        while self.rx_pcm.len() < FRAME {
            match self.jitter.pull() {
                Some(Pulled::Packet(p)) => {
                    self.dec.clear();
                    codec.decode(&p, &mut self.dec);
                    self.jitter.recycle(p);
                    self.rx_pcm.extend(self.dec.iter().copied());
                }
                Some(Pulled::Missing) => {
                    self.stats.concealed_frames += 1;
                    self.rx_pcm.extend(std::iter::repeat_n(0i16, FRAME));
                }
                None => break,
            }
        }
        if self.rx_pcm.len() < FRAME {
            return None;
        }
        let mut f = [0i16; FRAME];
        for (d, s) in f.iter_mut().zip(self.rx_pcm.drain(..FRAME)) {
            *d = s;
        }
        Some(f)
    }

    fn tick(&mut self, ts: u32) {
        self.ts = ts;
        let now = std::time::Instant::now();
        // ---- receive side
        let rx = self.pull_rx();
        let mut digits = std::mem::take(&mut self.digits);
        self.rfc4733.poll(now, &mut digits);
        if let Some(f) = &rx
            && self.inband_enabled()
            && let Some(d) = self.goertzel.process(f)
        {
            digits.push(d);
        }
        for d in digits.drain(..) {
            self.on_digit(d);
        }
        self.digits = digits;
        if let Some(f) = &rx {
            self.taps.retain(|t| t.offer(f));
        } else {
            self.taps.retain(|t| t.alive.load(std::sync::atomic::Ordering::Relaxed));
        }

        // ---- what to send
        // Whether anyone still waits for the prompt is a look at another thread's memory (a cache
        // miss per leg: 2 % of a media thread at 1000 calls); every fifth tick is soon enough to
        // stop a prompt nobody awaits.
        if self.ticks.is_multiple_of(5) && self.play.as_ref().is_some_and(|p| p.abandoned()) {
            self.play = None;
        }
        let mut mix = [0i32; FRAME];
        let mut have_audio = false;
        let mut spurt_start = false;
        if let Some(p) = self.play.as_mut() {
            spurt_start = p.at_start();
            have_audio |= p.next_frame(&mut mix);
            if p.finished()
                && let Some(p) = self.play.take()
            {
                p.complete(PlayOutcome::Completed);
            }
        }
        let mut i = 0;
        while i < self.feeds.len() {
            let (had, alive) = self.feeds[i].mix_into(&mut mix);
            have_audio |= had;
            if alive {
                i += 1;
            } else {
                self.feeds.swap_remove(i);
            }
        }
        self.start_dtmf_if_due();
        let mut event: Option<(u32, bool, [u8; 4])> = None;
        let mut dtmf_done = None;
        match self.dtmf_out.as_mut() {
            Some(DtmfOut::Events(s, done)) => match s.next_packet() {
                Some((m, p)) => event = Some((s.timestamp, m, p)),
                None => dtmf_done = done.take(),
            },
            Some(DtmfOut::Tones { pcm, pos, done }) => {
                let end = (*pos + FRAME).min(pcm.len());
                for (m, &s) in mix.iter_mut().zip(&pcm[*pos..end]) {
                    *m += s as i32;
                }
                have_audio |= end > *pos;
                *pos = end;
                if *pos >= pcm.len() {
                    dtmf_done = done.take();
                }
            }
            None => {}
        }
        if let Some(d) = dtmf_done {
            let _ = d.send(());
            self.dtmf_out = None;
            self.dtmf_gap = DTMF_GAP_TICKS;
        }
        let mut pcm = [0i16; FRAME];
        for (o, m) in pcm.iter_mut().zip(mix) {
            *o = m.clamp(i16::MIN as i32, i16::MAX as i32) as i16;
        }

        // ---- recording
        if let Some(r) = self.recorder.as_mut() {
            r.write(rx.as_ref(), have_audio.then_some(&pcm));
        }
        if let Some((r, _)) = self.caller_rec.as_mut()
            && r.write(rx.as_ref())
            && let Some((r, done)) = self.caller_rec.take()
        {
            let _ = done.send(r);
        }

        // ---- send
        let mut sent = false;
        if let (Some(remote), Some(target), true) = (self.remote, self.latch.target(), self.sending) {
            if let (Some((ets, marker, payload)), Some(te)) = (event, remote.te_pt) {
                sent = self.send_packet(target, te, ets, marker, &payload);
                self.stats.dtmf_packets_sent += sent as u64;
            } else if have_audio || self.cfg.idle == IdleAudio::Silence {
                let marker = !self.sent_any || spurt_start || !self.sent_last_tick;
                let mut enc = std::mem::take(&mut self.enc);
                enc.clear();
                if have_audio {
                    remote.codec.encode(&pcm, &mut enc);
                } else {
                    enc.resize(FRAME, remote.codec.silence_byte());
                }
                sent = self.send_packet(target, remote.codec.payload_type(), self.ts, marker, &enc);
                self.enc = enc;
            }
        }
        self.sent_last_tick = sent;
        self.publish();
    }

    fn start_dtmf_if_due(&mut self) {
        if self.dtmf_out.is_some() {
            return;
        }
        if self.dtmf_gap > 0 {
            self.dtmf_gap -= 1;
            return;
        }
        let Some(q) = self.dtmf_queue.pop_front() else { return };
        let te = self.remote.and_then(|r| r.te_pt);
        self.dtmf_out = Some(if te.is_some() {
            DtmfOut::Events(EventSender::new(q.code, q.duration_ms, self.cfg.dtmf_volume, self.ts), Some(q.done))
        } else {
            let pcm = crate::tone::dtmf(q.digit, q.duration_ms.clamp(40, 5000), 12000).unwrap_or_default();
            DtmfOut::Tones { pcm, pos: 0, done: Some(q.done) }
        });
    }

    fn send_packet(&mut self, target: SocketAddr, pt: u8, ts: u32, marker: bool, payload: &[u8]) -> bool {
        if !rtp::build(&mut self.pkt, pt, self.seq, ts, self.ssrc, marker, payload) {
            return false;
        }
        match self.socket.send_to(&self.pkt, target) {
            Ok(_) => {
                self.seq = self.seq.wrapping_add(1);
                self.sent_any = true;
                self.stats.packets_sent += 1;
                self.stats.bytes_sent += self.pkt.len() as u64;
                true
            }
            Err(e) => {
                self.stats.send_errors += 1;
                tracing::trace!(error = %e, "RTP send failed");
                false
            }
        }
    }

    fn on_datagram(&mut self, data: &[u8], from: SocketAddr, arrived: std::time::Instant) {
        if data.len() > MAX_RTP_PACKET {
            self.stats.dropped_oversize += 1;
            return;
        }
        let Some(remote) = self.remote else {
            self.stats.dropped_unsignalled += 1;
            return;
        };
        let verdict = self.latch.check(from);
        if verdict == Verdict::Foreign {
            self.stats.dropped_foreign += 1;
            return;
        }
        let h = match rtp::parse(data) {
            Ok(h) => h,
            Err(_) => {
                self.stats.dropped_garbage += 1;
                return;
            }
        };
        let is_audio = h.payload_type == remote.codec.payload_type();
        let is_event = remote.te_pt == Some(h.payload_type);
        // Comfort noise (RFC 3389, static pt 13) from phones with VAD: a valid packet of this call
        // that means "silence"; the jitter buffer conceals it.
        let is_cn = h.payload_type == 13;
        if !is_audio && !is_event && !is_cn {
            self.stats.dropped_wrong_pt += 1;
            return;
        }
        if matches!(verdict, Verdict::Unlatched | Verdict::Signalled) {
            let before = self.latch.latched();
            if self.latch.latch(from) {
                match before {
                    Some(previous) => {
                        tracing::warn!(%from, %previous, "RTP latch moved to the signalled address (the first source was someone else)")
                    }
                    None => tracing::info!(%from, "RTP latched"),
                }
                self.stats.latched = Some(from);
            }
        }
        if self.rx_ssrc != Some(h.ssrc) {
            if self.rx_ssrc.is_some() {
                self.stats.ssrc_changes += 1;
                tracing::debug!(ssrc = h.ssrc, "remote SSRC changed");
                self.jitter.reset();
                self.tracker.reset();
            }
            self.rx_ssrc = Some(h.ssrc);
        }
        self.stats.packets_received += 1;
        self.stats.bytes_received += data.len() as u64;
        if !is_audio {
            self.tracker.on_sequence(h.seq);
        }
        if is_cn {
            self.stats.comfort_noise_received += 1;
        } else if is_audio {
            self.tracker.on_packet(h.seq, h.timestamp, arrived);
            match self.jitter.insert(h.seq, h.payload) {
                Inserted::Stored => {}
                Inserted::Late | Inserted::Duplicate => self.stats.dropped_late += 1,
            }
        } else {
            let mut digits = std::mem::take(&mut self.digits);
            self.rfc4733.on_packet(h.ssrc, h.timestamp, h.payload, arrived, &mut digits);
            for d in digits.drain(..) {
                self.on_digit(d);
            }
            self.digits = digits;
        }
    }

    fn publish(&mut self) {
        self.stats.packets_lost = self.tracker.lost();
        self.stats.jitter_ms = self.tracker.jitter_ms();
        self.stats.latched = self.latch.latched();
        self.shared.stats.lock().clone_from(&self.stats);
        self.ticks += 1;
        if self.ticks.is_multiple_of(50) {
            self.shared.send_jitter.lock().clone_from(&self.send_jitter);
        }
    }
}

