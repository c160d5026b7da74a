//! A scripted "phone": a raw UDP socket that sends hand-built RTP and records what it receives.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use courtyard_media::codec::Codec;
use courtyard_media::dtmf::rfc4733::EventPayload;
use std::sync::OnceLock;

use courtyard_media::{MediaConfig, MediaSession, MediaThread, PortAllocator, rtp};
use tokio::net::UdpSocket;

pub fn ports() -> PortAllocator {
    PortAllocator::any(Ipv4Addr::LOCALHOST.into())
}

/// The media thread the tests' sessions run on, as the runtime runs calls (every test of this
/// binary shares it, as calls share one in production).
pub fn media_thread() -> &'static MediaThread {
    static THREAD: OnceLock<MediaThread> = OnceLock::new();
    THREAD.get_or_init(|| MediaThread::spawn("test-media", || {}).unwrap())
}

/// A session on the shared media thread.
pub fn open(cfg: MediaConfig) -> MediaSession {
    MediaSession::open_on_thread(media_thread(), &ports(), cfg).unwrap()
}

pub async fn session() -> MediaSession {
    open(MediaConfig::default())
}

#[derive(Debug, Clone)]
pub struct Pkt {
    pub pt: u8,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub marker: bool,
    pub payload: Vec<u8>,
}

pub struct Peer {
    pub sock: Arc<UdpSocket>,
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
}

impl Peer {
    pub async fn new() -> Self {
        let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        Self { sock: Arc::new(sock), ssrc: 0x1234_5678, seq: 1000, ts: 50_000 }
    }

    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    pub async fn send_raw(&self, to: SocketAddr, data: &[u8]) {
        self.sock.send_to(data, to).await.unwrap();
    }

    /// Sends one RTP packet and advances seq (not ts: callers decide).
    pub async fn send(&mut self, to: SocketAddr, pt: u8, ts: u32, marker: bool, payload: &[u8]) {
        let mut buf = Vec::new();
        assert!(rtp::build(&mut buf, pt, self.seq, ts, self.ssrc, marker, payload));
        self.seq = self.seq.wrapping_add(1);
        self.send_raw(to, &buf).await;
    }

    /// Sends PCM as 20 ms packets of `codec`, paced on a 20 ms interval.
    pub async fn stream(&mut self, to: SocketAddr, codec: Codec, pcm: &[i16]) {
        let mut iv = tokio::time::interval(Duration::from_millis(20));
        for (i, chunk) in pcm.chunks(160).enumerate() {
            iv.tick().await;
            let mut enc = Vec::new();
            codec.encode(chunk, &mut enc);
            let ts = self.ts;
            self.send(to, codec.payload_type(), ts, i == 0, &enc).await;
            self.ts = self.ts.wrapping_add(160);
        }
    }

    /// Sends one key as RFC 4733 (5 packets + 3 end packets), paced 20 ms.
    pub async fn press(&mut self, to: SocketAddr, pt: u8, event: u8, volume: u8) {
        let ts = self.ts;
        for i in 0..8u16 {
            let end = i >= 5;
            let d = (i.min(4) + 1) * 160;
            let p = EventPayload { event, end, volume, duration: d }.encode();
            self.send(to, pt, ts, i == 0, &p).await;
            tokio::time::sleep(Duration::from_millis(if end { 2 } else { 20 })).await;
        }
        self.ts = self.ts.wrapping_add(8 * 160);
    }

    /// Collects packets until `quiet` passes without one or `max` packets arrived.
    pub async fn collect(&self, max: usize, quiet: Duration) -> Vec<Pkt> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 2048];
        while out.len() < max {
            match tokio::time::timeout(quiet, self.sock.recv_from(&mut buf)).await {
                Ok(Ok((n, _))) => {
                    let h = rtp::parse(&buf[..n]).expect("session sent invalid RTP");
                    out.push(Pkt {
                        pt: h.payload_type,
                        seq: h.seq,
                        ts: h.timestamp,
                        ssrc: h.ssrc,
                        marker: h.marker,
                        payload: h.payload.to_vec(),
                    });
                }
                _ => break,
            }
        }
        out
    }

    /// Drops whatever is queued on the socket.
    pub fn drain(&self) {
        let mut buf = vec![0u8; 2048];
        while self.sock.try_recv_from(&mut buf).is_ok() {}
    }
}

/// Decodes the audio packets of one payload type into PCM.
pub fn decode(pkts: &[Pkt], codec: Codec) -> Vec<i16> {
    let mut out = Vec::new();
    for p in pkts.iter().filter(|p| p.pt == codec.payload_type()) {
        codec.decode(&p.payload, &mut out);
    }
    out
}

/// A 1 s chirp 300→3000 Hz: not periodic, so a correlation peak means "the same audio".
pub fn chirp(ms: u32) -> Vec<i16> {
    let n = ms as usize * 8;
    let dur = n as f64 / 8000.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let phase = 2.0 * std::f64::consts::PI * (300.0 * t + (2700.0 / (2.0 * dur)) * t * t);
            (phase.sin() * 9000.0) as i16
        })
        .collect()
}

/// Best normalised cross-correlation of `needle` anywhere inside `hay`.
pub fn best_correlation(needle: &[i16], hay: &[i16]) -> f64 {
    let nn: f64 = needle.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
    let mut best = 0.0f64;
    if hay.len() < needle.len() || nn == 0.0 {
        return 0.0;
    }
    for lag in 0..=(hay.len() - needle.len()) {
        let w = &hay[lag..lag + needle.len()];
        let dot: f64 = needle.iter().zip(w).map(|(&a, &b)| a as f64 * b as f64).sum();
        let wn: f64 = w.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
        if wn > 0.0 {
            best = best.max(dot / (nn * wn));
        }
    }
    best
}

/// Share of 50 ms windows of `sent` (its middle 80 %, one every 100 ms) found in `received`
/// with a normalised correlation above 0.9, searched near where the window should be (after the
/// first voiced frame, allowing -200/+400 ms for gaps). Robust to the odd gap a loaded machine
/// inserts, yet near 0 for unrelated audio (the chirp's windows all differ).
pub fn matched_fraction(sent: &[i16], received: &[i16]) -> f64 {
    let win = 400;
    let voice_start = received.chunks(160).position(courtyard_media::vad::is_voice).map_or(0, |f| f * 160);
    let lo = sent.len() / 10;
    let hi = sent.len() - sent.len() / 10;
    let starts: Vec<usize> = (lo..hi.saturating_sub(win)).step_by(800).collect();
    let hits = starts
        .iter()
        .filter(|&&p| {
            let from = (voice_start + p).saturating_sub(1600);
            let to = (voice_start + p + 3200 + win).min(received.len());
            from < to && best_correlation(&sent[p..p + win], &received[from..to]) > 0.9
        })
        .count();
    hits as f64 / starts.len().max(1) as f64
}
