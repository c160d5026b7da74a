//! Benchmark (not a test): N concurrent media sessions on loopback, in pairs so RTP flows both
//! ways (each leg plays a prompt in a loop to its partner, which receives, de-jitters and decodes
//! it). Prints CPU per session, RSS per session, sender-side send jitter (how late the 20 ms clock
//! fired) p50/p99/max, and the receivers' RFC 3550 interarrival jitter.
//!
//! `cargo run --release -p courtyard-media --example bench-media -- [SESSIONS=500] [SECONDS=10] [THREADS=2]`
//!
//! `MEDIA_DRIVER=wheel` (default) runs the sessions on THREADS [`MediaThread`]s, the way the
//! runtime does; `MEDIA_DRIVER=tasks` runs each as a tokio task on a THREADS-worker runtime (the
//! driver before session 5), for comparison.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use courtyard_media::{Codec, MediaConfig, MediaSession, MediaThread, PlayOptions, PortAllocator, SendJitter, tone};

fn proc_cpu_ticks() -> u64 {
    // utime + stime of the whole process, in clock ticks (fields 14 and 15 of /proc/self/stat).
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    f.get(11).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:").and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n = args.first().copied().unwrap_or(500) & !1;
    let secs = args.get(1).copied().unwrap_or(10) as u64;
    let threads = args.get(2).copied().unwrap_or(2);
    let wheel = std::env::var("MEDIA_DRIVER").map_or(true, |d| d != "tasks");
    // With media threads, the runtime only runs the play loops (the plugins' side).
    let workers = if wheel { 1 } else { threads };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let rss0 = rss_kib();
        let ports = PortAllocator::any(Ipv4Addr::LOCALHOST.into());
        let media: Vec<MediaThread> =
            if wheel { (0..threads).map(|i| MediaThread::spawn(format!("media-{i}"), || {}).expect("media thread")).collect() } else { Vec::new() };
        let mut sessions = Vec::with_capacity(n);
        for i in 0..n {
            let s = match media.get(i % threads.max(1)) {
                Some(t) => MediaSession::open_on_thread(t, &ports, MediaConfig::default()),
                None => MediaSession::open(&ports, MediaConfig::default()).await,
            };
            sessions.push(s.expect("open"));
        }
        for pair in sessions.chunks(2) {
            // Half the pairs PCMU, half PCMA.
            let codec = if pair[0].local_addr().port() % 4 == 0 { Codec::Pcmu } else { Codec::Pcma };
            pair[0].set_remote(pair[1].local_addr(), codec, Some(101));
            pair[1].set_remote(pair[0].local_addr(), codec, Some(101));
        }
        let prompt: Arc<[i16]> = tone::sine(440.0, 3000, 8000).into();
        for s in &sessions {
            let s = s.clone();
            let prompt = prompt.clone();
            tokio::spawn(async move {
                while s.play(prompt.clone(), PlayOptions::default()).await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        }
        // Warm up, then measure a window.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let before: Vec<SendJitter> = sessions.iter().map(|s| s.send_jitter()).collect();
        let sent0: u64 = sessions.iter().map(|s| s.stats().packets_sent).sum();
        let (cpu0, t0) = (proc_cpu_ticks(), Instant::now());
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let (cpu1, wall) = (proc_cpu_ticks(), t0.elapsed());
        let rss1 = rss_kib();
        let sent1: u64 = sessions.iter().map(|s| s.stats().packets_sent).sum();
        let mut window = SendJitter::default();
        for (s, b) in sessions.iter().zip(&before) {
            window.merge(&s.send_jitter().since(b));
        }
        let stats: Vec<_> = sessions.iter().map(|s| s.stats()).collect();
        let rx_jitter: Vec<f64> = stats.iter().map(|s| s.jitter_ms).collect();
        let lost: u64 = stats.iter().map(|s| s.packets_lost).sum();
        let recv: u64 = stats.iter().map(|s| s.packets_received).sum();
        let skipped: u64 = stats.iter().map(|s| s.ticks_skipped).sum();
        let clk_tck = 100.0; // Linux USER_HZ
        let cpu_s = (cpu1 - cpu0) as f64 / clk_tck;
        let cpu_pct = cpu_s / wall.as_secs_f64() * 100.0;
        let mut rj = rx_jitter.clone();
        rj.sort_by(|a, b| a.total_cmp(b));
        let driver = if wheel { "media threads (timing wheel)" } else { "tokio worker threads (task per leg)" };
        println!("bench-media: {n} sessions ({} pairs, RTP both ways, G.711 + jitter buffer), {threads} {driver}, {secs} s window", n / 2);
        println!("  packets sent in window     {} ({:.0} pps)", sent1 - sent0, (sent1 - sent0) as f64 / wall.as_secs_f64());
        println!("  CPU                        {cpu_pct:.1} % of one core total, {:.3} % per session ({:.1} µs CPU per session-second)", cpu_pct / n as f64, cpu_s * 1e6 / n as f64 / wall.as_secs_f64());
        println!("  RSS                        {} KiB total growth, {:.1} KiB per session", rss1.saturating_sub(rss0), rss1.saturating_sub(rss0) as f64 / n as f64);
        println!(
            "  send jitter (clock late)   p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  over {} ticks (max: whole run)",
            window.percentile_us(0.5) as f64 / 1000.0,
            window.percentile_us(0.99) as f64 / 1000.0,
            window.max_us() as f64 / 1000.0,
            window.count()
        );
        println!(
            "  receive jitter (RFC 3550)  median {:.2} ms  p99 {:.2} ms  max {:.2} ms (at the partner leg)",
            rj[rj.len() / 2],
            rj[(rj.len() * 99 / 100).min(rj.len() - 1)],
            rj[rj.len() - 1]
        );
        println!("  received {recv}, lost {lost}, ticks skipped (>100 ms late) {skipped}");
        for s in &sessions {
            s.close().await;
        }
    });
}
