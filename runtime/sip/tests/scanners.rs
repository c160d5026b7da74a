//! SIP scanner defence (issue 11, "Defence"): Debian's sipvicious tools (`svmap`, `svwar`,
//! `svcrack`) attack a courtyard-sip endpoint on 127.0.0.1 from their own loopback addresses
//! while SIPp places legitimate calls from 127.0.0.2. Nothing is exempt from the rate limiter
//! here (the default config exempts loopback, which would make the test meaningless).
//!
//! Asserted: every SIPp call succeeds (exit 0, all calls answered); `svwar` lists none of the
//! registered users (8001, 8002) — neither in a slow scan that stays under the flood limit
//! (every answer it gets is the same challenge, so svwar gives up) nor in a fast one; `svcrack` does not find the
//! password of 8001 although it is in its word list; every scanner source ends up banned (the
//! endpoint stops answering it) while a fresh source is still answered.
//!
//! Needs Debian packages `sipvicious` and `sip-tester`. Without `svwar` on PATH the test fails
//! (it must not silently pass).

mod common;

use common::{SERVICE, loopback_config, scenario, start_uas};
use std::net::SocketAddr;
use std::process::Output;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::process::Command;

/// Where the legitimate caller sits.
const CALLER_IP: &str = "127.0.0.2";
/// Where the scans come from: Debian's sipvicious 0.3.3 ignores its `-b` (bind address) option,
/// so the kernel picks 127.0.0.1 as the source when the target is 127.0.0.1.
const SCANNER_IP: &str = "127.0.0.1";
/// Legitimate calls placed while the scans run.
const CALLS: u32 = 40;
/// A source that never misbehaved: must still be answered at the end.
const BYSTANDER_IP: &str = "127.0.0.6";

/// The sipvicious command: Debian installs `svwar`, upstream pip installs `sipvicious_svwar`.
fn tool(name: &str) -> String {
    let upstream = format!("sipvicious_{name}");
    let on_path = |cmd: &str| {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
            .unwrap_or(false)
    };
    if on_path(name) {
        name.to_string()
    } else if on_path(&upstream) {
        upstream
    } else {
        panic!("{name} not found: install Debian's `sipvicious` (apt-get install -y sipvicious)")
    }
}

async fn run(cmd: &mut Command, limit: Duration) -> Output {
    cmd.kill_on_drop(true).stdin(std::process::Stdio::null());
    match tokio::time::timeout(limit, cmd.output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("cannot run {cmd:?}: {e}"),
        Err(_) => panic!("{cmd:?} did not finish within {limit:?}"),
    }
}

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// An OPTIONS from `ip`; true if the endpoint answered within 1 s.
async fn answers(ip: &str, target: SocketAddr) -> bool {
    let sock = UdpSocket::bind((ip, 0)).await.expect("bind probe socket");
    let me = sock.local_addr().expect("probe addr");
    let branch = format!("z9hG4bK-probe-{}", me.port());
    let req = format!(
        "OPTIONS sip:{SERVICE}@{target} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={branch};rport\r\nMax-Forwards: 70\r\n\
         From: <sip:probe@{ip}>;tag=p{port}\r\nTo: <sip:{SERVICE}@{target}>\r\nCall-ID: probe-{port}@{ip}\r\nCSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n",
        port = me.port()
    );
    let mut buf = [0u8; 4096];
    // two tries, in case the first datagram is lost
    for _ in 0..2 {
        sock.send_to(req.as_bytes(), target).await.expect("send probe");
        if let Ok(Ok((n, _))) = tokio::time::timeout(Duration::from_millis(600), sock.recv_from(&mut buf)).await {
            if buf[..n].starts_with(b"SIP/2.0 ") {
                return true;
            }
        }
    }
    false
}

/// Legitimate calls: SIPp from 127.0.0.2, `calls` calls at `rate`/s, each INVITE→200→ACK→BYE.
async fn legitimate_calls(target: SocketAddr, calls: u32, rate: u32) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new("sipp");
    cmd.current_dir(dir.path())
        .arg(target.to_string())
        .arg("-sf")
        .arg(scenario("uac-call.xml"))
        .args(["-s", SERVICE, "-i", CALLER_IP, "-p", "0", "-mi", CALLER_IP])
        .args(["-m", &calls.to_string(), "-r", &rate.to_string(), "-l", "4"])
        .args(["-nostdin", "-timeout", "45", "-timeout_error", "-d", "200", "-trace_err"]);
    run(&mut cmd, Duration::from_secs(55)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipvicious_scans_get_nothing_and_do_not_disturb_calls() {
    let (svmap, svwar, svcrack) = (tool("svmap"), tool("svwar"), tool("svcrack"));
    let mut cfg = loopback_config();
    cfg.rate_limit.exempt = Vec::new();
    let (ep, stats) = start_uas(cfg).await;
    let target = ep.local_addr();
    let (host, port) = (target.ip().to_string(), target.port().to_string());
    let started = Instant::now();

    // Legitimate traffic for most of the duration of the scans: 40 calls at 2 calls/s (6 requests/s,
    // under the 16 requests per 2 s flood limit an ordinary phone never reaches).
    let calls = tokio::spawn(legitimate_calls(target, CALLS, 2));

    // svmap: finds a SIP device (unavoidable: we answer OPTIONS) — must not crash anything.
    let map = run(Command::new(&svmap).args(["-p", &port, &host]), Duration::from_secs(20)).await;
    assert!(
        String::from_utf8_lossy(&map.stdout).contains(&host),
        "svmap did not even see the endpoint (test setup broken?):\n{}",
        text(&map)
    );

    // svwar, slow and small: a few REGISTERs stay below the flood limit, so it receives an answer
    // for each extension (registered or not) — and they must be indistinguishable.
    let slow = run(
        Command::new(&svwar).args(["--force", "-t", "0.3", "--maximumtime", "5", "-e", "7999-8003,9000-9002", "-p", &port, &host]),
        Duration::from_secs(30),
    )
    .await;
    eprintln!("slow svwar:\n{}", text(&slow));
    let slow_out = String::from_utf8_lossy(&slow.stdout).to_string();
    for user in ["8001", "8002"] {
        assert!(!slow_out.contains(user), "slow svwar enumerated {user}:\n{}", text(&slow));
    }
    let answered_before_crack = answers(SCANNER_IP, target).await;
    // (so the ban that follows is svcrack's doing, not the earlier scans')
    assert!(answered_before_crack, "the scanners' source was banned before svcrack ran");

    // svcrack on 8001 with the real password 10th in the list: the failed-auth ban (5 failures)
    // must stop it first.
    let dir = tempfile::tempdir().expect("tempdir");
    let words = dir.path().join("words.txt");
    let list = ["1234", "8001", "password", "admin", "0000", "123456", "secret", "qwerty", "letmein", "pw8001", "pw8002"];
    std::fs::write(&words, list.join("\n") + "\n").expect("write word list");
    let crack = run(
        Command::new(&svcrack).args(["--maximumtime", "5", "-u", "8001", "-d"]).arg(&words).args(["-p", &port, &host]),
        Duration::from_secs(30),
    )
    .await;
    let crack_out = text(&crack);
    eprintln!("svcrack:\n{crack_out}");
    assert!(
        !crack_out.contains("pw8001") && !crack_out.contains("The password for"),
        "svcrack found the password:\n{crack_out}"
    );

    // svwar, fast: must find nothing (by now it is also ignored).
    let fast = run(Command::new(&svwar).args(["--force", "--maximumtime", "5", "-e", "7900-8100", "-p", &port, &host]), Duration::from_secs(30)).await;
    eprintln!("fast svwar:\n{}", text(&fast));
    let fast_out = String::from_utf8_lossy(&fast.stdout).to_string();
    for user in ["8001", "8002"] {
        assert!(!fast_out.contains(user), "fast svwar enumerated {user}:\n{}", text(&fast));
    }

    // The scanning source is now ignored; an innocent source is not.
    assert!(!answers(SCANNER_IP, target).await, "the scanners' source is still answered");
    assert!(answers(BYSTANDER_IP, target).await, "a source that did nothing is not answered");

    let calls = calls.await.expect("sipp task");
    assert_eq!(calls.status.code(), Some(0), "legitimate SIPp calls failed during the scans:\n{}", text(&calls));
    assert_eq!(stats.answered.load(Ordering::SeqCst), CALLS as usize, "not every legitimate call was answered");
    eprintln!("scanner scenario took {:?}", started.elapsed());
}
