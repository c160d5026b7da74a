//! Command-line interface: the verbs an operator, a plugin author and our tests use.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, DEMO_CONFIG};

/// Courtyard: a call-center runtime where every call flow is a WebAssembly plugin.
#[derive(Debug, Parser)]
#[command(name = "courtyard", version, about)]
pub struct Cli {
    /// More log output (-v debug, -vv trace); COURTYARD_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the demo call center on the embedded default (demo data, demo flows, demo agents).
    Demo {
        /// SIP listen address (UDP and TCP).
        #[arg(long, default_value = "0.0.0.0:5060")]
        sip: SocketAddr,
        /// HTTP API / console listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        http: SocketAddr,
        /// Data directory (database, recordings, caches).
        #[arg(long, default_value = "./demo-data")]
        data: PathBuf,
        /// Directory holding the plugin components named in the config.
        #[arg(long, default_value = "plugins/target/wasm32-wasip2/release")]
        plugins: PathBuf,
    },
    /// Run with a configuration file.
    Serve {
        /// The TOML configuration.
        #[arg(long)]
        config: PathBuf,
        /// Directory holding the plugin components named in the config.
        #[arg(long, default_value = "plugins")]
        plugins: PathBuf,
    },
    /// Check a configuration file and exit (0 when valid).
    CheckConfig {
        /// The TOML configuration.
        config: PathBuf,
    },
    /// Plugin author tools.
    Flow {
        /// What to do with a flow.
        #[command(subcommand)]
        command: FlowCommand,
    },
}

/// `courtyard flow …`
#[derive(Debug, Subcommand)]
pub enum FlowCommand {
    /// Drive a scripted call through a plugin without SIP (exit 0 on pass).
    Test {
        /// The plugin component (.wasm).
        wasm: PathBuf,
        /// The simulator script (.toml).
        #[arg(long)]
        script: PathBuf,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::CheckConfig { config } => {
            let cfg = Config::load(&config)?;
            println!(
                "{}: ok ({} flows, {} routes, {} agents, {} queues)",
                config.display(),
                cfg.flows.len(),
                cfg.routes.len(),
                cfg.agents.len(),
                cfg.queues.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { sip, http, data, plugins } => {
            let mut cfg = Config::parse(DEMO_CONFIG, "demo")?;
            cfg.sip.listen = sip;
            cfg.http.listen = http;
            cfg.data.dir = data;
            cfg.apply_env()?;
            let _ = plugins;
            anyhow::bail!("the demo is being wired (see docs/architecture.md)")
        }
        Command::Serve { config, plugins } => {
            let mut cfg = Config::load(&config)?;
            cfg.apply_env()?;
            let _ = plugins;
            anyhow::bail!("serve is being wired (see docs/architecture.md)")
        }
        Command::Flow { command: FlowCommand::Test { wasm, script } } => {
            let _ = (wasm, script);
            anyhow::bail!("the simulator is being wired")
        }
    }
}
