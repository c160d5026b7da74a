//! Shared harness for end-to-end tests: start the real `courtyard` binary on loopback with ports
//! the OS hands out, and drive it with real peers (SIPp, baresip) and real HTTP.

#![allow(dead_code)]

pub mod baresip;
pub mod caller;
pub mod restart;
pub mod rtp;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Root of the repository (tests/e2e is two levels below runtime/courtyard's manifest).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repo root")
}

/// Where `make plugins` leaves the shipped plugin components.
pub fn plugins_dir() -> PathBuf {
    repo_root().join("plugins/target/wasm32-wasip2/release")
}

/// A running `courtyard demo` process on loopback, killed on drop.
pub struct Runtime {
    child: Child,
    /// The data directory (a temp dir owned by the test).
    pub data: tempfile::TempDir,
    /// Actual SIP address (UDP and TCP).
    pub sip: SocketAddr,
    /// Actual HTTP address.
    pub http: SocketAddr,
    log: PathBuf,
}

impl Runtime {
    /// Starts `courtyard demo` with SIP and HTTP on 127.0.0.1 port 0, waits until it reports its
    /// addresses and `/healthz` answers 200.
    pub fn start_demo() -> Runtime {
        Self::start_demo_with(&[])
    }

    /// Like [`Runtime::start_demo`], with extra command-line arguments.
    pub fn start_demo_with(extra: &[&str]) -> Runtime {
        Self::start_demo_from(&plugins_dir(), extra)
    }

    /// Like [`Runtime::start_demo_with`], loading the demo's flow components from `plugins`.
    pub fn start_demo_from(plugins: &Path, extra: &[&str]) -> Runtime {
        let data = tempfile::tempdir().expect("temp data dir");
        share_plugin_cache(data.path());
        let log = data.path().join("courtyard.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_courtyard"))
            .arg("demo")
            .args(["--sip", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .arg("--data")
            .arg(data.path())
            .arg("--plugins")
            .arg(plugins)
            .args(extra)
            // Ports the OS hands out: runtimes of parallel tests must not take each other's recent
            // ports (a finished call's phone still sending there would latch the next call).
            .env("COURTYARD_RTP_PORTS", "any")
            .env("COURTYARD_LOG", "info,courtyard=debug")
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("spawn courtyard");
        let mut rt = Runtime { child, data, sip: "0.0.0.0:0".parse().unwrap(), http: "0.0.0.0:0".parse().unwrap(), log };
        rt.wait_for_addresses();
        rt.wait_healthy();
        rt
    }

    fn wait_for_addresses(&mut self) {
        // The binary prints `sip=<addr>` and `http=<addr>` lines on stdout once bound.
        let stdout = self.child.stdout.take().expect("stdout piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let (mut sip, mut http) = (None, None);
        while sip.is_none() || http.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(a) = line.strip_prefix("sip=") {
                        sip = a.trim().parse().ok();
                    } else if let Some(a) = line.strip_prefix("http=") {
                        http = a.trim().parse().ok();
                    }
                }
                Err(_) => panic!("courtyard did not report its addresses; log:\n{}", self.log_text()),
            }
        }
        self.sip = sip.unwrap();
        self.http = http.unwrap();
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((200, _)) = http_get(self.http, "/healthz", None) {
                return;
            }
            if Instant::now() > deadline {
                panic!("/healthz never answered 200; log:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The runtime's log so far (for assertion messages).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Logs in to the HTTP API as the demo admin and returns a bearer token.
    pub fn admin_token(&self) -> String {
        let body = r#"{"username":"admin","password":"admin-demo"}"#;
        let (code, text) = http_request(self.http, "POST", "/api/v1/auth/login", None, Some(body)).expect("login");
        assert_eq!(code, 200, "login failed: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).expect("login json");
        v["token"].as_str().expect("token in login answer").to_string()
    }

    /// Sends SIGTERM and waits for exit; returns the exit status code.
    pub fn terminate(mut self) -> Option<i32> {
        self.stop()
    }

    /// Like [`Runtime::terminate`], keeping the data directory to inspect the stopped node.
    pub fn stop(&mut self) -> Option<i32> {
        let pid = self.child.id() as i32;
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Points a fresh data directory's compiled-plugin cache at one directory shared by every test
/// runtime (and kept between runs), so each runtime does not compile the six demo flows again:
/// compiling is most of a runtime's start-up. It is the same directory `courtyard flow test` and
/// the flows crate's Python/JS tests use, so `make test` compiles each interpreter component
/// (≈ 20 s of CPU each) once instead of three times. The cache is keyed by component digest and engine
/// and written atomically; the harness creates its HMAC key once so all runtimes share it.
fn share_plugin_cache(data: &Path) {
    static KEY: std::sync::Once = std::sync::Once::new();
    let shared = std::env::temp_dir().join("courtyard-sim-cache");
    KEY.call_once(|| {
        std::fs::create_dir_all(&shared).expect("shared plugin cache dir");
        let key = shared.join("host.key");
        if std::fs::read(&key).map(|k| k.len() != 32).unwrap_or(true) {
            let mut k = [0u8; 32];
            std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut k)).expect("random key");
            let tmp = shared.join(format!("host.key.{}", std::process::id()));
            std::fs::write(&tmp, k).expect("write cache key");
            std::fs::rename(&tmp, &key).expect("install cache key");
        }
    });
    std::os::unix::fs::symlink(&shared, data.join("plugin-cache")).expect("link the shared plugin cache");
}

/// A minimal blocking HTTP/1.1 client (one request per connection) for API checks.
pub fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or("");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).to_string();
    let code = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = match text.find("\r\n\r\n") {
        Some(i) => decode_chunked_if_needed(&text[..i], &text[i + 4..]),
        None => String::new(),
    };
    Ok((code, body))
}

fn decode_chunked_if_needed(head: &str, body: &str) -> String {
    if !head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find("\r\n") {
        let size = usize::from_str_radix(rest[..i].trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = i + 2;
        out.push_str(rest.get(start..start + size).unwrap_or(""));
        rest = rest.get(start + size + 2..).unwrap_or("");
    }
    out
}

/// GET helper.
pub fn http_get(addr: SocketAddr, path: &str, token: Option<&str>) -> std::io::Result<(u16, String)> {
    http_request(addr, "GET", path, token, None)
}

/// Path of a SIPp scenario in tests/sipp.
pub fn scenario(name: &str) -> PathBuf {
    repo_root().join("tests/sipp").join(name)
}

/// Outcome of one SIPp run.
pub struct SippRun {
    /// SIPp's exit code (0 = every call succeeded).
    pub code: i32,
    /// SIPp's stdout+stderr and its error/message logs, for assertion messages.
    pub output: String,
}

/// Runs SIPp as a UAC against `target` in the foreground (no screen) with a scenario file and
/// extra args, bound to 127.0.0.1; returns its exit code and logs.
pub fn sipp_uac(target: SocketAddr, scenario_file: &Path, extra: &[&str]) -> SippRun {
    // -recv_timeout: the caller's default hold in e2e_call.xml; a later one in `extra` wins.
    let mut args = vec!["-m", "1", "-trace_msg", "-recv_timeout", "45000"];
    args.extend_from_slice(extra);
    sipp_run(target, scenario_file, &args)
}

/// Runs SIPp as a load generator: `calls` calls at `per_second` calls per second (at most 100
/// at once), with extra args; message traces are off (too large), errors are kept.
pub fn sipp_load(target: SocketAddr, scenario_file: &Path, calls: u32, per_second: u32, extra: &[&str]) -> SippRun {
    let (m, r) = (calls.to_string(), per_second.to_string());
    let mut args = vec!["-m", m.as_str(), "-r", r.as_str(), "-rp", "1000", "-l", "100"];
    args.extend_from_slice(extra);
    sipp_run(target, scenario_file, &args)
}

/// SIPp in the foreground against `target` from 127.0.0.1 with a 60 s overall timeout (an
/// error), error traces, and `args`; returns its exit code and logs.
fn sipp_run(target: SocketAddr, scenario_file: &Path, args: &[&str]) -> SippRun {
    let dir = tempfile::tempdir().expect("sipp dir");
    let out = Command::new("sipp")
        .arg(target.to_string())
        .arg("-sf")
        .arg(scenario_file)
        .args(["-i", "127.0.0.1", "-p", &free_udp_port().to_string(), "-mp", &free_udp_port_pair().to_string()])
        .args(["-timeout", "60s", "-timeout_error", "-nostdin", "-trace_err"])
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("run sipp (install sip-tester)");
    let mut output = String::from_utf8_lossy(&out.stdout).to_string();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    if let Ok(rd) = std::fs::read_dir(dir.path()) {
        for e in rd.flatten() {
            if let Ok(t) = std::fs::read_to_string(e.path()) {
                output.push_str(&format!("\n--- {} ---\n", e.file_name().to_string_lossy()));
                let mut from = t.len().saturating_sub(20_000);
                while !t.is_char_boundary(from) {
                    from += 1;
                }
                output.push_str(&t[from..]);
            }
        }
    }
    SippRun { code: out.status.code().unwrap_or(-1), output }
}

/// Ports for the test's own peers (SIPp's SIP and media ports, baresip's console) come from a
/// range nobody else here allocates from: below the kernel's ephemeral range (32768–60999, what a
/// port-0 bind gets: the runtimes' SIP/HTTP/RTP sockets, test phones, SIPp's own -p default) and
/// above the demo's RTP range (20000–29999; the tests' runtimes take RTP ports from the OS). "Bind port 0, read it, release it" raced with exactly
/// those binds when e2e tests ran in parallel: a released port could be handed to another test's
/// socket before SIPp bound it. Inside this process an atomic counter keeps blocks apart; each
/// block is 4 ports (SIPp binds its media port and the ones after it). baresip's RTP ports are
/// moved into the ephemeral range (its default 1024–49152 covers this one; it retries a busy port).
const PEER_PORTS: std::ops::Range<u16> = 30000..32764;
const PEER_BLOCK: u16 = 4;

fn peer_port_block() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let blocks = u32::from((PEER_PORTS.end - PEER_PORTS.start) / PEER_BLOCK);
    // A random first block per process, so two e2e binaries on one machine rarely meet.
    let _ = NEXT.compare_exchange(u32::MAX, std::process::id().wrapping_mul(2_654_435_761) % blocks, Ordering::SeqCst, Ordering::SeqCst);
    for _ in 0..blocks {
        let k = NEXT.fetch_add(1, Ordering::SeqCst) % blocks;
        let base = PEER_PORTS.start + (k as u16) * PEER_BLOCK;
        let free = (base..base + PEER_BLOCK).all(|p| std::net::UdpSocket::bind(("127.0.0.1", p)).is_ok() && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok());
        if free {
            return base;
        }
    }
    panic!("no free block of {PEER_BLOCK} ports in {PEER_PORTS:?}")
}

/// A UDP (and TCP) port for a test peer, not handed to anyone else in this run (see [`PEER_PORTS`]).
pub fn free_udp_port() -> u16 {
    peer_port_block()
}

/// An even UDP port whose next three are free too (SIPp's RTP/RTCP and video pairs).
pub fn free_udp_port_pair() -> u16 {
    peer_port_block()
}

/// The newest call record of `caller` through the HTTP API (as the console reads it), waiting
/// until it is complete (has an end time).
pub fn final_cdr(rt: &Runtime, caller: &str) -> serde_json::Value {
    let token = rt.admin_token();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, body) = http_get(rt.http, "/api/v1/cdrs?limit=50", Some(&token)).expect("GET /api/v1/cdrs");
        assert_eq!(code, 200, "cdrs: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("cdrs json");
        let found = v["items"].as_array().and_then(|items| items.iter().find(|c| c["caller"] == caller && !c["end"].is_null()).cloned());
        if let Some(c) = found {
            return c;
        }
        assert!(Instant::now() < deadline, "no finished call record for {caller}: {body}\n{}", rt.log_text());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Polls `ok` every 50 ms until it holds; panics naming `what` after `within`.
pub fn wait_until(what: &str, within: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One SIPp call (tests/sipp/e2e_call.xml) from `caller` to `number` whose media goes to the
/// test's RTP phone on `rtp_port`. The call ends when the runtime hangs up (the flow finished),
/// or the caller hangs up after `hold` without a BYE from the runtime — so `hold` is only the
/// longest the call may last, not how long it takes.
pub fn sipp_call(target: SocketAddr, number: &str, caller: &str, rtp_port: u16, hold: Duration) -> SippRun {
    let hold_ms = hold.as_millis().to_string();
    let overall = format!("{}s", hold.as_secs() + 30);
    let port = rtp_port.to_string();
    sipp_uac(
        target,
        &scenario("e2e_call.xml"),
        &["-s", number, "-key", "caller", caller, "-key", "rtp_port", &port, "-recv_timeout", &hold_ms, "-timeout", &overall],
    )
}

/// GET an API path as `token` and parse the JSON answer (panics with the body on non-200).
pub fn api_json(rt: &Runtime, token: &str, path: &str) -> serde_json::Value {
    let (code, body) = http_get(rt.http, path, Some(token)).unwrap_or_else(|e| panic!("GET {path}: {e}"));
    assert_eq!(code, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// Every finished call record (newest first, up to `limit`) through the API.
pub fn finished_cdrs(rt: &Runtime, token: &str, limit: usize) -> Vec<serde_json::Value> {
    let v = api_json(rt, token, &format!("/api/v1/cdrs?limit={limit}"));
    v["items"].as_array().map(|a| a.iter().filter(|c| !c["end"].is_null()).cloned().collect()).unwrap_or_default()
}

/// GET returning the raw body bytes (recordings' audio), with the status code.
pub fn http_get_bytes(addr: SocketAddr, path: &str, token: &str) -> std::io::Result<(u16, Vec<u8>)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n")?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let code = std::str::from_utf8(raw.get(9..12).unwrap_or(b"000")).ok().and_then(|c| c.parse().ok()).unwrap_or(0);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = raw[split..].to_vec();
    if !head.contains("transfer-encoding: chunked") {
        return Ok((code, body));
    }
    let (mut out, mut rest) = (Vec::new(), &body[..]);
    while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..i]).ok().and_then(|h| usize::from_str_radix(h.trim(), 16).ok()).unwrap_or(0);
        if size == 0 || rest.len() < i + 2 + size {
            break;
        }
        out.extend_from_slice(&rest[i + 2..i + 2 + size]);
        rest = rest.get(i + 4 + size..).unwrap_or(&[]);
    }
    Ok((code, out))
}

/// 16-bit PCM samples of a WAV file's `data` chunk (any header layout), or `None`.
pub fn wav_samples(wav: &[u8]) -> Option<Vec<i16>> {
    if wav.get(0..4)? != b"RIFF" || wav.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut at = 12;
    while at + 8 <= wav.len() {
        let id = &wav[at..at + 4];
        let len = u32::from_le_bytes(wav[at + 4..at + 8].try_into().ok()?) as usize;
        let body = wav.get(at + 8..(at + 8 + len).min(wav.len()))?;
        if id == b"data" {
            return Some(body.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect());
        }
        at += 8 + len + (len & 1);
    }
    None
}

/// The notifications a stopped runtime left queued in its store (read from disk after exit; a
/// running node lists them with `GET /api/v1/notifications`, see orders_api.rs).
pub fn notifications_in(data: &Path) -> Vec<courtyard_orders::Notification> {
    let store = courtyard_store::Store::open(&data.join("db")).expect("open the stopped runtime's store");
    store.list::<courtyard_orders::Notification>(|_| true, 0, usize::MAX).expect("list notifications").items
}
