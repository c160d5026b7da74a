//! baresip (Debian's baresip-core) as a real softphone in tests: an agent or supervisor phone
//! that registers with digest auth, answers by itself (or not), talks by playing a tone file
//! made with sox, and dumps what it hears to a WAV file (the `sndfile` module), so a test can
//! check audio in both directions. Commands ("/hangup", "/dial *21", "/transfer 8002") go to its
//! `cons` module over UDP, as a user would type them.
//!
//! Two interoperability facts this helper depends on (both found by running baresip 1.0 against
//! the runtime): libre aborts a registration with "Function not implemented" when any
//! `WWW-Authenticate` challenge is not MD5, so the runtime offers MD5 only by default; and
//! baresip sends an empty `Supported:` header, which the runtime must accept.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the phone treats an incoming call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Answer {
    /// Answers at once (`answermode=auto`).
    Auto,
    /// Rings until told otherwise (a phone nobody picks up).
    Manual,
}

/// A running baresip user agent, killed on drop.
pub struct Baresip {
    child: Child,
    /// Its config directory (log, audio dumps).
    pub dir: tempfile::TempDir,
    cons: SocketAddr,
}

impl Baresip {
    /// Starts an agent phone for `user`/`password` registering at `registrar`, auto-answering
    /// and sending a 440 Hz tone as its voice.
    pub fn agent(user: &str, password: &str, registrar: SocketAddr) -> Baresip {
        Self::start(user, password, registrar, Answer::Auto, 440)
    }

    /// Starts a phone with the given answer mode whose voice is a `tone_hz` sine.
    pub fn start(user: &str, password: &str, registrar: SocketAddr, answer: Answer, tone_hz: u32) -> Baresip {
        let mode = match answer {
            Answer::Auto => "auto",
            Answer::Manual => "manual",
        };
        let account = format!(
            "<sip:{user}@{registrar};transport=udp>;auth_pass={password};answermode={mode};regint=600;audio_codecs=PCMU/8000/1,PCMA/8000/1"
        );
        Self::start_account(user, &account, tone_hz)
    }

    /// Starts baresip with one account line (baresip's syntax).
    pub fn start_account(user: &str, account: &str, tone_hz: u32) -> Baresip {
        let dir = tempfile::tempdir().expect("baresip dir");
        let tone = dir.path().join("voice.wav");
        let st = Command::new("sox")
            .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
            .arg(&tone)
            .args(["synth", "60", "sine", &tone_hz.to_string(), "vol", "0.5"])
            .status()
            .expect("run sox (install sox)");
        assert!(st.success(), "sox could not make the phone's voice file");
        let snd = dir.path().join("snd");
        std::fs::create_dir_all(&snd).expect("snd dir");
        let cons_port = super::free_udp_port();
        // Audio out goes to an aubridge device nobody reads (no sound card in CI); sndfile dumps
        // the decoded stream ("-dec.wav") and what we send ("-enc.wav").
        let config = format!(
            "poll_method epoll\n\
             sip_listen 127.0.0.1:0\n\
             rtp_ports 40000-48998\n\
             call_local_timeout 120\n\
             audio_player aubridge,play{user}\n\
             audio_source aufile,{tone}\n\
             audio_alert aubridge,alert{user}\n\
             module_path /usr/lib/baresip/modules\n\
             module g711.so\n\
             module aufile.so\n\
             module aubridge.so\n\
             module sndfile.so\n\
             module cons.so\n\
             snd_path {snd}\n\
             cons_listen 127.0.0.1:{cons_port}\n\
             module_app account.so\n\
             module_app menu.so\n",
            tone = tone.display(),
            snd = snd.display(),
        );
        std::fs::write(dir.path().join("config"), config).expect("config");
        std::fs::write(dir.path().join("accounts"), format!("{account}\n")).expect("accounts");
        std::fs::write(dir.path().join("contacts"), "").expect("contacts");
        let log = std::fs::File::create(dir.path().join("baresip.log")).expect("log");
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .arg("-s") // SIP trace in the log, for failure messages
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn baresip (install baresip-core)");
        Baresip { child, dir, cons: SocketAddr::from(([127, 0, 0, 1], cons_port)) }
    }

    /// baresip's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("baresip.log")).unwrap_or_default()
    }

    /// The last lines of the log (assertion messages).
    pub fn log_tail(&self) -> String {
        let log = self.log_text();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }

    /// Waits until baresip reports a binding at the registrar ("200 OK (Courtyard) [1 binding]").
    pub fn wait_registered(&self, within: Duration) -> bool {
        self.wait_log(within, |l| l.contains("{0/UDP/v4} 200 OK"))
    }

    /// Waits until a log line satisfies `pred`.
    pub fn wait_log(&self, within: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.log_text().lines().any(&pred) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Types a command into the phone's console (`/hangup`, `/dial *21`, `/accept`, `/transfer N`).
    pub fn command(&self, cmd: &str) {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        s.send_to(format!("{cmd}\n").as_bytes(), self.cons).expect("send console command");
    }

    /// Presses a key during a call: the digit, then the key release 100 ms later (what ends the
    /// RFC 4733 event).
    pub fn press(&self, key: char) {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        s.send_to(key.to_string().as_bytes(), self.cons).expect("send key");
        std::thread::sleep(Duration::from_millis(100));
        s.send_to(&[0x04], self.cons).expect("send key release"); // KEYCODE_REL
    }

    /// Decoded audio the phone received so far (8 kHz samples from sndfile's "-dec.wav" dumps,
    /// every call concatenated in file-name order).
    pub fn heard(&self) -> Vec<i16> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("snd"))
            .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with("-dec.wav")).collect())
            .unwrap_or_default();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let Ok(bytes) = std::fs::read(&f) else { continue };
            // libsndfile writes a canonical 44-byte header (sizes fixed up at close; the data is
            // on disk as it is written).
            if bytes.len() > 44 {
                out.extend(bytes[44..].chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])));
            }
        }
        out
    }
}

/// baresip as a caller without registration: dials a number at the runtime and presses keys
/// (RFC 4733 events, baresip's own implementation).
pub struct BaresipCaller {
    /// The phone (log, commands, what it heard).
    pub phone: Baresip,
}

impl BaresipCaller {
    /// Starts baresip as `caller` (no REGISTER) and dials `number` at `target`.
    pub fn dial(caller: &str, number: &str, target: SocketAddr) -> BaresipCaller {
        let phone = Baresip::start_account(caller, &format!("<sip:{caller}@{target};transport=udp>;regint=0"), 440);
        assert!(phone.wait_log(Duration::from_secs(10), |l| l.contains("baresip is ready")), "baresip did not start:\n{}", phone.log_tail());
        phone.command(&format!("/dial sip:{number}@{target};transport=udp"));
        BaresipCaller { phone }
    }

    /// Waits until the runtime answered ("Call established").
    pub fn wait_established(&self, within: Duration) -> bool {
        self.phone.wait_log(within, |l| l.contains("Call established"))
    }

    /// Waits until the call is over ("session closed").
    pub fn wait_closed(&self, within: Duration) -> bool {
        self.phone.wait_log(within, |l| l.contains("session closed"))
    }

    /// Presses a key in the call (baresip sends RFC 4733 events until the key is released).
    pub fn press(&self, key: char) {
        self.phone.press(key);
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Goertzel power of `freq` in 8 kHz samples, relative to total power (0..1): how much of the
/// signal is that tone.
pub fn tone_share(samples: &[i16], freq: f64) -> f64 {
    let n = samples.len() as f64;
    if n == 0.0 {
        return 0.0;
    }
    let k = (0.5 + n * freq / 8000.0).floor();
    let w = 2.0 * std::f64::consts::PI * k / n;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let total: f64 = samples.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() * n / 2.0;
    if total == 0.0 { 0.0 } else { power / total }
}

/// Waits until the last second of `audio()` is mostly a `freq` tone.
pub fn wait_for_tone(within: Duration, freq: f64, audio: impl Fn() -> Vec<i16>) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let a = audio();
        if a.len() >= 8000 && tone_share(&a[a.len() - 8000..], freq) > 0.5 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// `secs` seconds of an 8 kHz sine at `freq`, half scale: a caller's or a phone's "voice".
pub fn sine(freq: f64, secs: f64) -> Vec<i16> {
    (0..(8000.0 * secs) as usize).map(|i| ((i as f64 * freq * 2.0 * std::f64::consts::PI / 8000.0).sin() * 12000.0) as i16).collect()
}

/// The caller and a baresip phone hear each other through the bridge: the caller hears the
/// phone's `phone_hz` tone (within `within`), then speaks `speak_secs` of 1000 Hz that the phone
/// itself decodes. Panics with the logs, naming `who`, when either direction stays silent.
pub fn assert_talk_both_ways(rt: &super::Runtime, caller: &super::rtp::Phone, phone: &Baresip, phone_hz: u32, within: Duration, speak_secs: f64, who: &str) {
    assert!(
        wait_for_tone(within, f64::from(phone_hz), || caller.audio()),
        "the caller never heard {who}'s {phone_hz} Hz voice; runtime log:\n{}\n{who}:\n{}",
        rt.log_text(),
        phone.log_tail()
    );
    caller.speak(&sine(1000.0, speak_secs));
    assert!(
        wait_for_tone(Duration::from_secs(10), 1000.0, || phone.heard()),
        "{who}'s phone never decoded the caller's 1000 Hz voice; {who}:\n{}",
        phone.log_tail()
    );
}
