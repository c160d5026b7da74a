//! API benchmark (prints figures): `cargo run --release -p courtyard-api --example bench-api [-- SECONDS CONCURRENCY]`
//!
//! Serves the API on 127.0.0.1:0 with the demo data, logs in as an agent, then CONCURRENCY
//! in-process HTTP/1.1 clients (keep-alive) request `GET /api/v1/callers/{number}` (screen-pop,
//! masked JSON) for SECONDS seconds. Prints requests/s and latency p50/p99. Client and server share
//! the machine's 2 cores, so the figure is a lower bound for the server alone.

use courtyard_api::{ApiConfig, ApiState, NoHooks, PasswordCost, create_user, router};
use courtyard_store::Store;
use courtyard_store::import::{ImportKind, import_file};
use courtyard_store::model::{Resident, Role};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let conc: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    let db = tempfile::tempdir()?;
    let store = Arc::new(Store::open(db.path())?);
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-data");
    for (k, f) in [(ImportKind::Estates, "estates.csv"), (ImportKind::Units, "units.csv"), (ImportKind::Owners, "owners.csv"), (ImportKind::Bills, "bills.csv")] {
        import_file(&store, k, &demo.join(f)).await?;
    }
    let phones: Arc<Vec<String>> =
        Arc::new(store.list::<Resident>(|_| true, 0, usize::MAX)?.items.into_iter().flat_map(|r| r.phones).collect());
    create_user(&store, "bench", "bench", Role::Agent, "bench-password", PasswordCost::Default).await?;
    let app = router(ApiState::new(store.clone(), Arc::new(NoHooks), ApiConfig::new(db.path().join("rec"))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let t = Instant::now();
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username":"bench","password":"bench-password"}))
        .send()
        .await?
        .json()
        .await?;
    println!("login (argon2id default params) took {:?}", t.elapsed());
    let token = login["token"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for w in 0..conc {
        let (http, base, token, phones) = (http.clone(), base.clone(), token.clone(), phones.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = w * 7919;
            while Instant::now() < deadline {
                let p = &phones[i % phones.len()];
                i += 31;
                let t = Instant::now();
                let r = http.get(format!("{base}/api/v1/callers/{p}")).bearer_auth(&token).send().await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => return Err("request failed"),
                }
            }
            Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?.map_err(|e| e.to_string())?);
    }
    all.sort();
    let n = all.len();
    println!(
        "GET /api/v1/callers/{{number}}: {n} requests in {secs} s with {conc} clients = {:.0} req/s, p50 {:?} p99 {:?}",
        n as f64 / secs as f64,
        all[n / 2],
        all[(n as f64 * 0.99) as usize]
    );
    Ok(())
}
