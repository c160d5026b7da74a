//! A caller's RTP endpoint for end-to-end tests, written independently of the runtime's media
//! crate (so a bug there cannot hide itself): sends PCMU silence every 20 ms like a phone,
//! records what the runtime sends, and sends RFC 4733 telephone-events.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
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

    /// Like a phone: 20 ms PCMU frames of silence to the runtime once its address is known.
    fn spawn_silence_sender(&self) {
        let (sock, remote, stop, seq) = (self.sock.clone(), self.remote.clone(), self.stop.clone(), self.seq.clone());
        std::thread::spawn(move || {
            let mut next = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                next += Duration::from_millis(20);
                if let Some(to) = *remote.lock().unwrap() {
                    let mut s = seq.lock().unwrap();
                    s.0 = s.0.wrapping_add(1);
                    s.1 = s.1.wrapping_add(160);
                    let pkt = rtp(0, false, s.0, s.1, &[0xffu8; 160]);
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
            let _ = self.sock.send_to(&rtp(101, i == 0, seq, ts, &payload), to);
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
        let audio = self.audio();
        let frames = audio.chunks(160).filter(|f| rms(f) > 300.0).count();
        frames as f64 * 0.02
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

fn rtp(pt: u8, marker: bool, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt | if marker { 0x80 } else { 0 }];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&SSRC.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

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
