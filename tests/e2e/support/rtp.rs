//! A caller's RTP endpoint for end-to-end tests, written independently of the runtime's media
//! crate (so a bug there cannot hide itself): sends PCMU silence every 20 ms like a phone,
//! records what the runtime sends, and sends RFC 4733 telephone-events.

use std::net::{SocketAddr, UdpSocket};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One received RTP packet.
#[derive(Clone)]
pub struct Received {
    /// When it arrived, relative to the endpoint's start.
    pub at: Duration,
    /// Payload type.
    pub pt: u8,
    /// Sequence number.
    pub seq: u16,
    /// Timestamp.
    pub ts: u32,
    /// Marker bit.
    pub marker: bool,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// The test caller's media socket.
pub struct Phone {
    sock: Arc<UdpSocket>,
    /// Everything received so far.
    pub received: Arc<Mutex<Vec<Received>>>,
    remote: Arc<Mutex<Option<SocketAddr>>>,
    stop: Arc<AtomicBool>,
    seq: Arc<Mutex<(u16, u32)>>,
    started: Instant,
    /// Caller audio waiting to be sent (20 ms PCMU frames) instead of silence.
    outgoing: Arc<Mutex<VecDeque<[u8; 160]>>>,
    /// The SSRC of what this phone sends (a test may change it mid-call).
    ssrc: Arc<AtomicU32>,
}

const SSRC: u32 = 0x1234_5678;

impl Phone {
    /// Binds 127.0.0.1 on an even port the OS hands out.
    pub fn bind() -> Phone {
        let sock = loop {
            let s = UdpSocket::bind("127.0.0.1:0").expect("bind rtp");
            if s.local_addr().expect("addr").port() % 2 == 0 {
                break s;
            }
        };
        sock.set_read_timeout(Some(Duration::from_millis(50))).expect("timeout");
        let phone = Phone {
            sock: Arc::new(sock),
            received: Arc::default(),
            remote: Arc::default(),
            stop: Arc::default(),
            seq: Arc::new(Mutex::new((1000, 0))),
            started: Instant::now(),
            outgoing: Arc::default(),
            ssrc: Arc::new(AtomicU32::new(SSRC)),
        };
        phone.spawn_receiver();
        phone.spawn_silence_sender();
        phone
    }

    /// The port to put in the SDP offer.
    pub fn port(&self) -> u16 {
        self.sock.local_addr().expect("addr").port()
    }

    fn spawn_receiver(&self) {
        let (sock, received, remote, stop, started) =
            (self.sock.clone(), self.received.clone(), self.remote.clone(), self.stop.clone(), self.started);
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
                if n < 12 || buf[0] >> 6 != 2 {
                    continue;
                }
                remote.lock().unwrap().get_or_insert(from);
                let cc = (buf[0] & 0x0f) as usize;
                let start = 12 + 4 * cc;
                if start > n {
                    continue;
                }
                received.lock().unwrap().push(Received {
                    at: started.elapsed(),
                    pt: buf[1] & 0x7f,
                    marker: buf[1] & 0x80 != 0,
                    seq: u16::from_be_bytes([buf[2], buf[3]]),
                    ts: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
                    payload: buf[start..n].to_vec(),
                });
            }
        });
    }

    /// Like a phone: 20 ms PCMU frames to the runtime once its address is known — silence, or
    /// the audio queued by [`Phone::speak`].
    fn spawn_silence_sender(&self) {
        let (sock, remote, stop, seq) = (self.sock.clone(), self.remote.clone(), self.stop.clone(), self.seq.clone());
        let (outgoing, ssrc) = (self.outgoing.clone(), self.ssrc.clone());
        std::thread::spawn(move || {
            let mut next = Instant::now();
            let mut talking = false;
            while !stop.load(Ordering::Relaxed) {
                next += Duration::from_millis(20);
                if let Some(to) = *remote.lock().unwrap() {
                    let frame = outgoing.lock().unwrap().pop_front();
                    let marker = frame.is_some() && !talking;
                    talking = frame.is_some();
                    let mut s = seq.lock().unwrap();
                    s.0 = s.0.wrapping_add(1);
                    s.1 = s.1.wrapping_add(160);
                    let pkt = rtp_ssrc(0, marker, s.0, s.1, ssrc.load(Ordering::Relaxed), &frame.unwrap_or([0xffu8; 160]));
                    drop(s);
                    let _ = sock.send_to(&pkt, to);
                }
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        });
    }

    /// Waits until the runtime has sent RTP (so its address is known).
    pub fn wait_for_media(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.remote.lock().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Presses a key: RFC 4733 event packets (payload type 101) for ~100 ms, then the three
    /// end-of-event packets, as phones do.
    pub fn press(&self, digit: char) {
        let event = match digit {
            '0'..='9' => digit as u8 - b'0',
            '*' => 10,
            '#' => 11,
            _ => panic!("not a key: {digit}"),
        };
        let to = self.remote.lock().unwrap().expect("runtime RTP address unknown: call wait_for_media first");
        let ts = {
            let mut s = self.seq.lock().unwrap();
            s.1 = s.1.wrapping_add(160);
            s.1
        };
        for i in 0..8u16 {
            let end = i >= 5;
            let duration: u16 = 160 * (i.min(4) + 1);
            let payload = [event, if end { 0x80 | 10 } else { 10 }, (duration >> 8) as u8, duration as u8];
            let seq = {
                let mut s = self.seq.lock().unwrap();
                s.0 = s.0.wrapping_add(1);
                s.0
            };
            let _ = self.sock.send_to(&rtp_ssrc(101, i == 0, seq, ts, self.ssrc.load(Ordering::Relaxed), &payload), to);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Decoded audio the runtime sent (PCMU/PCMA only), as 8 kHz samples in arrival order.
    pub fn audio(&self) -> Vec<i16> {
        let rx = self.received.lock().unwrap();
        let mut out = Vec::new();
        for p in rx.iter() {
            match p.pt {
                0 => out.extend(p.payload.iter().map(|b| ulaw_decode(*b))),
                8 => out.extend(p.payload.iter().map(|b| alaw_decode(*b))),
                _ => {}
            }
        }
        out
    }

    /// Seconds of speech-like audio (20 ms frames whose RMS is above a quiet-room level).
    pub fn speech_seconds(&self) -> f64 {
        speech_seconds_of(&self.audio())
    }

    /// When the last speech-like packet arrived (relative to the phone's start), if any.
    pub fn last_speech_at(&self) -> Option<Duration> {
        let rx = self.received.lock().unwrap();
        rx.iter()
            .rev()
            .find(|p| {
                let samples: Vec<i16> = match p.pt {
                    0 => p.payload.iter().map(|b| ulaw_decode(*b)).collect(),
                    8 => p.payload.iter().map(|b| alaw_decode(*b)).collect(),
                    _ => return false,
                };
                rms(&samples) > SPEECH_RMS
            })
            .map(|p| p.at)
    }

    /// Waits until the runtime has said at least `min_speech` more seconds of speech than
    /// `since` (a [`Phone::speech_seconds`] reading) and then stayed quiet for `quiet` — the
    /// prompt is over and the flow waits for the caller. Returns the speech seconds then, or
    /// `None` on timeout.
    pub fn wait_prompt_end(&self, since: f64, min_speech: f64, quiet: Duration, within: Duration) -> Option<f64> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let now = self.speech_seconds();
            if now >= since + min_speech
                && let Some(last) = self.last_speech_at()
                && self.started.elapsed().saturating_sub(last) >= quiet
            {
                return Some(now);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Talks: queues 8 kHz samples to be sent as 20 ms PCMU frames (instead of silence) at the
    /// phone's normal pace; returns how long the speech lasts.
    pub fn speak(&self, samples: &[i16]) -> Duration {
        let mut q = self.outgoing.lock().unwrap();
        let mut frames = 0u64;
        for chunk in samples.chunks(160) {
            let mut f = [0xffu8; 160];
            for (o, s) in f.iter_mut().zip(chunk) {
                *o = ulaw_encode(*s);
            }
            q.push_back(f);
            frames += 1;
        }
        Duration::from_millis(frames * 20)
    }

    /// Whether queued speech has all been sent.
    pub fn done_speaking(&self) -> bool {
        self.outgoing.lock().unwrap().is_empty()
    }

    /// The runtime's RTP address (known after [`Phone::wait_for_media`]).
    pub fn remote(&self) -> Option<SocketAddr> {
        *self.remote.lock().unwrap()
    }

    /// Sends raw bytes from the phone's RTP socket to the runtime's RTP address (abuse tests).
    pub fn send_raw(&self, bytes: &[u8]) {
        let to = self.remote().expect("runtime RTP address unknown: call wait_for_media first");
        let _ = self.sock.send_to(bytes, to);
    }

    /// Sends one well-formed RTP packet with the phone's next sequence number and timestamp but
    /// any payload type and payload (abuse tests: wrong payload type, oversized packets).
    pub fn send_packet(&self, pt: u8, payload: &[u8]) {
        let (seq, ts) = {
            let mut s = self.seq.lock().unwrap();
            s.0 = s.0.wrapping_add(1);
            s.1 = s.1.wrapping_add(160);
            (s.0, s.1)
        };
        self.send_raw(&rtp_ssrc(pt, false, seq, ts, self.ssrc.load(Ordering::Relaxed), payload));
    }

    /// Switches the SSRC of everything sent from now on (a phone restarting its stream).
    pub fn change_ssrc(&self, ssrc: u32) {
        self.ssrc.store(ssrc, Ordering::Relaxed);
    }

    /// Number of packets received so far.
    pub fn packets(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Root-mean-square level of samples.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// An RTP packet (version 2, no CSRCs, no extension).
pub fn rtp_ssrc(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt | if marker { 0x80 } else { 0 }];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// Linear to G.711 µ-law (ITU-T G.711, with the usual bias and clip).
pub fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    let s = s.min(CLIP) + BIAS;
    let exponent = (7 - (s.leading_zeros() as i32 - 17)).clamp(0, 7);
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as i32 | mantissa) as u8
}

/// Seconds of speech-like audio in 8 kHz samples (20 ms frames above the quiet-room level), the
/// measure [`Phone::speech_seconds`] uses, for comparing with synthesized reference audio.
pub fn speech_seconds_of(samples: &[i16]) -> f64 {
    samples.chunks(160).filter(|f| rms(f) > SPEECH_RMS).count() as f64 * 0.02
}

/// RMS above which a 20 ms frame counts as speech rather than silence or line noise.
pub const SPEECH_RMS: f64 = 300.0;

/// G.711 µ-law to linear (ITU-T G.711).
pub fn ulaw_decode(b: u8) -> i16 {
    let u = !b;
    let sign = u & 0x80;
    let exponent = (u >> 4) & 0x07;
    let mantissa = u & 0x0f;
    let magnitude = ((i32::from(mantissa) << 3) + 0x84) << exponent;
    let v = magnitude - 0x84;
    (if sign != 0 { -v } else { v }) as i16
}

/// G.711 A-law to linear (ITU-T G.711).
pub fn alaw_decode(b: u8) -> i16 {
    let a = b ^ 0x55;
    let sign = a & 0x80;
    let exponent = (a >> 4) & 0x07;
    let mantissa = i32::from(a & 0x0f);
    let magnitude = if exponent == 0 { (mantissa << 4) + 8 } else { ((mantissa << 4) + 0x108) << (exponent - 1) };
    (if sign != 0 { magnitude } else { -magnitude }) as i16
}

#[test]
fn ulaw_encoding_round_trips_within_quantisation_error() {
    for x in (-32000i32..32000).step_by(97) {
        let x = x as i16;
        let y = ulaw_decode(ulaw_encode(x));
        let err = (i32::from(x) - i32::from(y)).abs();
        assert!(err <= (i32::from(x).abs() / 16).max(8), "{x} -> {y}");
    }
}
