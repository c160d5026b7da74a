//! `courtyard`: the call-center runtime binary.
//!
//! One process holds the whole call path: SIP signalling → RTP media → WebAssembly call flows →
//! ACD → store → HTTP API. `courtyard demo` runs it on the embedded defaults (sled on disk, no
//! external services), callable by any SIP phone at `sip:4008123456@<host>`.

mod acd_api;
mod api_docs;
mod app;
mod call;
mod cli;
mod config;
mod console_api;
mod demo;
mod deployments;
mod flow_remote;
mod flows;
mod http;
mod limits;
mod media_rt;
mod memory;
mod metrics;
mod notifications_api;
mod ops_api;
mod outbound;
mod plugin_cli;
mod services;
mod supervise;
mod trace;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_tracing(args.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("courtyard: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("courtyard: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each said once: many error types put their cause in their own
/// message *and* return it as `source()`, which `{:#}` would print again at every level.
fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("COURTYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only on a terminal: logs redirected to a file or journald stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi).init();
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[derive(Debug, thiserror::Error)]
    #[error("refused: {0}")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("imports 'billing', not granted")]
    struct Inner;

    #[test]
    fn each_cause_is_said_once() {
        let e = anyhow::Error::new(Outer(Inner)).context("plugin refused");
        assert_eq!(describe(&e), "plugin refused: refused: imports 'billing', not granted");
        let plain = anyhow::anyhow!("cannot read x.wasm").context("install");
        assert_eq!(describe(&plain), "install: cannot read x.wasm");
    }
}
