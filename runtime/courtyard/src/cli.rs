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
        /// Working hours of the demo hotline's "default" calendar: office (Mon–Fri 08:30–17:30,
        /// Sat 09:00–12:00), 24x7, or closed (every call gets the after-hours service).
        #[arg(long, value_enum, default_value = "office")]
        hours: crate::demo::Hours,
        /// TOML appended to the demo configuration (e.g. `[[trunk]]` and extra `[[flow]]` tables).
        #[arg(long)]
        config_extra: Option<PathBuf>,
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
    /// Import a CSV file (UTF-8 or GBK) into the store; bad lines are reported, good ones kept.
    Import {
        /// What the file holds: estates, units, owners, bills, warranty, kb, announcements.
        kind: String,
        /// The CSV file.
        file: PathBuf,
        /// Data directory.
        #[arg(long, default_value = "./demo-data")]
        data: PathBuf,
    },
    /// Signed plugin packages: new, keygen, pack, sign, verify, inspect, trust, push, pull.
    Plugin {
        /// What to do.
        #[command(subcommand)]
        command: crate::plugin_cli::PluginCommand,
    },
    /// Flows: test a plugin with a script; list, install, activate, roll back, roll out and
    /// uninstall versions on a running node.
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
    /// Lifecycle on a running node: list, install, activate, rollback, rollout, uninstall.
    #[command(flatten)]
    Remote(crate::flow_remote::RemoteCommand),
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
        Command::Demo { sip, http, data, plugins, hours, config_extra } => {
            let mut cfg = match config_extra {
                Some(extra) => {
                    let text = std::fs::read_to_string(&extra)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", extra.display()))?;
                    Config::parse(&format!("{DEMO_CONFIG}\n{text}"), &format!("demo + {}", extra.display()))?
                }
                None => Config::parse(DEMO_CONFIG, "demo")?,
            };
            cfg.sip.listen = sip;
            cfg.http.listen = http;
            cfg.data.dir = data;
            cfg.apply_env()?;
            serve(cfg, &plugins, Some(hours)).await
        }
        Command::Serve { config, plugins } => {
            let mut cfg = Config::load(&config)?;
            cfg.apply_env()?;
            serve(cfg, &plugins, None).await
        }
        Command::Import { kind, file, data } => {
            let kind: courtyard_store::import::ImportKind = kind.parse()?;
            let store = courtyard_store::Store::open(&data.join("db"))?;
            let report = courtyard_store::import::import_file(&store, kind, &file).await?;
            println!(
                "{}: {} rows, {} imported, {} rejected (encoding {})",
                file.display(),
                report.rows,
                report.imported,
                report.bad.len(),
                report.encoding
            );
            for bad in &report.bad {
                println!("{bad}");
            }
            Ok(if report.bad.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(3) })
        }
        Command::Plugin { command } => crate::plugin_cli::run(command).await,
        Command::Flow { command: FlowCommand::Remote(cmd) } => crate::flow_remote::run(cmd).await,
        Command::Flow { command: FlowCommand::Test { wasm, script } } => {
            // A compiled-component cache shared by simulator runs, so a plugin author's script
            // suite compiles each component once.
            let host = courtyard_flows::FlowHost::new(courtyard_flows::HostConfig {
                max_concurrent_instances: 8,
                cache_dir: Some(std::env::temp_dir().join("courtyard-sim-cache")),
                ..courtyard_flows::HostConfig::default()
            })?;
            let report = courtyard_flows::simulator::run_script_file(&host, &wasm, &script).await?;
            println!("{}: {}", script.display(), if report.passed { "pass" } else { "FAIL" });
            if !report.passed {
                println!("{report}");
            }
            Ok(if report.passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// Runs the call center until SIGINT/SIGTERM, then drains calls and exits.
async fn serve(cfg: Config, plugins: &std::path::Path, demo: Option<crate::demo::Hours>) -> anyhow::Result<ExitCode> {
    let app = crate::app::start(cfg, plugins, demo).await?;
    // Tests and scripts read the actual addresses (port 0 = chosen by the OS) from stdout.
    println!("sip={}", app.sip_addr);
    println!("http={}", app.http_addr);
    if demo.is_some() {
        println!(
            "Courtyard demo is taking calls: dial sip:4008123456@{} (console/API on http://{})",
            app.sip_addr, app.http_addr
        );
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted: draining"),
        _ = term.recv() => tracing::info!("SIGTERM: draining"),
    }
    app.shutdown(std::time::Duration::from_secs(30)).await;
    Ok(ExitCode::SUCCESS)
}
