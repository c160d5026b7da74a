//! `courtyard flow list|install|activate|rollback|rollout|uninstall`: the operator's lifecycle
//! verbs against a running node, over its authenticated HTTP API (the same endpoints the console
//! uses, so every action lands in the audit log under the operator's name).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// Where the node is and who is asking.
#[derive(Debug, Args)]
pub struct Server {
    /// The node's HTTP address.
    #[arg(long, env = "COURTYARD_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// API user (an operator/admin account).
    #[arg(long, env = "COURTYARD_USER", default_value = "admin")]
    user: String,
    /// Its password.
    #[arg(long, env = "COURTYARD_PASSWORD", hide_env_values = true)]
    password: String,
}

/// Lifecycle verbs on a live node.
#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Flows with their versions: active, rollout share, calls, failures.
    List {
        #[command(flatten)]
        server: Server,
    },
    /// Install a signed package for a flow, granting capabilities (verified by the node).
    Install {
        /// Flow name (routes point at it).
        flow: String,
        /// The package (.cyp).
        package: PathBuf,
        /// Capabilities granted, comma-separated (e.g. call,billing.read,notify.sms,log).
        #[arg(long)]
        grant: String,
        /// Plugin configuration (a JSON file); default: the flow's configured configuration.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Activate once the canary run passes.
        #[arg(long)]
        activate: bool,
        #[command(flatten)]
        server: Server,
    },
    /// Make a version the one every new call gets (calls in progress keep theirs).
    Activate {
        /// Flow name.
        flow: String,
        /// Version key (from `flow list`).
        version: String,
        #[command(flatten)]
        server: Server,
    },
    /// Go back to the previously active version.
    Rollback {
        /// Flow name.
        flow: String,
        #[command(flatten)]
        server: Server,
    },
    /// Stage a version for a share of calls and/or some estates; `--end` stops the rollout.
    Rollout {
        /// Flow name.
        flow: String,
        /// Candidate version key.
        version: Option<String>,
        /// Share of calls, 0–100.
        #[arg(long, default_value_t = 0)]
        percent: u32,
        /// Estate ids whose every call runs the candidate (repeatable).
        #[arg(long = "estate")]
        estates: Vec<String>,
        /// End the rollout instead.
        #[arg(long, conflicts_with = "version")]
        end: bool,
        #[command(flatten)]
        server: Server,
    },
    /// Remove a version nothing uses any more.
    Uninstall {
        /// Flow name.
        flow: String,
        /// Version key.
        version: String,
        #[command(flatten)]
        server: Server,
    },
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn login(s: &Server) -> anyhow::Result<Client> {
        let http = reqwest::Client::new();
        let base = s.server.trim_end_matches('/').to_string();
        let resp = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "username": s.user, "password": s.password }))
            .send()
            .await
            .with_context(|| format!("cannot reach {base}"))?;
        let body = answer(resp).await.context("login refused")?;
        let token = body["token"].as_str().context("login answer has no token")?.to_string();
        Ok(Client { http, base, token })
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        answer(req.bearer_auth(&self.token).send().await.with_context(|| format!("cannot reach {}", self.base))?).await
    }
}

/// The JSON body of a 2xx answer, or the node's error message.
async fn answer(resp: reqwest::Response) -> anyhow::Result<Value> {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if !status.is_success() {
        let why = body.get("error").and_then(Value::as_str).map(String::from).unwrap_or_else(|| body.to_string());
        bail!("{status}: {why}");
    }
    Ok(body)
}

fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Runs one lifecycle verb and prints the node's answer.
pub async fn run(cmd: RemoteCommand) -> anyhow::Result<ExitCode> {
    let out = match cmd {
        RemoteCommand::List { server } => {
            let c = Client::login(&server).await?;
            let body = c.send(c.http.get(format!("{}/api/v1/flows", c.base))).await?;
            print_flows(&body);
            return Ok(ExitCode::SUCCESS);
        }
        RemoteCommand::Install { flow, package, grant, config, activate, server } => {
            let bytes = std::fs::read(&package).with_context(|| format!("cannot read {}", package.display()))?;
            let mut query = vec![("flow", flow), ("grants", grant), ("activate", activate.to_string())];
            if let Some(path) = config {
                let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                serde_json::from_str::<Value>(&text).with_context(|| format!("{} is not JSON", path.display()))?;
                query.push(("config", text));
            }
            let c = Client::login(&server).await?;
            c.send(c.http.post(format!("{}/api/v1/plugins/install", c.base)).query(&query).body(bytes)).await?
        }
        RemoteCommand::Activate { flow, version, server } => {
            let c = Client::login(&server).await?;
            let url = format!("{}/api/v1/flows/{}/activate", c.base, path_segment(&flow));
            c.send(c.http.post(url).json(&json!({ "version": version }))).await?
        }
        RemoteCommand::Rollback { flow, server } => {
            let c = Client::login(&server).await?;
            c.send(c.http.post(format!("{}/api/v1/flows/{}/rollback", c.base, path_segment(&flow)))).await?
        }
        RemoteCommand::Rollout { flow, version, percent, estates, end, server } => {
            let c = Client::login(&server).await?;
            let url = format!("{}/api/v1/flows/{}/rollout", c.base, path_segment(&flow));
            if end {
                c.send(c.http.delete(url)).await?
            } else {
                let Some(version) = version else { bail!("give the candidate version key, or --end") };
                c.send(c.http.post(url).json(&json!({ "version": version, "percent": percent, "estates": estates }))).await?
            }
        }
        RemoteCommand::Uninstall { flow, version, server } => {
            let c = Client::login(&server).await?;
            let url = format!("{}/api/v1/flows/{}/versions/{}", c.base, path_segment(&flow), path_segment(&version));
            c.send(c.http.delete(url)).await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

/// One line per version: flow, key, plugin@version, state, calls/failures.
fn print_flows(body: &Value) {
    let empty = Vec::new();
    for flow in body["flows"].as_array().unwrap_or(&empty) {
        let name = flow["name"].as_str().unwrap_or("?");
        for v in flow["versions"].as_array().unwrap_or(&empty) {
            let state = if v["active"].as_bool() == Some(true) {
                "active".to_string()
            } else if let Some(r) = v["rollout"].as_object() {
                format!("rollout {}% {}", r.get("percent").and_then(Value::as_u64).unwrap_or(0), r.get("estates").map(Value::to_string).unwrap_or_default())
            } else if v["tripped"].as_bool() == Some(true) {
                "tripped".to_string()
            } else {
                "installed".to_string()
            };
            println!(
                "{name}\t{}\t{}@{}\t{state}\tcalls {} failures {}",
                v["key"].as_str().unwrap_or("?"),
                v["plugin_name"].as_str().unwrap_or("?"),
                v["plugin_version"].as_str().unwrap_or("?"),
                v["counts"]["calls"],
                v["counts"]["failures"],
            );
        }
    }
}
