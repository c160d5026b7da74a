//! Crash and restart of a test runtime on the same data directory (`kill -9`, then start again),
//! for the crash-recovery test; and the orderly stop-and-start an operator does.

use std::process::{Command, Stdio};

use super::{Runtime, plugins_dir};

impl Runtime {
    /// SIGKILLs the runtime (no drain, no flush), waits for it to die, then starts `courtyard
    /// demo` again on the same data directory with `extra` arguments and waits until healthy. The
    /// new process logs to `courtyard-restarted.log` in the data directory.
    pub fn kill9_and_restart(&mut self, extra: &[&str]) {
        let pid = self.child.id();
        let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
        let _ = self.child.wait();
        self.start_again(extra);
    }

    /// Stops the runtime the way an operator does (SIGTERM: drain, flush, exit 0), then starts it
    /// again on the same data directory like [`Runtime::kill9_and_restart`].
    pub fn restart(&mut self, extra: &[&str]) {
        let code = self.stop();
        assert_eq!(code, Some(0), "the runtime did not drain and exit 0; log:\n{}", self.log_text());
        self.start_again(extra);
    }

    fn start_again(&mut self, extra: &[&str]) {
        let log = self.data.path().join("courtyard-restarted.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        self.child = Command::new(env!("CARGO_BIN_EXE_courtyard"))
            .arg("demo")
            .args(["--sip", "127.0.0.1:0", "--http", "127.0.0.1:0"])
            .arg("--data")
            .arg(self.data.path())
            .arg("--plugins")
            .arg(plugins_dir())
            .args(extra)
            // Ports the OS hands out: runtimes of parallel tests must not take each other's recent
            // ports (a finished call's phone still sending there would latch the next call).
            .env("COURTYARD_RTP_PORTS", "any")
            .env("COURTYARD_LOG", "info,courtyard=debug")
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("spawn courtyard again");
        self.log = log;
        self.wait_for_addresses();
        self.wait_healthy();
    }
}
