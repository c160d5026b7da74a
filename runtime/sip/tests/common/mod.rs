//! Shared test support: a small UAS built on courtyard-sip and a SIPp runner.
#![allow(dead_code, missing_docs)]

use courtyard_sip::{DialogEvent, Endpoint, LocalMedia, SipConfig, StaticCredentials};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The demo service number the test UAS answers.
pub const SERVICE: &str = "4008123456";

/// Counters the tests assert on.
#[derive(Default)]
pub struct Stats {
    pub answered: AtomicUsize,
    pub remote_bye: AtomicUsize,
    pub local_bye: AtomicUsize,
    pub cancelled: AtomicUsize,
    pub rejected: AtomicUsize,
    pub reinvites: AtomicUsize,
    pub dtmf: parking_lot::Mutex<String>,
    pub held: AtomicUsize,
    /// Refer-To targets of in-dialog REFERs (each answered with NOTIFY 100 then 200).
    pub refers: parking_lot::Mutex<Vec<String>>,
}

pub fn loopback_config() -> SipConfig {
    let mut cfg = SipConfig::default();
    cfg.udp = "127.0.0.1:0".parse().unwrap();
    cfg.tcp = Some("127.0.0.1:0".parse().unwrap());
    cfg.rate_limit.exempt = courtyard_sip::IpNet::loopback();
    cfg
}

/// Starts the test UAS: `4008123456` rings and answers, `hangup` answers then hangs up after
/// 300 ms, `slow` only rings (for CANCEL), anything else gets 404.
pub async fn start_uas(cfg: SipConfig) -> (Endpoint, Arc<Stats>) {
    let creds = Arc::new(StaticCredentials::from_pairs([("8001", "pw8001"), ("8002", "pw8002")]));
    let (ep, mut incoming) = Endpoint::bind(cfg, creds).await.expect("bind");
    let stats = Arc::new(Stats::default());
    let st = stats.clone();
    tokio::spawn(async move {
        while let Some(call) = incoming.recv().await {
            let st = st.clone();
            tokio::spawn(async move {
                let user = call.request_user();
                let local = LocalMedia::new("127.0.0.1".parse().unwrap(), 40000);
                match user.as_str() {
                    SERVICE | "hangup" => {
                        call.ringing().await;
                        let Ok((mut dialog, _)) = call.answer(&local).await else { return };
                        st.answered.fetch_add(1, Ordering::SeqCst);
                        if user == "hangup" {
                            tokio::time::sleep(Duration::from_millis(300)).await;
                            if dialog.hangup().await.is_ok() {
                                st.local_bye.fetch_add(1, Ordering::SeqCst);
                            }
                            return;
                        }
                        while let Some(ev) = dialog.next_event().await {
                            match ev {
                                DialogEvent::Bye => {
                                    st.remote_bye.fetch_add(1, Ordering::SeqCst);
                                    break;
                                }
                                DialogEvent::ReInvite(n) => {
                                    st.reinvites.fetch_add(1, Ordering::SeqCst);
                                    if n.direction == courtyard_sip::Direction::RecvOnly {
                                        st.held.fetch_add(1, Ordering::SeqCst);
                                    }
                                }
                                DialogEvent::Terminated(_) => break,
                                DialogEvent::Info(d) => st.dtmf.lock().push(d),
                                DialogEvent::Refer { target, id, .. } => {
                                    st.refers.lock().push(target);
                                    let _ = dialog.notify_refer(id, 100);
                                    let _ = dialog.notify_refer(id, 200);
                                }
                            }
                        }
                    }
                    "slow" => {
                        call.ringing().await;
                        tokio::select! {
                            _ = call.cancelled() => { st.cancelled.fetch_add(1, Ordering::SeqCst); }
                            _ = tokio::time::sleep(Duration::from_secs(20)) => { call.reject(480, "Temporarily Unavailable").await; }
                        }
                    }
                    _ => {
                        st.rejected.fetch_add(1, Ordering::SeqCst);
                        call.reject(404, "Not Found").await;
                    }
                }
            });
        }
    });
    (ep, stats)
}

pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sipp").join(name)
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).unwrap_or(0)
}

/// Runs SIPp with `scenario` against `target`; returns (exit code, output).
/// A free UDP port on loopback (for a SIPp UAS that must listen on a known port).
pub fn free_port() -> u16 {
    free_udp_port()
}

pub async fn sipp(scenario_name: &str, target: SocketAddr, extra: &[&str]) -> (i32, String) {
    let (code, out, _) = sipp_traced(scenario_name, target, extra).await;
    (code, out)
}

/// Like [`sipp`] but also returns SIPp's message trace (every message sent and received).
pub async fn sipp_traced(scenario_name: &str, target: SocketAddr, extra: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mp = free_udp_port().to_string();
    let mut cmd = tokio::process::Command::new("sipp");
    cmd.current_dir(dir.path())
        .arg(target.to_string())
        .arg("-sf")
        .arg(scenario(scenario_name))
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", &mp, "-nostdin", "-timeout", "30", "-timeout_error", "-d", "100"])
        .args(["-trace_err", "-error_file", dir.path().join("err.log").to_str().unwrap_or("err.log")])
        .args(["-trace_msg", "-message_file", dir.path().join("msg.log").to_str().unwrap_or("msg.log")])
        .args(extra)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output()).await.expect("sipp hung").expect("run sipp");
    let errors = std::fs::read_to_string(dir.path().join("err.log")).unwrap_or_default();
    let text = format!(
        "stdout:\n{}\nstderr:\n{}\nerrors:\n{}",
        String::from_utf8_lossy(&out.stdout).lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"),
        String::from_utf8_lossy(&out.stderr),
        errors
    );
    let trace = std::fs::read_to_string(dir.path().join("msg.log")).unwrap_or_default();
    (out.status.code().unwrap_or(-1), text, trace)
}
