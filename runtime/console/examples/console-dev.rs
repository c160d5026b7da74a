//! Serve the API over a demo store with the console next to it, for UI work without SIP.
//! `cargo run -p courtyard-console --example console-dev -- --http 127.0.0.1:8080 [--data DIR]`
//! Prints `http=ADDR` once listening. No events are published (no ACD here).

use anyhow::Context;
use clap::Parser;
use courtyard_api::{ApiConfig, ApiState, NoHooks, PasswordCost, create_user};
use courtyard_store::Store;
use courtyard_store::model::Role;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
struct Args {
    /// Listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: String,
    /// Data directory (a temporary one when absent).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Demo CSV directory to import.
    #[arg(long, default_value = "examples/demo-data")]
    demo: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let tmp = tempfile::tempdir()?;
    let data = args.data.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let store = Arc::new(Store::open(&data.join("db")).context("open store")?);
    if args.demo.exists() {
        courtyard_store::import::import_dir(&store, &args.demo).await.context("import demo data")?;
    }
    let mut accounts = vec![("admin", Role::Admin, "admin-demo".to_string(), None), ("supervisor", Role::Supervisor, "supervisor-demo".to_string(), None)];
    for ext in ["8001", "8002", "8003", "8004", "8005"] {
        accounts.push((ext, Role::Agent, format!("demo{ext}"), Some(ext)));
    }
    for (name, role, pass, agent) in accounts {
        let mut u = create_user(&store, name, name, role, &pass, PasswordCost::Low).await.map_err(|e| anyhow::anyhow!(e.message))?;
        u.agent_id = agent.map(str::to_string);
        store.put(&u).await?;
    }
    let mut cfg = ApiConfig::new(data.join("recordings"));
    cfg.password_cost = PasswordCost::Low;
    let api = courtyard_api::router(ApiState::new(store, Arc::new(NoHooks), cfg));
    let (events, _) = tokio::sync::broadcast::channel(1024);
    let app = api.clone().merge(courtyard_console::router(events, api));
    let listener = tokio::net::TcpListener::bind(&args.http).await?;
    println!("http={}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
