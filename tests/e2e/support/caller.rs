//! A caller as the end-to-end tests use one: SIPp does the signalling in a thread, the test's own
//! RTP phone hears the prompts, presses keys and talks. Plus reference speech from the real TTS
//! (courtyard-tts over espeak-ng) for "the caller says …" and "the caller should hear …".

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use super::rtp::Phone;
use super::{Runtime, SippRun, sipp_call};

/// Quiet after a prompt that means "the flow now waits for the caller" (longer than the pauses
/// espeak-ng makes at commas, much shorter than any digit timeout).
pub const PROMPT_END_QUIET: Duration = Duration::from_millis(900);

/// One call in progress.
pub struct Call {
    /// The caller's media endpoint.
    pub phone: Phone,
    /// Calling number.
    pub caller: String,
    sipp: JoinHandle<SippRun>,
}

impl Call {
    /// Dials `number` from `caller`; the call lasts until the runtime hangs up, at most `hold`.
    /// Waits until the runtime's RTP arrives.
    pub fn dial(rt: &Runtime, number: &str, caller: &str, hold: Duration) -> Call {
        Self::dial_addr(rt.sip, number, caller, hold, rt)
    }

    fn dial_addr(sip: SocketAddr, number: &str, caller: &str, hold: Duration, rt: &Runtime) -> Call {
        let phone = Phone::bind();
        let port = phone.port();
        let (n, c) = (number.to_string(), caller.to_string());
        let sipp = std::thread::spawn(move || sipp_call(sip, &n, &c, port, hold));
        assert!(phone.wait_for_media(Duration::from_secs(20)), "{caller}→{number}: no RTP from the runtime; log:\n{}", rt.log_text());
        Call { phone, caller: caller.to_string(), sipp }
    }

    /// Waits for the end of the prompt being played (at least `min_speech` seconds more speech
    /// than so far, then quiet); returns the speech seconds heard in total.
    pub fn hear_prompt(&self, what: &str, min_speech: f64) -> f64 {
        let since = self.phone.speech_seconds();
        self.phone
            .wait_prompt_end(since, min_speech, PROMPT_END_QUIET, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("{}: no end of the prompt '{what}' (heard {since:.1} s before it)", self.caller))
    }

    /// Waits until `min_speech` more seconds of speech have arrived (the prompt may go on: the
    /// flows take keys while they speak and keep keys typed ahead); returns the total heard.
    pub fn hear(&self, what: &str, min_speech: f64) -> f64 {
        let since = self.phone.speech_seconds();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let now = self.phone.speech_seconds();
            if now >= since + min_speech {
                return now;
            }
            assert!(std::time::Instant::now() < deadline, "{}: did not hear '{what}' (heard {since:.1} s before it)", self.caller);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Presses keys one after another.
    pub fn press(&self, keys: &str) {
        for k in keys.chars() {
            self.phone.press(k);
        }
    }

    /// Talks (queues the audio) and waits until it has all been sent.
    pub fn say(&self, samples: &[i16]) {
        let d = self.phone.speak(samples);
        std::thread::sleep(d);
        while !self.phone.done_speaking() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Dials the menu line (ivr-menu: no greeting or announcements) and presses 0 (人工服务)
    /// while the menu speaks (it takes keys with barge-in), so the call queues for an agent. The
    /// caller holds up to 90 s: the runtime or the agent ends the call, and a slow CI machine
    /// must not make the caller give up first.
    pub fn for_an_agent(rt: &Runtime, caller: &str) -> Call {
        let call = Call::dial(rt, "4008123400", caller, Duration::from_secs(90));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while call.phone.speech_seconds() < 1.0 {
            assert!(std::time::Instant::now() < deadline, "no greeting heard; log:\n{}", rt.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
        call.phone.press('0');
        call
    }

    /// Waits for SIPp to finish the call; panics with its logs when it failed.
    pub fn end(self, rt: &Runtime) -> Phone {
        let run = self.sipp.join().expect("sipp thread");
        assert_eq!(run.code, 0, "{}: SIPp call failed:\n{}\n{}", self.caller, run.output, rt.log_text());
        self.phone
    }
}

/// The runtime's TTS, for reference audio in tests (its cache lives in a temp dir).
pub struct Voice {
    tts: courtyard_tts::Tts,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Voice {
    /// espeak-ng with the runtime's default voices.
    pub fn new() -> Voice {
        let dir = tempfile::tempdir().expect("tts dir");
        let tts = courtyard_tts::Tts::espeak(dir.path()).expect("espeak-ng TTS (install espeak-ng, libespeak-ng-dev)");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
        Voice { tts, rt, _dir: dir }
    }

    /// 8 kHz audio of Mandarin text, rendered exactly as a prompt made of that text is.
    pub fn say(&self, text: &str) -> Vec<i16> {
        let parts = [courtyard_tts::Speech::Text(text.to_string())];
        self.rt.block_on(self.tts.speak(courtyard_tts::Lang::Zh, &parts)).expect("synthesize").to_vec()
    }
}
