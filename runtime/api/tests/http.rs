//! The API over real HTTP on 127.0.0.1:0 with a real sled store and the committed demo data.

use courtyard_api::{ApiConfig, ApiHooks, ApiState, NoHooks, PasswordCost, create_user, router};
use courtyard_store::model::{Recording, Role};
use courtyard_store::{FixedClock, Store, StoreOptions};
use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

struct Server {
    base: String,
    http: reqwest::Client,
    store: Arc<Store>,
    rec_dir: tempfile::TempDir,
    _db: tempfile::TempDir,
}

const PW: &str = "demo-pass-123";

async fn start(hooks: Arc<dyn ApiHooks>) -> Server {
    let db = tempfile::tempdir().unwrap();
    let rec_dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00+08:00").unwrap()));
    let store = Arc::new(Store::open_with(db.path(), StoreOptions { clock, ..StoreOptions::default() }).unwrap());
    for (u, r) in [("admin", Role::Admin), ("sup", Role::Supervisor), ("agent", Role::Agent), ("vendor", Role::PluginVendor)] {
        create_user(&store, u, u, r, PW, PasswordCost::Low).await.unwrap();
    }
    let mut cfg = ApiConfig::new(rec_dir.path().to_path_buf());
    cfg.password_cost = PasswordCost::Low;
    let app = router(ApiState::new(store.clone(), hooks, cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { base: format!("http://{addr}"), http: reqwest::Client::new(), store, rec_dir, _db: db }
}

impl Server {
    async fn login(&self, user: &str) -> String {
        let r = self.http.post(format!("{}/api/v1/auth/login", self.base)).json(&json!({"username": user, "password": PW})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_string()
    }
    async fn get(&self, tok: &str, path: &str) -> (StatusCode, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(tok).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn post(&self, tok: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.http.post(format!("{}{path}", self.base)).bearer_auth(tok).json(&body).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn delete(&self, tok: &str, path: &str) -> (StatusCode, Value) {
        let r = self.http.delete(format!("{}{path}", self.base)).bearer_auth(tok).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn import(&self, tok: &str, kind: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let r = self.http.post(format!("{}/api/v1/import/{kind}", self.base)).bearer_auth(tok).body(body).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

fn demo(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-data").join(name)).unwrap()
}

async fn load_demo(s: &Server, sup: &str) {
    for (kind, file) in [("estates", "estates.csv"), ("units", "units.csv"), ("owners", "owners.csv"), ("bills", "bills.csv"), ("warranty", "warranty.csv"), ("kb", "kb.csv")] {
        let (st, rep) = s.import(sup, kind, demo(file)).await;
        assert_eq!(st, StatusCode::OK, "{kind}: {rep}");
        assert_eq!(rep["bad"].as_array().unwrap().len(), 0, "{kind}: {rep}");
    }
}

#[tokio::test]
async fn auth_is_required_everywhere_but_public_routes() {
    let s = start(Arc::new(NoHooks)).await;
    for p in ["/healthz", "/readyz"] {
        assert_eq!(s.http.get(format!("{}{p}", s.base)).send().await.unwrap().status(), StatusCode::OK, "{p}");
    }
    let m = s.http.get(format!("{}/metrics", s.base)).send().await.unwrap();
    assert_eq!(m.status(), StatusCode::SERVICE_UNAVAILABLE);
    // The OpenAPI document is public, parses, and lists the paths.
    let doc: Value = s.http.get(format!("{}/api/v1/openapi.json", s.base)).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in ["/api/v1/callers/{number}", "/api/v1/orders/{id}/transition", "/api/v1/recordings/{id}/audio", "/api/v1/import/{kind}"] {
        assert!(paths.contains_key(p), "openapi lacks {p}");
    }
    assert!(doc["components"]["schemas"]["WorkOrder"].is_object());
    // Every documented authenticated route answers 401 without a token (and with a bad one).
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if op.get("security").is_none() {
                continue;
            }
            let url = format!("{}{}", s.base, path.replace('{', "x").replace('}', ""));
            let req = match method.as_str() {
                "get" => s.http.get(&url),
                "post" => s.http.post(&url),
                "put" => s.http.put(&url),
                _ => s.http.delete(&url),
            };
            let r = req.bearer_auth("not-a-token").send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        }
    }
    assert_eq!(s.http.get(format!("{}/api/v1/estates", s.base)).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let bad = s.http.post(format!("{}/api/v1/auth/login", s.base)).json(&json!({"username":"admin","password":"wrong-password"})).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let unknown = s.http.post(format!("{}/api/v1/auth/login", s.base)).json(&json!({"username":"ghost","password":PW})).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    // Login sets a cookie that works instead of the bearer header; logout revokes it.
    let r = s.http.post(format!("{}/api/v1/auth/login", s.base)).json(&json!({"username":"agent","password":PW})).send().await.unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("courtyard_session="));
    let me: Value = s.http.get(format!("{}/api/v1/auth/me", s.base)).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "agent");
    assert_eq!(me["masked"], true);
    s.http.post(format!("{}/api/v1/auth/logout", s.base)).header("cookie", &cookie).send().await.unwrap();
    let r = s.http.get(format!("{}/api/v1/auth/me", s.base)).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn screen_pop_masking_orders_roles_and_audit() {
    let s = start(Arc::new(NoHooks)).await;
    let (admin, sup, agent, vendor) = (s.login("admin").await, s.login("sup").await, s.login("agent").await, s.login("vendor").await);
    let (st, _) = s.import(&agent, "estates", demo("estates.csv")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "agents may not import");
    load_demo(&s, &sup).await;

    // Screen-pop of the fixed demo caller: full numbers for a supervisor, masked for an agent.
    let (st, v) = s.get(&sup, "/api/v1/callers/13800138000").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["residents"][0]["name"], "张伟");
    assert_eq!(v["residents"][0]["honorific"], "先生");
    assert_eq!(v["residents"][0]["phones"][0], "13800138000");
    assert_eq!(v["arrears"][0], json!(["xfhy-3-2-1502", 78900]));
    let (_, v) = s.get(&agent, "/api/v1/callers/13800138000").await;
    assert_eq!(v["residents"][0]["phones"][0], "138****8000");
    assert_eq!(v["number"], "138****8000");
    let rid = v["residents"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(s.get(&vendor, "/api/v1/callers/13800138000").await.0, StatusCode::FORBIDDEN);
    let (st, v) = s.post(&agent, "/api/v1/unmask", json!({"kind":"resident","id":rid,"reason":"callback"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["numbers"][0], "13800138000");
    let (_, bills) = s.get(&agent, "/api/v1/units/xfhy-3-2-1502/bills?unpaid=true").await;
    assert_eq!(bills["arrears_fen"], 78900);
    assert_eq!(bills["bills"].as_array().unwrap().len(), 3);
    let (_, w) = s.get(&agent, "/api/v1/units/xfhy-3-2-1502/warranty").await;
    let roof = w.as_array().unwrap().iter().find(|i| i["item"] == "屋面防水").unwrap();
    assert_eq!(roof["ends_on"], "2027-04-30");
    let (_, units) = s.get(&agent, "/api/v1/units?estate=xfhy&building=3&entrance=2&limit=5").await;
    assert_eq!(units["total"], 54);
    assert_eq!(units["items"].as_array().unwrap().len(), 5);

    // Work-order lifecycle over HTTP.
    let new = json!({"category":"repair","subcategory":"water","estate_id":"xfhy","unit_id":"xfhy-3-2-1502",
        "caller":"13800138000","description":"卫生间漏水","priority":"normal"});
    let (st, o) = s.post(&agent, "/api/v1/orders", new).await;
    assert_eq!(st, StatusCode::CREATED, "{o}");
    let id = o["id"].as_str().unwrap().to_string();
    assert_eq!(id, "2611270001");
    assert_eq!(o["caller"], "138****8000", "agent sees the order's caller masked");
    let tr = |to: &str| format!("/api/v1/orders/{id}/transition").replace("{to}", to);
    let (st, e) = s.post(&agent, &tr(""), json!({"to":"done"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(e["error"].as_str().unwrap().contains("illegal transition new → done"), "{e}");
    let (st, e) = s.post(&agent, &tr(""), json!({"to":"dispatched"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, _) = s.post(&agent, &tr(""), json!({"to":"cancelled"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "agents may not cancel");
    for (to, who) in [("dispatched", &sup), ("accepted", &agent), ("in-progress", &agent), ("done", &agent)] {
        let (st, v) = s.post(who, &tr(""), json!({"to":to,"assignee":"王师傅"})).await;
        assert_eq!(st, StatusCode::OK, "{to}: {v}");
        assert_eq!(v["state"], to);
    }
    let (st, v) = s.post(&agent, &format!("/api/v1/orders/{id}/rate"), json!({"score":1})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let child = v["child_order_id"].as_str().unwrap().to_string();
    let (_, full) = s.get(&sup, &format!("/api/v1/orders/{id}")).await;
    assert_eq!(full["order"]["state"], "closed");
    assert_eq!(full["order"]["children"][0], child.as_str());
    let hist: Vec<&str> = full["history"].as_array().unwrap().iter().map(|h| h["to"].as_str().unwrap()).collect();
    assert_eq!(hist, ["new", "dispatched", "accepted", "in-progress", "done", "callback", "closed"]);
    assert_eq!(full["history"][1]["actor"], "sup");
    let (_, list) = s.get(&agent, "/api/v1/orders?unit=xfhy-3-2-1502&open=true").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], child.as_str());
    let (_, list) = s.get(&agent, "/api/v1/orders?state=closed").await;
    assert_eq!(list["total"], 1);

    // Role checks on mutating calls.
    assert_eq!(s.delete(&agent, "/api/v1/users/vendor").await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.delete(&sup, "/api/v1/users/vendor").await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.post(&agent, "/api/v1/users", json!({"username":"x","role":"admin","password":"12345678"})).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.delete(&admin, "/api/v1/users/vendor").await.0, StatusCode::OK);
    assert_eq!(s.get(&vendor, "/api/v1/auth/me").await.0, StatusCode::UNAUTHORIZED, "deleted user's session revoked");
    assert_eq!(s.post(&agent, "/api/v1/kb", json!({"id":"x","topic":"x","title":"x","body":"x","answer":"x"})).await.0, StatusCode::FORBIDDEN);

    // The audit log records who did what, including the unmask.
    let (st, audit) = s.get(&sup, "/api/v1/audit?limit=500").await;
    assert_eq!(st, StatusCode::OK);
    let entries = audit["items"].as_array().unwrap();
    let has = |actor: &str, action: &str| entries.iter().any(|e| e["actor"] == actor && e["action"] == action);
    assert!(has("agent", "phone.unmask"));
    assert!(has("agent", "order.create"));
    assert!(has("sup", "order.transition"));
    assert!(has("admin", "user.delete"));
    assert!(has("sup", "import"));
    assert_eq!(s.get(&agent, "/api/v1/audit").await.0, StatusCode::FORBIDDEN);

    // Chinese KB search through the API.
    let (_, hits) = s.get(&agent, "/api/v1/kb?q=%E7%87%83%E6%B0%94%E6%80%8E%E4%B9%88%E5%BC%80%E6%88%B7").await;
    assert_eq!(hits[0]["article"]["topic"], "gas-account", "{hits}");
}

#[tokio::test]
async fn recording_download_supports_ranges_and_hooks_default_to_503() {
    struct Live;
    impl ApiHooks for Live {
        fn live_calls(&self) -> Option<BoxFuture<'_, Value>> {
            Some(Box::pin(async { json!([{"call_id":"c1","caller":"13800138000"}]) }))
        }
        fn recording_control(&self, call_id: &str, _pause: bool) -> Option<BoxFuture<'_, Result<(), String>>> {
            let known = call_id == "c1";
            Some(Box::pin(async move { if known { Ok(()) } else { Err("no such call".into()) } }))
        }
    }
    let s = start(Arc::new(NoHooks)).await;
    let agent = s.login("agent").await;
    let audio: Vec<u8> = (0..4000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(s.rec_dir.path().join("c1.wav"), &audio).unwrap();
    s.store
        .insert_recording(&Recording {
            id: "rec1".into(),
            call_id: Some("c1".into()),
            file: "c1.wav".into(),
            duration_ms: 250,
            created_at: s.store.now(),
            mime: "audio/wav".into(),
            kind: "call".into(),
        })
        .await
        .unwrap();
    let r = s.http.get(format!("{}/api/v1/recordings/rec1/audio", s.base)).bearer_auth(&agent).header("range", "bytes=100-199").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.headers()["content-range"], "bytes 100-199/4000");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &audio[100..200]);
    let r = s.http.get(format!("{}/api/v1/recordings/rec1/audio", s.base)).bearer_auth(&agent).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().len(), 4000);
    assert_eq!(s.get(&agent, "/api/v1/recordings/nope/audio").await.0, StatusCode::NOT_FOUND);
    // Hooks not wired → 503 "not available".
    let (st, e) = s.get(&agent, "/api/v1/calls/live").await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert!(e["error"].as_str().unwrap().contains("not available"));
    assert_eq!(s.post(&agent, "/api/v1/calls/c1/recording/pause", json!({})).await.0, StatusCode::SERVICE_UNAVAILABLE);

    let s = start(Arc::new(Live)).await;
    let agent = s.login("agent").await;
    let (st, v) = s.get(&agent, "/api/v1/calls/live").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v[0]["caller"], "138****8000");
    assert_eq!(s.post(&agent, "/api/v1/calls/c1/recording/pause", json!({})).await.0, StatusCode::OK);
    assert_eq!(s.post(&agent, "/api/v1/calls/c9/recording/pause", json!({})).await.0, StatusCode::CONFLICT);
    assert_eq!(s.post(&agent, "/api/v1/calls/c1/recording/explode", json!({})).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn import_endpoint_reports_bad_lines() {
    let s = start(Arc::new(NoHooks)).await;
    let sup = s.login("sup").await;
    s.import(&sup, "estates", demo("estates.csv")).await;
    s.import(&sup, "units", demo("units.csv")).await;
    let csv = "estate_id,building,entrance,room,name,honorific,role,phones,vip,language\n\
xfhy,1,1,101,赵六,先生,业主,13912345678,否,zh\n\
xfhy,1,1,101,钱七,女士,业主,139123,否,zh\n\
xfhy,99,1,101,孙八,先生,业主,13912345679,否,zh\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    let (st, rep) = s.import(&sup, "owners", gbk.into_owned()).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(rep["encoding"], "GBK");
    assert_eq!(rep["imported"], 1);
    assert_eq!(rep["bad"][0], json!({"line": 3, "reason": "bad phone '139123'"}));
    assert_eq!(rep["bad"][1]["line"], 4);
    let (st, e) = s.import(&sup, "bogus", b"a\n".to_vec()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"].as_str().unwrap().contains("unknown import kind"));
}

#[tokio::test]
async fn retention_task_purges_old_data_and_recording_files() {
    let s = start(Arc::new(NoHooks)).await;
    let old = s.store.now() - chrono::Duration::days(400);
    let cdr = courtyard_store::model::Cdr {
        call_id: "old-call".into(),
        direction: "inbound".into(),
        caller: "13800138000".into(),
        called: "4008123456".into(),
        start: old,
        answer: None,
        end: Some(old),
        flow: None,
        plugin_version: None,
        ivr_path: vec![],
        queue: None,
        agent: None,
        hangup_side: None,
        hangup_cause: None,
        recording_id: Some("old-rec".into()),
        vars: Default::default(),
        interrupted: false,
    };
    s.store.upsert_cdr(&cdr).await.unwrap();
    let mut fresh = cdr.clone();
    fresh.call_id = "new-call".into();
    fresh.start = s.store.now();
    s.store.upsert_cdr(&fresh).await.unwrap();
    std::fs::write(s.rec_dir.path().join("old.wav"), b"RIFF").unwrap();
    s.store
        .insert_recording(&Recording {
            id: "old-rec".into(),
            call_id: Some("old-call".into()),
            file: "old.wav".into(),
            duration_ms: 1,
            created_at: old,
            mime: "audio/wav".into(),
            kind: "call".into(),
        })
        .await
        .unwrap();
    let mut cfg = ApiConfig::new(s.rec_dir.path().to_path_buf());
    cfg.password_cost = PasswordCost::Low;
    cfg.purge_interval = std::time::Duration::from_millis(50);
    let task = courtyard_api::spawn_retention_task(ApiState::new(s.store.clone(), Arc::new(NoHooks), cfg));
    let t0 = std::time::Instant::now();
    let purged_audited = || s.store.list::<courtyard_store::model::AuditEntry>(|e| e.action == "retention.purge", 0, 1).unwrap().total > 0;
    while !purged_audited() && t0.elapsed() < std::time::Duration::from_secs(20) {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    task.abort();
    assert!(s.store.get_recording("old-rec").unwrap().is_none(), "recording index entry not purged");
    assert!(!s.rec_dir.path().join("old.wav").exists(), "recording file not deleted");
    assert!(s.store.get::<courtyard_store::model::Cdr>("old-call").unwrap().is_none());
    assert!(s.store.get::<courtyard_store::model::Cdr>("new-call").unwrap().is_some());
    let admin = s.login("admin").await;
    let (_, audit) = s.get(&admin, "/api/v1/audit").await;
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "retention.purge"));
}
