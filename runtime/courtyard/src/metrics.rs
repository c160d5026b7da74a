//! Prometheus text exposition for `/metrics`: live calls, calls and failures per flow version,
//! plugin failures by kind, SIP requests and responses by code, calls refused by limits, queue
//! waits and agent states, RTP loss and jitter, TTS cache efficiency and process memory. Labels
//! never carry phone numbers or addresses (personal data stays out of monitoring systems).

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;

use courtyard_media::{MediaSession, SendJitter};
use parking_lot::Mutex;

use crate::app::Shared;

/// RTP figures of finished calls, merged at the end of each call.
#[derive(Default)]
struct MediaTotals {
    sessions: u64,
    packets_sent: u64,
    packets_received: u64,
    packets_lost: u64,
    ticks_skipped: u64,
    digits: u64,
    send_late: SendJitter,
    /// Receive interarrival jitter (RFC 3550) of each finished call, ms, bucketed.
    rx_jitter: [u64; RX_JITTER_BOUNDS_MS.len() + 1],
    rx_jitter_sum_ms: f64,
}

const RX_JITTER_BOUNDS_MS: [f64; 7] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];

static MEDIA: LazyLock<Mutex<MediaTotals>> = LazyLock::new(Mutex::default);

/// Adds a finished call's RTP statistics (call before closing the session).
pub fn media_finished(media: &MediaSession) {
    let st = media.stats();
    let late = media.send_jitter();
    let mut m = MEDIA.lock();
    m.sessions += 1;
    m.packets_sent += st.packets_sent;
    m.packets_received += st.packets_received;
    m.packets_lost += st.packets_lost;
    m.ticks_skipped += st.ticks_skipped;
    m.digits += st.digits_received;
    m.send_late.merge(&late);
    let i = RX_JITTER_BOUNDS_MS.iter().position(|b| st.jitter_ms <= *b).unwrap_or(RX_JITTER_BOUNDS_MS.len());
    m.rx_jitter[i] += 1;
    m.rx_jitter_sum_ms += st.jitter_ms;
}

/// Queue and agent figures, refreshed in the background (the ACD answers asynchronously and
/// `/metrics` renders synchronously).
#[derive(Default, Clone)]
struct AcdFigures {
    /// (queue, waiting, longest wait s, answered today, abandoned today, ASA s)
    queues: Vec<(String, usize, f64, u64, u64, f64)>,
    /// (state, agents)
    agents: Vec<(String, usize)>,
}

static ACD: LazyLock<Mutex<AcdFigures>> = LazyLock::new(Mutex::default);

fn ensure_acd_sampler(shared: &Shared) {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, Ordering::Relaxed) {
        return;
    }
    let acd = shared.acd.clone();
    let sample = async move {
        loop {
            if let Ok(snap) = acd.snapshot().await {
                let mut f = AcdFigures::default();
                for q in &snap.queues {
                    f.queues.push((
                        q.name.clone(),
                        q.waiting,
                        q.longest_wait_secs,
                        q.today.answered,
                        q.today.abandoned,
                        q.today.asa_secs.unwrap_or(0.0),
                    ));
                }
                let mut states = std::collections::BTreeMap::<String, usize>::new();
                for a in &snap.agents {
                    let v = serde_json::to_value(&a.state).unwrap_or_default();
                    let s = v["state"].as_str().unwrap_or("unknown").to_string();
                    *states.entry(s).or_default() += 1;
                }
                f.agents = states.into_iter().collect();
                *ACD.lock() = f;
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
    };
    if let Ok(h) = tokio::runtime::Handle::try_current() {
        h.spawn(sample);
    }
}

fn rss_bytes() -> u64 {
    crate::memory::rss_kib().unwrap_or(0) * 1024
}

/// Renders the current metrics in the Prometheus text format.
pub fn render(shared: &Shared) -> String {
    let mut out = String::new();
    let live = shared.live_calls().len();
    gauge(&mut out, "courtyard_calls_active", "Calls in progress in flows, queues or with agents.", live as u64);
    gauge(&mut out, "courtyard_sip_dialogs_active", "SIP dialogs the endpoint holds.", shared.sip.active_dialogs() as u64);
    let _ = writeln!(out, "# HELP courtyard_flow_calls_total Calls run per flow version, by result.");
    let _ = writeln!(out, "# TYPE courtyard_flow_calls_total counter");
    for flow in shared.flows.flow_names() {
        for v in shared.flows.versions(&flow) {
            let labels = format!("flow=\"{}\",plugin=\"{}\",version=\"{}\"", esc(&flow), esc(&v.plugin_name), esc(&v.plugin_version));
            let c = &v.counts;
            let _ = writeln!(out, "courtyard_flow_calls_total{{{labels},result=\"completed\"}} {}", c.completed);
            let _ = writeln!(out, "courtyard_flow_calls_total{{{labels},result=\"caller_hangup\"}} {}", c.caller_hangups);
            let _ = writeln!(out, "courtyard_flow_calls_total{{{labels},result=\"failed\"}} {}", c.failures);
            let _ = writeln!(out, "courtyard_flow_calls_in_flight{{{labels}}} {}", c.in_flight);
        }
    }
    let _ = writeln!(out, "# HELP courtyard_plugin_failures_total Plugin failures (trap, timeout, memory, error, instantiate).");
    let _ = writeln!(out, "# TYPE courtyard_plugin_failures_total counter");
    for f in shared.flows.host().failure_counts() {
        let _ = writeln!(
            out,
            "courtyard_plugin_failures_total{{plugin=\"{}\",version=\"{}\",kind=\"{}\"}} {}",
            esc(&f.plugin),
            esc(&f.version),
            f.kind,
            f.count
        );
    }
    let t = shared.tts.stats();
    counter(&mut out, "courtyard_tts_synthesized_total", "Prompts synthesized by the TTS engine.", t.synthesized);
    counter(&mut out, "courtyard_tts_cache_hits_total", "Prompts served from the TTS cache (memory + disk).", t.memory_hits + t.disk_hits);
    counter(&mut out, "courtyard_tts_recordings_total", "Prompts served from the operator's recordings.", t.recordings);
    let (records, groups) = shared.cdrs.counts();
    counter(&mut out, "courtyard_cdr_writes_total", "Call records stored (at answer and at the end of each call).", records);
    counter(&mut out, "courtyard_cdr_write_groups_total", "Store transactions the call records were written in (records that arrive together share one).", groups);
    let _ = writeln!(out, "# HELP courtyard_trunk_up Trunk reachable by OPTIONS keep-alive (1 up, 0 down/checking/unprobed).");
    let _ = writeln!(out, "# TYPE courtyard_trunk_up gauge");
    for t in shared.outbound.trunks() {
        let up = t.health.get().state == crate::outbound::health::TrunkState::Up;
        let _ = writeln!(out, "courtyard_trunk_up{{trunk=\"{}\"}} {}", esc(&t.cfg.name), u8::from(up));
    }
    render_ops(&mut out, shared);
    out
}

/// SIP traffic, limits, ACD, RTP and process figures.
fn render_ops(out: &mut String, shared: &Shared) {
    let w = crate::trace::watch();
    let _ = writeln!(out, "# HELP courtyard_sip_requests_received_total SIP requests received, by method.");
    let _ = writeln!(out, "# TYPE courtyard_sip_requests_received_total counter");
    for (m, v) in w.requests_received() {
        let _ = writeln!(out, "courtyard_sip_requests_received_total{{method=\"{m}\"}} {v}");
    }
    let _ = writeln!(out, "# HELP courtyard_sip_responses_sent_total SIP responses sent, by status code.");
    let _ = writeln!(out, "# TYPE courtyard_sip_responses_sent_total counter");
    for (c, v) in w.responses_sent() {
        let _ = writeln!(out, "courtyard_sip_responses_sent_total{{code=\"{c}\"}} {v}");
    }
    let _ = writeln!(out, "# HELP courtyard_sip_responses_received_total SIP responses received to our requests, by status code.");
    let _ = writeln!(out, "# TYPE courtyard_sip_responses_received_total counter");
    for (c, v) in w.responses_received() {
        let _ = writeln!(out, "courtyard_sip_responses_received_total{{code=\"{c}\"}} {v}");
    }
    counter(out, "courtyard_sip_trace_messages_total", "SIP messages written to the on-demand trace log.", w.traced_messages());

    let l = crate::limits::counts();
    let _ = writeln!(out, "# HELP courtyard_calls_refused_total Calls refused by a concurrent-call limit or because the media threads were overloaded, by limit.");
    let _ = writeln!(out, "# TYPE courtyard_calls_refused_total counter");
    let _ = writeln!(out, "courtyard_calls_refused_total{{limit=\"caller\"}} {}", l.refused_by_caller_limit());
    let _ = writeln!(out, "courtyard_calls_refused_total{{limit=\"source\"}} {}", l.refused_by_source_limit());
    let _ = writeln!(out, "courtyard_calls_refused_total{{limit=\"media_load\"}} {}", l.refused_by_media_load());
    let loads = crate::media_rt::loads();
    if !loads.is_empty() {
        let _ = writeln!(out, "# HELP courtyard_media_thread_load Share of the last second a media thread spent ticking its calls' legs (0-1; calls are refused at [media] max_load).\n# TYPE courtyard_media_thread_load gauge");
        for (name, load) in loads {
            let _ = writeln!(out, "courtyard_media_thread_load{{thread=\"{}\"}} {load:.3}", esc(&name));
        }
    }
    gauge(out, "courtyard_call_sources_active", "Distinct source addresses with calls in progress.", l.active_sources() as u64);

    ensure_acd_sampler(shared);
    let a = ACD.lock().clone();
    let _ = writeln!(out, "# HELP courtyard_queue_waiting Calls waiting in a queue now.\n# TYPE courtyard_queue_waiting gauge");
    for (q, waiting, ..) in &a.queues {
        let _ = writeln!(out, "courtyard_queue_waiting{{queue=\"{}\"}} {waiting}", esc(q));
    }
    let _ = writeln!(out, "# HELP courtyard_queue_longest_wait_seconds Longest current wait in a queue.\n# TYPE courtyard_queue_longest_wait_seconds gauge");
    for (q, _, longest, ..) in &a.queues {
        let _ = writeln!(out, "courtyard_queue_longest_wait_seconds{{queue=\"{}\"}} {longest:.3}", esc(q));
    }
    let _ = writeln!(out, "# HELP courtyard_queue_asa_seconds Average speed of answer today.\n# TYPE courtyard_queue_asa_seconds gauge");
    for (q, _, _, _, _, asa) in &a.queues {
        let _ = writeln!(out, "courtyard_queue_asa_seconds{{queue=\"{}\"}} {asa:.3}", esc(q));
    }
    let _ = writeln!(out, "# HELP courtyard_queue_calls_today Queue calls today, by outcome.\n# TYPE courtyard_queue_calls_today gauge");
    for (q, _, _, answered, abandoned, _) in &a.queues {
        let _ = writeln!(out, "courtyard_queue_calls_today{{queue=\"{}\",outcome=\"answered\"}} {answered}", esc(q));
        let _ = writeln!(out, "courtyard_queue_calls_today{{queue=\"{}\",outcome=\"abandoned\"}} {abandoned}", esc(q));
    }
    let _ = writeln!(out, "# HELP courtyard_agents Agents by state.\n# TYPE courtyard_agents gauge");
    for (s, n) in &a.agents {
        let _ = writeln!(out, "courtyard_agents{{state=\"{}\"}} {n}", esc(s));
    }

    let m = MEDIA.lock();
    counter(out, "courtyard_rtp_sessions_total", "RTP sessions of finished calls.", m.sessions);
    counter(out, "courtyard_rtp_packets_sent_total", "RTP packets sent (finished calls).", m.packets_sent);
    counter(out, "courtyard_rtp_packets_received_total", "RTP packets received (finished calls).", m.packets_received);
    counter(out, "courtyard_rtp_packets_lost_total", "RTP packets lost on the way to us (RFC 3550, finished calls).", m.packets_lost);
    counter(out, "courtyard_dtmf_digits_received_total", "Digits received from callers (RFC 4733, SIP INFO, in-band; finished calls).", m.digits);
    counter(out, "courtyard_rtp_ticks_skipped_total", "20 ms media ticks skipped because the node ran over 100 ms late.", m.ticks_skipped);
    let _ = writeln!(out, "# HELP courtyard_rtp_send_late_seconds How late the 20 ms RTP send clock fired (send jitter), finished calls.");
    let _ = writeln!(out, "# TYPE courtyard_rtp_send_late_seconds summary");
    for q in [0.5, 0.9, 0.99, 0.999] {
        let _ = writeln!(out, "courtyard_rtp_send_late_seconds{{quantile=\"{q}\"}} {:.6}", f64::from(m.send_late.percentile_us(q)) / 1e6);
    }
    let _ = writeln!(out, "courtyard_rtp_send_late_seconds_count {}", m.send_late.count());
    let _ = writeln!(out, "courtyard_rtp_send_late_max_seconds {:.6}", f64::from(m.send_late.max_us()) / 1e6);
    let _ = writeln!(out, "# HELP courtyard_rtp_receive_jitter_ms Receive interarrival jitter (RFC 3550) per finished call.");
    let _ = writeln!(out, "# TYPE courtyard_rtp_receive_jitter_ms histogram");
    let mut acc = 0;
    for (i, b) in RX_JITTER_BOUNDS_MS.iter().enumerate() {
        acc += m.rx_jitter[i];
        let _ = writeln!(out, "courtyard_rtp_receive_jitter_ms_bucket{{le=\"{b}\"}} {acc}");
    }
    acc += m.rx_jitter[RX_JITTER_BOUNDS_MS.len()];
    let _ = writeln!(out, "courtyard_rtp_receive_jitter_ms_bucket{{le=\"+Inf\"}} {acc}");
    let _ = writeln!(out, "courtyard_rtp_receive_jitter_ms_sum {:.3}", m.rx_jitter_sum_ms);
    let _ = writeln!(out, "courtyard_rtp_receive_jitter_ms_count {acc}");
    drop(m);
    gauge(out, "courtyard_process_resident_memory_bytes", "Resident memory of the process.", rss_bytes());
}

fn gauge(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
}

fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
}

/// Escapes a label value (backslash, quote, newline).
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
