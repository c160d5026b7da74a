//! How late this machine wakes a sleeping thread: the floor under any send-lateness figure.
//!
//! A thread sleeps to a deadline every `--period-us` (default 1000, the media wheel's slot) the
//! way a media thread does (a channel receive with a timeout) and records how late it woke.
//! On a virtual machine an idle vCPU halts, and the host may take milliseconds to run it again
//! when its timer fires; no setting inside the guest changes that. `tests/bench/ivr-load.sh`
//! prints this before its steps so its lateness columns can be read against the machine.
//!
//! `cargo run --release -p courtyard-media --example timer_floor -- [--seconds 5] [--period-us 1000]`

use std::time::{Duration, Instant};

fn main() {
    let mut seconds = 5.0f64;
    let mut period_us = 1000u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--seconds" => seconds = v.parse().expect("--seconds N"),
            "--period-us" => period_us = v.parse().expect("--period-us N"),
            _ => panic!("unknown option {a} (--seconds, --period-us)"),
        }
    }
    let period = Duration::from_micros(period_us.max(50));
    let n = ((seconds * 1e6) / period.as_micros() as f64).ceil().max(1.0) as usize;
    let (_keep, rx) = std::sync::mpsc::channel::<()>();
    let mut late_us = Vec::with_capacity(n);
    let mut deadline = Instant::now() + period;
    for _ in 0..n {
        let now = Instant::now();
        if deadline > now {
            let _ = rx.recv_timeout(deadline - now);
        }
        late_us.push(Instant::now().saturating_duration_since(deadline).as_micros() as u64);
        deadline += period;
    }
    late_us.sort_unstable();
    let q = |p: f64| late_us[((late_us.len() as f64 * p).ceil() as usize).clamp(1, late_us.len()) - 1] as f64 / 1000.0;
    let over = |ms: u64| late_us.iter().filter(|&&l| l > ms * 1000).count() as f64 * 100.0 / late_us.len() as f64;
    println!(
        "TIMER_FLOOR period_ms={:.1} wakeups={} late_ms p50={:.2} p99={:.2} p99.9={:.2} max={:.2} over_2ms={:.2}% over_5ms={:.2}%",
        period.as_secs_f64() * 1000.0,
        late_us.len(),
        q(0.5),
        q(0.99),
        q(0.999),
        q(1.0),
        over(2),
        over(5)
    );
}
