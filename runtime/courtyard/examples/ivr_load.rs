//! Load generator for the IVR benchmark (not a test): N concurrent calls through a running
//! courtyard, each a real SIP dialog over UDP (INVITE → 200 → ACK … BYE) with RTP both ways
//! (G.711 µ-law, 20 ms) and one RFC 4733 digit, measuring what a caller experiences.
//!
//! Why not SIPp: SIPp can play a pcap but cannot timestamp the audio it *receives*, and the
//! figures asked for (INVITE → first prompt audio packet, jitter of the runtime's RTP as it
//! arrives) are about received audio; SIPp's pcap playback also runs one thread per call.
//! This generator shares one sender task and a few RTP sockets among all calls, so it costs
//! far less CPU than the runtime it measures (it runs on the same two cores). Its RTP sockets are
//! read at its own 20 ms tick, not on readiness, with the kernel's arrival stamp per packet
//! (`SO_TIMESTAMPNS`), 32 datagrams per recvmmsg, and a socket's packets go out with one
//! sendmmsg per tick: callers on other machines cost this machine nothing, so the stand-in for
//! them should cost as little as it can (it shares the two cores with the runtime it measures).
//! Like real phones, the calls are not in step: each socket sends in its own millisecond of
//! the 20 ([`PHASES`]).
//!
//! `cargo run --release -p courtyard --example ivr_load -- --sip 127.0.0.1:5060 --concurrent 500`
//! Options: --number 4008123456 --digit 1 --digit-at 2.5 --hold 6 --seconds 30
//! --callers FILE (one number per line, cycled) --pid PID (server, for CPU/RSS)
//! --prefix P (Call-IDs are `P<n>@127.0.0.1`, to find this run's CDRs) --threads 1 (tokio workers)
//! --limit N (at most N calls at once, as SIPp's `-l`: a call due while N are up waits for one to
//! end; 0 = no limit, calls start on schedule however long the others take).
//! Prints one `RESULT {json}` line at the end.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::net::UdpSocket;

const CALLS_PER_RTP_SOCKET: usize = 64;
/// The 20 ms are split into this many phases, one per millisecond, and each RTP socket's calls
/// send at their socket's phase. Real callers' phones are not in step; a generator sending
/// every call's packet in the same instant made the receiving CPU's softirq work through ~1000
/// datagrams at once, which the kernel hands to `ksoftirqd` — measured running 5–16 ms at a time
/// at 1000 calls and holding the runtime's media thread off the CPU for up to 10 ms
/// (docs/benchmarks.md, session 7).
const PHASES: usize = 20;
const JITTER_BUCKET_US: u64 = 100;
const JITTER_BUCKETS: usize = 1000; // up to 100 ms

struct Opts {
    sip: SocketAddr,
    number: String,
    digit: char,
    digit_at: f64,
    hold: f64,
    concurrent: usize,
    seconds: f64,
    callers: Vec<String>,
    pid: Option<u32>,
    prefix: String,
    threads: usize,
    limit: usize,
}

fn opts() -> Opts {
    let mut o = Opts {
        sip: "127.0.0.1:5060".parse().expect("static"),
        number: "4008123456".into(),
        digit: '1',
        digit_at: 2.5,
        hold: 6.0,
        concurrent: 100,
        seconds: 30.0,
        callers: vec!["13800138000".into()],
        pid: None,
        prefix: "load-".into(),
        threads: 1,
        limit: 0,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < args.len() + 1 {
        let Some(k) = args.get(i) else { break };
        let v = args.get(i + 1).cloned().unwrap_or_default();
        match k.as_str() {
            "--sip" => o.sip = v.parse().expect("--sip host:port"),
            "--number" => o.number = v,
            "--digit" => o.digit = v.chars().next().unwrap_or('1'),
            "--digit-at" => o.digit_at = v.parse().expect("--digit-at seconds"),
            "--hold" => o.hold = v.parse().expect("--hold seconds"),
            "--concurrent" => o.concurrent = v.parse().expect("--concurrent N"),
            "--seconds" => o.seconds = v.parse().expect("--seconds S"),
            "--pid" => o.pid = v.parse().ok(),
            "--prefix" => o.prefix = v,
            "--threads" => o.threads = v.parse().expect("--threads N"),
            "--limit" => o.limit = v.parse().expect("--limit N"),
            "--callers" => {
                let text = std::fs::read_to_string(&v).expect("--callers file");
                o.callers = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
                assert!(!o.callers.is_empty(), "--callers file is empty");
            }
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    o
}

/// What the receiver learns about one call's incoming audio.
#[derive(Default)]
struct Rx {
    first_audio: Option<Instant>,
    last: Option<Instant>,
    packets: u64,
    /// RFC 3550 §6.4.1 / A.8: the previous audio packet's timestamp and arrival, and the
    /// interarrival jitter estimate J (µs), as a phone or Wireshark computes it.
    transit: Option<(u32, Instant)>,
    jitter_us: f64,
    /// The largest J this call reached.
    jitter_max_us: f64,
}

/// One call's outgoing RTP state, driven by the shared sender.
struct Tx {
    group: usize,
    remote: SocketAddr,
    seq: u16,
    ts: u32,
    ssrc: u32,
    /// Ticks of RFC 4733 event left to send (6 = start), with the event's timestamp.
    dtmf: Option<(u8, u8, u32)>,
}

struct Shared {
    /// Shared RTP sockets (non-blocking, not registered with tokio; read at the sender's tick).
    rtp: Vec<std::net::UdpSocket>,
    /// Remote (runtime) RTP port → receive state.
    by_port: RwLock<HashMap<u16, Arc<Mutex<Rx>>>>,
    /// Calls currently sending RTP.
    tx: Mutex<HashMap<u64, Tx>>,
    /// |inter-arrival − 20 ms| of every packet.
    jitter: Hist,
    /// RFC 3550 interarrival jitter J of the runtime's stream, sampled at every packet.
    rfc3550: Hist,
    rtp_sent: AtomicU64,
    rtp_received: AtomicU64,
    /// INVITE sent → 200 OK received, per answered call: the SIP part of the set-up.
    answer_ms: Mutex<Vec<f64>>,
    /// Each finished call's largest RFC 3550 jitter, ms.
    jitter_max_ms: Mutex<Vec<f64>>,
}

/// A histogram of 0.1 ms buckets up to 100 ms, shared by the receive threads.
struct Hist(Vec<AtomicU64>);

impl Hist {
    fn new() -> Hist {
        Hist((0..JITTER_BUCKETS).map(|_| AtomicU64::new(0)).collect())
    }

    fn record_us(&self, us: u64) {
        let i = ((us / JITTER_BUCKET_US) as usize).min(JITTER_BUCKETS - 1);
        self.0[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The `p` quantile, ms (bucket upper bound).
    fn pct(&self, p: f64) -> f64 {
        let counts: Vec<u64> = self.0.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let want = ((total as f64) * p).ceil() as u64;
        let mut acc = 0;
        for (i, c) in counts.iter().enumerate() {
            acc += c;
            if acc >= want {
                return ((i as u64 + 1) * JITTER_BUCKET_US) as f64 / 1000.0;
            }
        }
        (JITTER_BUCKETS as u64 * JITTER_BUCKET_US) as f64 / 1000.0
    }
}

/// µ-law encoding of one 16-bit sample (ITU-T G.711), so the caller's audio is real speech-band
/// signal rather than a constant byte.
fn ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = (s + BIAS).min(32_635 + BIAS);
    let mut exp = 7;
    let mut mask = 0x4000;
    while exp > 0 && s & mask == 0 {
        exp -= 1;
        mask >>= 1;
    }
    let mant = (s >> (exp + 3)) & 0x0f;
    !(sign | (exp << 4) as i32 | mant) as u8
}

fn ulaw_energy(payload: &[u8]) -> bool {
    // Decoded magnitude above ~-40 dBFS in any sample: speech, not comfort silence.
    payload.iter().any(|&b| {
        let b = !b;
        let exp = (b >> 4) & 7;
        let mant = i32::from(b & 0x0f);
        let mag = (((mant << 3) + 0x84) << exp) - 0x84;
        mag > 300
    })
}

fn proc_cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:").and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok()))
        .unwrap_or(0)
}

#[derive(Default)]
struct Tally {
    started: AtomicUsize,
    answered: AtomicUsize,
    ok: AtomicUsize,
    failed: AtomicUsize,
    active: AtomicUsize,
    max_active: AtomicUsize,
    reasons: Mutex<HashMap<String, usize>>,
    first_audio_ms: Mutex<Vec<f64>>,
    call_ids: Mutex<Vec<String>>,
}

impl Tally {
    fn fail(&self, why: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        *self.reasons.lock().entry(why).or_default() += 1;
    }
}

fn header<'a>(msg: &'a str, names: &[&str]) -> Option<&'a str> {
    msg.split("\r\n").skip(1).take_while(|l| !l.is_empty()).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        names.iter().any(|x| n.trim().eq_ignore_ascii_case(x)).then(|| v.trim())
    })
}

fn sdp_addr(msg: &str) -> Option<SocketAddr> {
    let body = msg.split_once("\r\n\r\n")?.1;
    let ip: IpAddr = body.lines().find_map(|l| l.trim().strip_prefix("c=IN IP4 "))?.trim().parse().ok()?;
    let port: u16 = body.lines().find_map(|l| l.trim().strip_prefix("m=audio "))?.split(' ').next()?.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

fn ok_for(req: &str) -> String {
    let mut out = String::from("SIP/2.0 200 OK\r\n");
    for l in req.split("\r\n").skip(1).take_while(|l| !l.is_empty()) {
        let n = l.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        if ["via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"].contains(&n.as_str()) {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

/// Sends `req` and waits for a final response to `method`, retransmitting (RFC 3261 timer A)
/// until a provisional arrives. Answers BYEs from the runtime in the meantime.
async fn transact(sock: &UdpSocket, to: SocketAddr, req: &str, method: &str, wait: Duration) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut rto = Duration::from_millis(500);
    let mut next = tokio::time::Instant::now() + rto;
    let mut provisional = false;
    let mut buf = vec![0u8; 8192];
    sock.send_to(req.as_bytes(), to).await.map_err(|e| format!("send: {e}"))?;
    loop {
        let until = if provisional { deadline } else { next.min(deadline) };
        match tokio::time::timeout_at(until, sock.recv_from(&mut buf)).await {
            Ok(Ok((n, _))) => {
                let msg = String::from_utf8_lossy(&buf[..n]).to_string();
                if msg.starts_with("BYE ") {
                    let _ = sock.send_to(ok_for(&msg).as_bytes(), to).await;
                    continue;
                }
                let Some(code) = msg.get(8..11).and_then(|c| c.parse::<u16>().ok()) else { continue };
                if !header(&msg, &["CSeq"]).is_some_and(|c| c.ends_with(method)) {
                    continue;
                }
                if code < 200 {
                    provisional = true;
                    continue;
                }
                return Ok(msg);
            }
            Ok(Err(e)) => return Err(format!("recv: {e}")),
            Err(_) => {
                if tokio::time::Instant::now() >= deadline {
                    return Err(format!("{method} timeout"));
                }
                sock.send_to(req.as_bytes(), to).await.map_err(|e| format!("send: {e}"))?;
                rto = (rto * 2).min(Duration::from_secs(4));
                next = tokio::time::Instant::now() + rto;
            }
        }
    }
}

async fn call(n: u64, o: Arc<Opts>, sh: Arc<Shared>, tally: Arc<Tally>, _slot: Option<tokio::sync::OwnedSemaphorePermit>) {
    let caller = o.callers[(n as usize) % o.callers.len()].clone();
    let group = (n as usize) % sh.rtp.len();
    let rtp_port = sh.rtp[group].local_addr().map(|a| a.port()).unwrap_or(0);
    let sock = match UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await {
        Ok(s) => s,
        Err(e) => return tally.fail(format!("bind: {e}")),
    };
    let local = sock.local_addr().map(|a| a.port()).unwrap_or(0);
    let call_id = format!("{}{n}@127.0.0.1", o.prefix);
    let tag = format!("t{n}");
    let sdp = format!(
        "v=0\r\no=load {n} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
    );
    let from = format!("<sip:{caller}@127.0.0.1:{local}>;tag={tag}");
    let invite = format!(
        "INVITE sip:{num}@{srv} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{n}i;rport\r\nFrom: {from}\r\nTo: <sip:{num}@{srv}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:{caller}@127.0.0.1:{local}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{sdp}",
        num = o.number,
        srv = o.sip,
        len = sdp.len()
    );
    tally.started.fetch_add(1, Ordering::Relaxed);
    let active = tally.active.fetch_add(1, Ordering::Relaxed) + 1;
    tally.max_active.fetch_max(active, Ordering::Relaxed);
    let t0 = Instant::now();
    let result = run_call(&o, &sh, &sock, &invite, &call_id, &from, local, group, n, t0).await;
    tally.active.fetch_sub(1, Ordering::Relaxed);
    match result {
        Ok(first_audio) => {
            tally.answered.fetch_add(1, Ordering::Relaxed);
            tally.ok.fetch_add(1, Ordering::Relaxed);
            tally.first_audio_ms.lock().push(first_audio);
            tally.call_ids.lock().push(call_id);
        }
        Err((answered, why)) => {
            if answered {
                tally.answered.fetch_add(1, Ordering::Relaxed);
            }
            tally.fail(why);
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_call(
    o: &Opts,
    sh: &Shared,
    sock: &UdpSocket,
    invite: &str,
    call_id: &str,
    from: &str,
    local: u16,
    group: usize,
    n: u64,
    t0: Instant,
) -> Result<f64, (bool, String)> {
    let resp = transact(sock, o.sip, invite, "INVITE", Duration::from_secs(32)).await.map_err(|e| (false, e))?;
    let code: u16 = resp.get(8..11).and_then(|c| c.parse().ok()).unwrap_or(0);
    let to = header(&resp, &["To", "t"]).unwrap_or_default().to_string();
    if code != 200 {
        let ack = format!(
            "ACK sip:{}@{} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{n}i;rport\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            o.number, o.sip
        );
        let _ = sock.send_to(ack.as_bytes(), o.sip).await;
        return Err((false, format!("INVITE got {code}")));
    }
    let contact = header(&resp, &["Contact", "m"])
        .and_then(|c| c.split_once('<').and_then(|(_, r)| r.split_once('>')).map(|(u, _)| u.to_string()))
        .unwrap_or_else(|| format!("sip:{}@{}", o.number, o.sip));
    let Some(remote) = sdp_addr(&resp) else { return Err((true, "200 without usable SDP".into())) };
    let in_dialog = |method: &str, cseq: u32, branch: &str| {
        format!(
            "{method} {contact} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{n}{branch};rport\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
    };
    let ack = in_dialog("ACK", 1, "a");
    let _ = sock.send_to(ack.as_bytes(), o.sip).await;
    let answered = Instant::now();
    sh.answer_ms.lock().push((answered - t0).as_secs_f64() * 1000.0);
    let rx = Arc::new(Mutex::new(Rx::default()));
    sh.by_port.write().insert(remote.port(), rx.clone());
    sh.tx.lock().insert(n, Tx { group, remote, seq: (n as u16).wrapping_mul(7), ts: 0, ssrc: 0x5eed_0000 ^ n as u32, dtmf: None });

    // During the call: answer a BYE from the runtime (flow ended), re-ACK a retransmitted 200.
    let mut buf = vec![0u8; 8192];
    let mut digit_sent = false;
    let mut remote_bye = false;
    let hold_end = answered + Duration::from_secs_f64(o.hold);
    let digit_at = answered + Duration::from_secs_f64(o.digit_at);
    while Instant::now() < hold_end {
        let wake = if digit_sent { hold_end } else { digit_at.min(hold_end) };
        if let Ok(Ok((len, _))) = tokio::time::timeout_at(wake.into(), sock.recv_from(&mut buf)).await {
            let msg = String::from_utf8_lossy(&buf[..len]).to_string();
            if msg.starts_with("BYE ") {
                let _ = sock.send_to(ok_for(&msg).as_bytes(), o.sip).await;
                remote_bye = true;
                break;
            } else if msg.starts_with("SIP/2.0 200") {
                let _ = sock.send_to(ack.as_bytes(), o.sip).await;
            }
        }
        if !digit_sent && Instant::now() >= digit_at {
            digit_sent = true;
            if let Some(tx) = sh.tx.lock().get_mut(&n) {
                let d = match o.digit {
                    '0'..='9' => o.digit as u8 - b'0',
                    '*' => 10,
                    _ => 11,
                };
                tx.dtmf = Some((d, 6, tx.ts));
            }
        }
    }
    sh.tx.lock().remove(&n);
    let mut result = Ok(());
    if !remote_bye {
        let bye = in_dialog("BYE", 2, "b");
        match transact(sock, o.sip, &bye, "BYE", Duration::from_secs(8)).await {
            Ok(r) if r.starts_with("SIP/2.0 200") => {}
            Ok(r) => result = Err(format!("BYE got {}", r.get(8..11).unwrap_or("?"))),
            Err(e) => result = Err(e),
        }
    }
    sh.by_port.write().remove(&remote.port());
    let (first, jmax) = {
        let rx = rx.lock();
        (rx.first_audio, rx.jitter_max_us)
    };
    sh.jitter_max_ms.lock().push(jmax / 1000.0);
    result.map_err(|e| (true, e))?;
    match first {
        Some(t) => Ok((t - t0).as_secs_f64() * 1000.0),
        None => Err((true, "no prompt audio heard".into())),
    }
}

/// One task sends a 20 ms packet for every call each tick (audio, or the digit's RFC 4733
/// packets: three updates and three end packets).
async fn sender(sh: Arc<Shared>) {
    let mut tone = [0u8; 160];
    for (i, b) in tone.iter_mut().enumerate() {
        let t = i as f64 / 8000.0;
        *b = ulaw(((2.0 * std::f64::consts::PI * 425.0 * t).sin() * 6000.0) as i16);
    }
    // One sub-tick per millisecond; a socket's calls send at its phase of the 20 ms.
    let mut tick = tokio::time::interval(Duration::from_millis(20 / PHASES as u64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut buf = vec![0u8; BATCH * SLOT];
    // This sub-tick's packets, per RTP socket: sent with one sendmmsg per socket.
    let mut out: Vec<Vec<(Vec<u8>, SocketAddr)>> = (0..sh.rtp.len()).map(|_| Vec::new()).collect();
    let mut sub = 0usize;
    loop {
        tick.tick().await;
        sub = (sub + 1) % PHASES;
        if sub == 0 {
            for s in &sh.rtp {
                drain(&sh, s, &mut buf);
            }
        }
        {
            let mut calls = sh.tx.lock();
            for tx in calls.values_mut().filter(|tx| tx.group % PHASES == sub) {
                let mut pkt = Vec::with_capacity(12 + 160);
                let (pt, marker) = match tx.dtmf {
                    Some((_, left, _)) => (101u8, left == 6),
                    None => (0u8, false),
                };
                pkt.push(0x80);
                pkt.push(pt | if marker { 0x80 } else { 0 });
                pkt.extend_from_slice(&tx.seq.to_be_bytes());
                let ts = tx.dtmf.map(|(_, _, ts)| ts).unwrap_or(tx.ts);
                pkt.extend_from_slice(&ts.to_be_bytes());
                pkt.extend_from_slice(&tx.ssrc.to_be_bytes());
                match &mut tx.dtmf {
                    Some((digit, left, _)) => {
                        let step = 7 - u16::from(*left); // 1..=6
                        let end = *left <= 3;
                        let dur: u16 = 160 * step.min(4);
                        pkt.push(*digit);
                        pkt.push(if end { 0x80 | 10 } else { 10 });
                        pkt.extend_from_slice(&dur.to_be_bytes());
                        *left -= 1;
                        if *left == 0 {
                            tx.dtmf = None;
                        }
                    }
                    None => pkt.extend_from_slice(&tone),
                }
                tx.seq = tx.seq.wrapping_add(1);
                tx.ts = tx.ts.wrapping_add(160);
                out[tx.group].push((pkt, tx.remote));
            }
        }
        for (sock, batch) in sh.rtp.iter().zip(out.iter_mut()).skip(sub).step_by(PHASES) {
            let sent = send_batch(sock, batch);
            sh.rtp_sent.fetch_add(sent as u64, Ordering::Relaxed);
            batch.clear();
        }
    }
}

/// Datagrams per recvmmsg, and the buffer slot of each.
const BATCH: usize = 32;
const SLOT: usize = 2048;

/// Sends a tick's packets of one socket with sendmmsg (one system call instead of one per call:
/// remote callers' phones would not cost this machine's kernel anything); returns how many went.
fn send_batch(sock: &std::net::UdpSocket, batch: &[(Vec<u8>, SocketAddr)]) -> usize {
    use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrIn, sendmmsg};
    use std::os::fd::AsRawFd;
    let mut sent = 0;
    for chunk in batch.chunks(BATCH) {
        let iovs: Vec<[std::io::IoSlice<'_>; 1]> = chunk.iter().map(|(p, _)| [std::io::IoSlice::new(p)]).collect();
        let addrs: Vec<Option<SockaddrIn>> = chunk
            .iter()
            .map(|(_, a)| match a {
                SocketAddr::V4(a) => Some(SockaddrIn::from(*a)),
                SocketAddr::V6(_) => None,
            })
            .collect();
        let mut headers = MultiHeaders::<SockaddrIn>::preallocate(chunk.len(), None);
        if let Ok(r) = sendmmsg(sock.as_raw_fd(), &mut headers, &iovs, &addrs, [], MsgFlags::MSG_DONTWAIT) {
            sent += r.count();
        }
    }
    sent
}

/// Takes what one RTP socket received since the last tick ([`BATCH`] per recvmmsg), each
/// datagram with the time the kernel queued it.
fn drain(sh: &Shared, sock: &std::net::UdpSocket, buf: &mut [u8]) {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg};
    use std::os::fd::AsRawFd;
    let clock = courtyard_media::socket::Clock::now();
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, Some(nix::cmsg_space!(nix::sys::time::TimeSpec)));
    loop {
        let mut slots = buf.chunks_mut(SLOT);
        let mut iovs: Vec<[std::io::IoSliceMut<'_>; 1]> = (0..BATCH).map_while(|_| slots.next()).map(|b| [std::io::IoSliceMut::new(b)]).collect();
        let Ok(got) = recvmmsg(sock.as_raw_fd(), &mut headers, iovs.iter_mut(), MsgFlags::MSG_DONTWAIT, None) else { return };
        let mut n = 0;
        for msg in got {
            n += 1;
            let Some(from_port) = msg.address.and_then(|a| a.as_sockaddr_in().map(|a| a.port())) else { continue };
            let mut arrived = None;
            for c in msg.cmsgs().into_iter().flatten() {
                if let ControlMessageOwned::ScmTimestampns(ts) = c {
                    arrived = Some(clock.instant_of(Duration::new(ts.tv_sec().max(0) as u64, ts.tv_nsec().max(0) as u32)));
                }
            }
            on_rtp(sh, msg.iovs().next().unwrap_or_default(), from_port, arrived.unwrap_or_else(Instant::now));
        }
        if n < BATCH {
            return;
        }
    }
}

fn on_rtp(sh: &Shared, buf: &[u8], from_port: u16, now: Instant) {
    if buf.len() < 12 || buf[0] >> 6 != 2 {
        return;
    }
    sh.rtp_received.fetch_add(1, Ordering::Relaxed);
    let Some(rx) = sh.by_port.read().get(&from_port).cloned() else { return };
    let mut rx = rx.lock();
    rx.packets += 1;
    if let Some(last) = rx.last {
        sh.jitter.record_us((now.saturating_duration_since(last).as_micros() as i64 - 20_000).unsigned_abs());
    }
    rx.last = Some(now);
    // RFC 3550 A.8 on the runtime's audio stream (8 kHz clock): D = difference of relative
    // transit times of consecutive packets, J += (|D| − J) / 16.
    if buf[1] & 0x7f == 0 {
        let ts = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        if let Some((prev_ts, prev_at)) = rx.transit
            && ts.wrapping_sub(prev_ts) < 8000 * 5
        {
            // Wrapping differences: a stream's random first timestamp may wrap mid-call.
            let d = now.saturating_duration_since(prev_at).as_secs_f64() * 1e6 - ts.wrapping_sub(prev_ts) as f64 * 125.0;
            rx.jitter_us += (d.abs() - rx.jitter_us) / 16.0;
            rx.jitter_max_us = rx.jitter_max_us.max(rx.jitter_us);
            sh.rfc3550.record_us(rx.jitter_us as u64);
        }
        rx.transit = Some((ts, now));
    }
    if rx.first_audio.is_none() && buf[1] & 0x7f == 0 && ulaw_energy(&buf[12..]) {
        rx.first_audio = Some(now);
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[(((v.len() as f64) * p).ceil() as usize).clamp(1, v.len()) - 1]
}

fn main() {
    let o = Arc::new(opts());
    // One thread by default: the generator shares the machine with the runtime it measures, and a
    // multi-threaded runtime's idle workers spin looking for work (they cost the runtime CPU).
    let rt = if o.threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(o.threads).enable_all().build()
    }
    .expect("tokio runtime");
    rt.block_on(async move {
        // A multiple of the phases, so every millisecond sends about as many packets.
        let groups = (o.concurrent.div_ceil(CALLS_PER_RTP_SOCKET).max(1) * 2).next_multiple_of(PHASES);
        let mut rtp = Vec::new();
        for _ in 0..groups {
            let s = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind RTP");
            s.set_nonblocking(true).expect("non-blocking");
            nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::ReceiveTimestampns, &true).expect("SO_TIMESTAMPNS");
            rtp.push(s);
        }
        let sh = Arc::new(Shared {
            rtp,
            by_port: RwLock::new(HashMap::new()),
            tx: Mutex::new(HashMap::new()),
            jitter: Hist::new(),
            rfc3550: Hist::new(),
            rtp_sent: AtomicU64::new(0),
            rtp_received: AtomicU64::new(0),
            answer_ms: Mutex::new(Vec::new()),
            jitter_max_ms: Mutex::new(Vec::new()),
        });
        tokio::spawn(sender(sh.clone()));
        let tally = Arc::new(Tally::default());
        let rate = o.concurrent as f64 / o.hold;
        let total = (rate * o.seconds).round().max(1.0) as u64;
        let gap = Duration::from_secs_f64(1.0 / rate);
        let start = Instant::now();
        // Steady-state window for server CPU: from one hold time after the start to the last INVITE.
        let window_from = Duration::from_secs_f64(o.hold.min(o.seconds / 2.0));
        let mut cpu_mark: Option<(Instant, u64, u64)> = None;
        let mut rss_peak = 0;
        let mut tasks = Vec::with_capacity(total as usize);
        let clk = tokio::time::Instant::now();
        let slots = (o.limit > 0).then(|| Arc::new(tokio::sync::Semaphore::new(o.limit)));
        let mut waited_for_limit = 0u64;
        for n in 0..total {
            tokio::time::sleep_until(clk + gap * n as u32).await;
            let slot = match &slots {
                None => None,
                Some(s) => match s.clone().try_acquire_owned() {
                    Ok(p) => Some(p),
                    Err(_) => {
                        waited_for_limit += 1;
                        s.clone().acquire_owned().await.ok()
                    }
                },
            };
            if let Some(pid) = o.pid {
                if cpu_mark.is_none() && start.elapsed() >= window_from {
                    cpu_mark = Some((Instant::now(), proc_cpu_ticks(pid), proc_cpu_ticks(std::process::id())));
                }
                if n % 50 == 0 {
                    rss_peak = rss_peak.max(rss_kib(pid));
                }
            }
            tasks.push(tokio::spawn(call(n, o.clone(), sh.clone(), tally.clone(), slot)));
        }
        // CPU % over the steady-state window, of the server and of this generator (same machine).
        let (cpu, gen_cpu) = match (o.pid, cpu_mark) {
            (Some(pid), Some((at, ticks, own))) => {
                let secs = at.elapsed().as_secs_f64().max(0.001);
                let used = |now: u64, then: u64| 100.0 * (now.saturating_sub(then)) as f64 / 100.0 / secs;
                (Some(used(proc_cpu_ticks(pid), ticks)), Some(used(proc_cpu_ticks(std::process::id()), own)))
            }
            _ => (None, None),
        };
        let rss_at_load = o.pid.map(rss_kib).unwrap_or(0).max(rss_peak);
        let offered_secs = start.elapsed().as_secs_f64();
        for t in tasks {
            let _ = t.await;
        }
        let wall = start.elapsed().as_secs_f64();
        let ok = tally.ok.load(Ordering::Relaxed);
        let failed = tally.failed.load(Ordering::Relaxed);
        let mut fa = tally.first_audio_ms.lock().clone();
        let mut am = sh.answer_ms.lock().clone();
        let reasons = tally.reasons.lock().clone();
        let result = serde_json::json!({
            "concurrent_target": o.concurrent,
            "max_concurrent_seen": tally.max_active.load(Ordering::Relaxed),
            "limit": o.limit,
            "waited_for_limit": waited_for_limit,
            "calls": total,
            "ok": ok,
            "answered": tally.answered.load(Ordering::Relaxed),
            "failed": failed,
            "failure_reasons": reasons,
            "offered_cps": rate,
            "achieved_cps": ok as f64 / offered_secs.max(0.001),
            "wall_s": wall,
            "first_audio_ms_p50": pct(&mut fa, 0.5),
            "first_audio_ms_p99": pct(&mut fa, 0.99),
            "answer_ms_p50": pct(&mut am, 0.5),
            "answer_ms_p99": pct(&mut am, 0.99),
            "rx_gap_dev_ms_p50": sh.jitter.pct(0.5),
            "rx_gap_dev_ms_p99": sh.jitter.pct(0.99),
            "rfc3550_jitter_ms_p50": sh.rfc3550.pct(0.5),
            "rfc3550_jitter_ms_p99": sh.rfc3550.pct(0.99),
            "rfc3550_jitter_ms_p999": sh.rfc3550.pct(0.999),
            "rfc3550_call_max_jitter_ms_p99": pct(&mut sh.jitter_max_ms.lock().clone(), 0.99),
            "rfc3550_call_max_jitter_ms_max": pct(&mut sh.jitter_max_ms.lock().clone(), 1.0),
            "rtp_sent": sh.rtp_sent.load(Ordering::Relaxed),
            "rtp_received": sh.rtp_received.load(Ordering::Relaxed),
            "server_cpu_pct": cpu,
            "generator_cpu_pct": gen_cpu,
            "server_rss_kib": rss_at_load,
            "call_ids": if std::env::var("IVR_LOAD_CALL_IDS").is_ok() { serde_json::json!(*tally.call_ids.lock()) } else { serde_json::Value::Null },
        });
        println!("RESULT {result}");
    });
}
