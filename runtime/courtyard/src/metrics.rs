//! Prometheus text exposition for `/metrics`: live calls, calls and failures per flow version,
//! plugin failures by kind, SIP dialogs and TTS cache efficiency. Labels never carry phone
//! numbers (personal data stays out of monitoring systems).

use std::fmt::Write;

use crate::app::Shared;

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
    out
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
