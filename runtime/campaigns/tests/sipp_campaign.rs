//! A campaign against real SIPp endpoints over real SIP on 127.0.0.1: one SIPp answers
//! (`-sn uas`), one answers 486 Busy (`tests/sipp/campaign-busy.xml`), one rings until the dialer
//! cancels (`tests/sipp/campaign-ringout.xml`). The `CallPlacer` here is a small one over
//! `courtyard_sip::Endpoint::invite`, the same shape the runtime wires to its trunk.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use courtyard_campaigns::*;
use courtyard_sip::{CallProgress, Endpoint, LocalMedia, OutboundInvite, SipConfig, StaticCredentials};
use parking_lot::Mutex;

fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr()).map(|a| a.port()).unwrap_or(0)
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sipp").join(name)
}

/// A SIPp UAS listening on a known port; `scenario` is `None` for SIPp's built-in `uas`.
struct SippUas {
    addr: SocketAddr,
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl SippUas {
    fn spawn(scenario_file: Option<&str>, calls: u32) -> SippUas {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let mut cmd = tokio::process::Command::new("sipp");
        cmd.current_dir(dir.path());
        match scenario_file {
            Some(f) => cmd.arg("-sf").arg(scenario(f)),
            None => cmd.args(["-sn", "uas"]),
        };
        cmd.args(["-i", "127.0.0.1", "-p", &port.to_string(), "-mi", "127.0.0.1", "-mp", &free_port().to_string()])
            .args(["-m", &calls.to_string(), "-nostdin", "-timeout", "60", "-timeout_error", "-trace_err"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().expect("sipp is installed (Debian sip-tester)");
        SippUas { addr: format!("127.0.0.1:{port}").parse().unwrap(), child, _dir: dir }
    }

    /// Waits for SIPp to exit after its `-m` calls; returns (exit code, output).
    async fn finish(mut self) -> (i32, String) {
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await.expect("sipp exits after its calls").expect("wait");
        let mut out = String::new();
        if let Some(mut s) = self.child.stdout.take() {
            use tokio::io::AsyncReadExt;
            let _ = s.read_to_string(&mut out).await;
        }
        let errors = std::fs::read_dir(self._dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with("errors.log"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .collect::<String>();
        let tail: Vec<&str> = out.lines().rev().take(30).collect();
        (status.code().unwrap_or(-1), format!("{}\nerrors:\n{errors}", tail.into_iter().rev().collect::<Vec<_>>().join("\n")))
    }
}

/// The test's trunk: number prefix → SIPp address; tracks calls in progress.
struct SipPlacer {
    ep: Endpoint,
    routes: Vec<(&'static str, SocketAddr)>,
    live: Arc<AtomicU32>,
    max_live: Arc<AtomicU32>,
    log: Mutex<Vec<(String, Instant)>>,
}

struct Live(Arc<AtomicU32>);
impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CallPlacer for SipPlacer {
    fn place(&self, req: PlaceRequest) -> BoxFuture<'static, PlaceResult> {
        let number = normalize_number(&req.target.number);
        self.log.lock().push((number.clone(), Instant::now()));
        let n = self.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_live.fetch_max(n, Ordering::SeqCst);
        let live = Live(self.live.clone());
        let route = self.routes.iter().find(|(p, _)| number.starts_with(p)).map(|(_, a)| *a);
        let ep = self.ep.clone();
        Box::pin(async move {
            let Some(addr) = route else { return PlaceResult::Rejected { status: 404, reason: "no route".into() } };
            let local = LocalMedia::new("127.0.0.1".parse().unwrap(), 42000);
            let inv = OutboundInvite::new(format!("sip:{number}@{addr}"), "4008123456", local);
            let mut call = match ep.invite(inv).await {
                Ok(c) => c,
                Err(e) => return PlaceResult::Failed(e.to_string()),
            };
            let ring = tokio::time::sleep(req.ring_timeout);
            tokio::pin!(ring);
            loop {
                tokio::select! {
                    p = call.next() => match p {
                        Some(CallProgress::Answered { mut dialog, .. }) => {
                            let delay = req.answer_delay;
                            return PlaceResult::Answered {
                                run: Box::pin(async move {
                                    let _live = live;
                                    // Answering-machine-safe start, then a stand-in for the flow.
                                    tokio::time::sleep(delay).await;
                                    tokio::time::sleep(Duration::from_millis(100)).await;
                                    dialog.hangup().await.map_err(|e| e.to_string())?;
                                    Ok("played".to_string())
                                }),
                            };
                        }
                        Some(CallProgress::Failed { status, reason }) => return PlaceResult::from_sip_status(status, &reason),
                        Some(_) => {}
                        None => return PlaceResult::Failed("call ended without a final response".into()),
                    },
                    _ = &mut ring => {
                        call.cancel().await;
                        // Wait for the 487 so the transaction ends cleanly before the slot frees.
                        let _ = tokio::time::timeout(Duration::from_secs(5), async {
                            while let Some(p) = call.next().await {
                                if matches!(p, CallProgress::Failed { .. }) { break; }
                            }
                        }).await;
                        return PlaceResult::NoAnswer;
                    }
                }
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaign_against_sipp_answering_busy_and_ringing_out_endpoints() {
    let answer = SippUas::spawn(None, 4);
    let busy = SippUas::spawn(Some("campaign-busy.xml"), 4);
    let ringout = SippUas::spawn(Some("campaign-ringout.xml"), 1);
    tokio::time::sleep(Duration::from_millis(300)).await; // SIPp binds its ports

    // Loopback is exempt from flood bans by default (the SIPp peers are on 127.0.0.1).
    let cfg = SipConfig {
        udp: "127.0.0.1:0".parse().unwrap(),
        tcp: None,
        public_host: Some("127.0.0.1".into()),
        ..SipConfig::default()
    };
    let (ep, _incoming) = Endpoint::bind(cfg, Arc::new(StaticCredentials::from_pairs([("x", "y")]))).await.expect("bind");
    let placer = Arc::new(SipPlacer {
        ep: ep.clone(),
        routes: vec![("1", answer.addr), ("2", busy.addr), ("3", ringout.addr)],
        live: Arc::new(AtomicU32::new(0)),
        max_live: Arc::new(AtomicU32::new(0)),
        log: Mutex::new(Vec::new()),
    });

    let mut config = CampaignConfig::from_toml(
        r#"
        id = "notice-sipp"
        flow = "notice"
        ring_timeout_secs = 2
        answer_delay_ms = 300
        do_not_call = ["1999"]
        [limits]
        max_concurrent = 2
        calls_per_second = 4.0
        [hours]
        start = "00:00"
        end = "24:00"
        [retry]
        busy = { max_attempts = 2, spacing_secs = 1 }
        no_answer = { max_attempts = 1, spacing_secs = 60 }
        failed = { max_attempts = 1, spacing_secs = 60 }
        "#,
    )
    .unwrap();
    let numbers = ["1001", "2001", "1002", "3001", "1999", "2002", "1003", "1004"];
    config.targets = numbers
        .iter()
        .map(|n| Target { id: format!("t{n}"), number: (*n).into(), params: BTreeMap::from([("unit-id".into(), format!("U{n}"))]) })
        .collect();
    let store = Arc::new(MemoryStore::new());
    let t0 = Instant::now();
    let h = start(config, CampaignDeps { placer: placer.clone(), clock: TokioClock::new(), store: store.clone() }).unwrap();
    let p = tokio::time::timeout(Duration::from_secs(60), h.finished()).await.expect("campaign finishes");
    let elapsed = t0.elapsed();

    let rec: BTreeMap<String, TargetRecord> = h.targets().into_iter().map(|r| (r.target_id.clone(), r)).collect();
    let result = |id: &str| match &rec[id].state {
        TargetState::Done { result } => result.clone(),
        s => panic!("{id} not done: {s:?}"),
    };
    for n in ["1001", "1002", "1003", "1004"] {
        assert_eq!(result(&format!("t{n}")), TargetResult::Answered { outcome: "played".into(), flow_error: None }, "{n}");
    }
    for n in ["2001", "2002"] {
        let id = format!("t{n}");
        assert_eq!(result(&id), TargetResult::Exhausted { last: AttemptKind::Busy });
        let a = &rec[&id].attempts;
        assert_eq!(a.len(), 2);
        assert!(a[1].started_ms >= a[0].ended_ms + 1000, "busy retry spaced by 1 s: {a:?}");
    }
    assert_eq!(result("t3001"), TargetResult::Exhausted { last: AttemptKind::NoAnswer });
    let ring = &rec["t3001"].attempts[0];
    assert!(ring.ended_ms - ring.started_ms >= 2000, "rang for the ring timeout before CANCEL");
    assert_eq!(result("t1999"), TargetResult::Dnc);
    assert!(rec["t1999"].attempts.is_empty());

    // Pacing: never more than 2 calls up, call starts ≥ 250 ms apart (4/s).
    let max_live = placer.max_live.load(Ordering::SeqCst);
    assert!(max_live <= 2, "{max_live} concurrent calls");
    let mut starts: Vec<u64> = rec.values().flat_map(|r| r.attempts.iter().map(|a| a.started_ms)).collect();
    starts.sort();
    assert_eq!(starts.len(), 4 + 4 + 1);
    let min_gap = starts.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(0);
    assert!(min_gap >= 250, "call starts {min_gap} ms apart");
    let dialled: Vec<String> = placer.log.lock().iter().map(|(n, _)| n.clone()).collect();
    assert!(!dialled.contains(&"1999".to_string()));

    assert_eq!((p.total, p.done, p.answered), (8, 8, 4));
    assert_eq!(p.results.get("exhausted-busy"), Some(&2));
    assert_eq!(p.attempts.get("busy"), Some(&4));
    assert!((p.answered_pct - 4.0 * 100.0 / 7.0).abs() < 1e-9);
    assert_eq!(store.load("notice-sipp").unwrap().unwrap().progress.unwrap().done, 8);

    for (name, sipp) in [("answer", answer), ("busy", busy), ("ringout", ringout)] {
        let (code, out) = sipp.finish().await;
        assert_eq!(code, 0, "SIPp {name}: {out}");
    }
    ep.shutdown();
    eprintln!(
        "campaign over SIPp: 8 targets, 9 attempts in {:.2} s; max concurrent {max_live}/2; min start gap {min_gap} ms (limit 250 ms); answered {:.1} %",
        elapsed.as_secs_f64(),
        p.answered_pct
    );
}
