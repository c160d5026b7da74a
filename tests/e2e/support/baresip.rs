//! baresip (Debian) as a real softphone in tests: an agent that registers with digest auth,
//! auto-answers and talks by playing a WAV file (a 440 Hz tone made with sox).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running baresip user agent, killed on drop.
pub struct Baresip {
    child: Child,
    /// Its config directory (log, dumps).
    pub dir: tempfile::TempDir,
}

impl Baresip {
    /// Starts an agent phone for `user`/`password` registering at `registrar`, auto-answering
    /// every call and sending a 440 Hz tone as its voice.
    pub fn agent(user: &str, password: &str, registrar: SocketAddr) -> Baresip {
        let dir = tempfile::tempdir().expect("baresip dir");
        let tone = dir.path().join("voice.wav");
        let st = Command::new("sox")
            .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
            .arg(&tone)
            .args(["synth", "120", "sine", "440", "vol", "0.5"])
            .status()
            .expect("run sox (install sox)");
        assert!(st.success(), "sox could not make the agent's voice file");
        let sip_port = super::free_udp_port();
        let config = format!(
            "poll_method epoll\n\
             sip_listen 127.0.0.1:{sip_port}\n\
             call_local_timeout 120\n\
             audio_player aubridge,agent{user}\n\
             audio_source aufile,{}\n\
             ausrc_srate 8000\n\
             ausrc_channels 1\n\
             audio_alert aubridge,alert{user}\n\
             module_path /usr/lib/baresip/modules\n\
             module g711.so\n\
             module aufile.so\n\
             module aubridge.so\n\
             module_app account.so\n\
             module_app menu.so\n",
            tone.display()
        );
        std::fs::write(dir.path().join("config"), config).expect("config");
        let account = format!(
            "<sip:{user}@{registrar};transport=udp>;auth_pass={password};answermode=auto;regint=600;audio_codecs=PCMU/8000/1,PCMA/8000/1\n"
        );
        std::fs::write(dir.path().join("accounts"), account).expect("accounts");
        std::fs::write(dir.path().join("contacts"), "").expect("contacts");
        let log = std::fs::File::create(dir.path().join("baresip.log")).expect("log");
        let child = Command::new("baresip")
            .arg("-f")
            .arg(dir.path())
            .arg("-v")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn baresip (install baresip)");
        Baresip { child, dir }
    }

    /// baresip's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("baresip.log")
    }

    /// Waits until baresip reports a successful registration.
    pub fn wait_registered(&self, within: Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            let log = self.log_text();
            if log.contains("200 OK") && log.to_lowercase().contains("regist") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
