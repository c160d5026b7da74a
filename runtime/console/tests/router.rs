//! The console router over real sockets: embedded files, WebSocket auth and masking, screen-pop
//! of an offered call and a work order created from it — all against the real courtyard-api over
//! a real sled store in a tempdir.

use courtyard_api::{ApiConfig, ApiState, NoHooks, PasswordCost, create_user};
use courtyard_store::Store;
use courtyard_store::model::{Resident, ResidentRole, Role, Unit};
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;

struct Env {
    base: String,
    events: broadcast::Sender<Value>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("db")).unwrap());
    store
        .upsert_unit(&Unit { id: "xfhy-3-2-1502".into(), estate_id: "xfhy".into(), building: "3".into(), entrance: "2".into(), room: "1502".into(), area_centi_m2: None, move_in_date: None })
        .await
        .unwrap();
    store
        .upsert_resident(&Resident { id: "r-zw".into(), name: "张伟".into(), honorific: Some("先生".into()), role: ResidentRole::Owner, phones: vec!["13800138000".into()], vip: false, language: "zh".into(), unit_ids: vec!["xfhy-3-2-1502".into()] })
        .await
        .unwrap();
    let mut cfg = ApiConfig::new(dir.path().join("rec"));
    cfg.password_cost = PasswordCost::Low;
    for (u, r, p, a) in [("8001", Role::Agent, "demo8001", Some("8001")), ("8002", Role::Agent, "demo8002", Some("8002")), ("sup", Role::Supervisor, "supervisor-demo", None)] {
        let mut user = create_user(&store, u, u, r, p, PasswordCost::Low).await.unwrap();
        user.agent_id = a.map(str::to_string);
        store.put(&user).await.unwrap();
    }
    let api = courtyard_api::router(ApiState::new(store, Arc::new(NoHooks), cfg));
    let (events, _) = broadcast::channel(64);
    let app = api.clone().merge(courtyard_console::router(events.clone(), api));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Env { base: format!("http://{addr}"), events, http: reqwest::Client::new(), _dir: dir }
}

impl Env {
    async fn login(&self, user: &str, pass: &str) -> String {
        let r: Value = self.http.post(format!("{}/api/v1/auth/login", self.base)).json(&json!({"username": user, "password": pass})).send().await.unwrap().json().await.unwrap();
        r["token"].as_str().unwrap().to_string()
    }
    fn ws_url(&self, token: &str) -> String {
        format!("{}/console/ws?token={token}", self.base.replace("http://", "ws://"))
    }
}

async fn next_json<S>(ws: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("no frame within 10 s").unwrap().unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

fn offer(call_id: &str, agent: &str) -> Value {
    json!({"type":"offer_started","at_ms":1,"call_id":call_id,"queue":"repairs","agent_id":agent,"extension":agent,
           "caller":"13800138000","data_ref":"r-zw","waited_secs":4})
}

#[tokio::test]
async fn serves_embedded_ui_files() {
    let env = start().await;
    for name in courtyard_console::asset_names() {
        let r = env.http.get(format!("{}/console/{name}", env.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{name}");
        assert!(!r.bytes().await.unwrap().is_empty(), "{name}");
    }
    let index = env.http.get(format!("{}/console/", env.base)).send().await.unwrap().text().await.unwrap();
    assert!(index.contains("物业客服控制台") && index.contains("/console/app.js"));
    assert_eq!(env.http.get(format!("{}/console/nope.js", env.base)).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn websocket_requires_a_valid_token() {
    let env = start().await;
    let no = tokio_tungstenite::connect_async(format!("{}/console/ws", env.base.replace("http://", "ws://"))).await;
    assert!(no.is_err(), "upgrade without token must be refused");
    let bad = tokio_tungstenite::connect_async(env.ws_url("deadbeef")).await;
    assert!(bad.is_err(), "upgrade with an unknown token must be refused");
    let r = env.http.get(format!("{}/console/ws", env.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("login"));
}

#[tokio::test]
async fn websocket_forwards_events_masked_per_role() {
    let env = start().await;
    let agent = env.login("8001", "demo8001").await;
    let sup = env.login("sup", "supervisor-demo").await;
    let (mut wa, _) = tokio_tungstenite::connect_async(env.ws_url(&agent)).await.unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(env.ws_url(&sup)).await.unwrap();
    let hello = next_json(&mut wa).await;
    assert_eq!((hello["type"].as_str(), hello["agent_id"].as_str(), hello["masked"].as_bool()), (Some("hello"), Some("8001"), Some(true)));
    assert_eq!(next_json(&mut ws).await["role"], "supervisor");
    env.events.send(json!({"type":"call_queued","at_ms":1,"call_id":"c1","queue":"repairs","caller":"13800138000","class":0,"priority":0,"position":1})).unwrap();
    let a = next_json(&mut wa).await;
    let s = next_json(&mut ws).await;
    assert_eq!(a["type"], "call_queued");
    assert_eq!(a["caller"], "138****8000");
    assert_eq!(s["caller"], "13800138000");
    // Logging out closes the door for new sockets.
    env.http.post(format!("{}/api/v1/auth/logout", env.base)).bearer_auth(&agent).send().await.unwrap();
    assert!(tokio_tungstenite::connect_async(env.ws_url(&agent)).await.is_err());
}

#[tokio::test]
async fn screen_pop_before_answer_and_order_from_the_call() {
    let env = start().await;
    let agent = env.login("8001", "demo8001").await;
    let other = env.login("8002", "demo8002").await;
    env.events.send(offer("call-1", "8001")).unwrap();
    let pop: Value = env.http.get(format!("{}/console/api/pop/call-1", env.base)).bearer_auth(&agent).send().await.unwrap().json().await.unwrap();
    assert_eq!(pop["view"]["residents"][0]["name"], "张伟", "{pop}");
    assert_eq!(pop["caller"], "138****8000");
    assert_eq!(pop["offer"]["data_ref"], "r-zw");
    assert!(!pop.to_string().contains("13800138000"), "full number leaked to a masked agent: {pop}");
    // Another agent may not pop someone else's call.
    let r = env.http.get(format!("{}/console/api/pop/call-1", env.base)).bearer_auth(&other).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // Unknown call: 404 with advice.
    let r = env.http.get(format!("{}/console/api/pop/nope", env.base)).bearer_auth(&agent).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // Work order from the call: the console fills in the real caller and the call id.
    let r = env
        .http
        .post(format!("{}/console/api/calls/call-1/order", env.base))
        .bearer_auth(&agent)
        .json(&json!({"category":"repair","description":"厨房水管漏水","priority":"high","unit_id":"xfhy-3-2-1502","estate_id":"xfhy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let o: Value = r.json().await.unwrap();
    let sup = env.login("sup", "supervisor-demo").await;
    let full: Value = env.http.get(format!("{}/api/v1/orders/{}", env.base, o["id"].as_str().unwrap())).bearer_auth(&sup).send().await.unwrap().json().await.unwrap();
    assert_eq!(full["order"]["caller"], "13800138000");
    assert_eq!(full["order"]["call_id"], "call-1");
    // The pop now lists it as an open order.
    let pop: Value = env.http.get(format!("{}/console/api/pop/call-1", env.base)).bearer_auth(&agent).send().await.unwrap().json().await.unwrap();
    assert_eq!(pop["view"]["open_orders"][0]["description"], "厨房水管漏水");
}

#[tokio::test]
async fn quick_registration_uses_the_callers_number() {
    let env = start().await;
    let agent = env.login("8001", "demo8001").await;
    env.events.send(json!({"type":"offer_started","at_ms":1,"call_id":"call-2","queue":"q","agent_id":"8001","extension":"8001","caller":"13900001111","data_ref":null,"waited_secs":0})).unwrap();
    let pop: Value = env.http.get(format!("{}/console/api/pop/call-2", env.base)).bearer_auth(&agent).send().await.unwrap().json().await.unwrap();
    assert_eq!(pop["view"]["residents"].as_array().map(Vec::len), Some(0));
    let r = env
        .http
        .post(format!("{}/console/api/calls/call-2/resident", env.base))
        .bearer_auth(&agent)
        .json(&json!({"id":"r-new","name":"王芳","role":"tenant","unit_ids":["xfhy-3-2-1502"],"vip":false,"language":"zh"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pop: Value = env.http.get(format!("{}/console/api/pop/call-2", env.base)).bearer_auth(&agent).send().await.unwrap().json().await.unwrap();
    assert_eq!(pop["view"]["residents"][0]["name"], "王芳");
}

/// The real ACD's events (not hand-written JSON) drive the console: `offer_started` serialized
/// by courtyard-acd reaches the agent's WebSocket masked and pops the right owner by call id.
#[tokio::test]
async fn real_acd_offer_pops_the_owner_before_the_phone_is_answered() {
    use courtyard_acd::{Acd, AcdConfig, AgentConfig, AgentDialer, AgentLeg, CallRef, NoSupervision, QueueConfig, RequestedState, RingRequest, RingResult, TokioClock};

    /// A phone that rings and is never picked up: the pop must not depend on answering.
    struct NeverAnswers;
    impl AgentDialer for NeverAnswers {
        fn ring(&self, _req: RingRequest) -> courtyard_acd::BoxFuture<'static, RingResult> {
            Box::pin(futures::future::pending())
        }
        fn release(&self, _leg: AgentLeg) {}
    }

    let env = start().await;
    let config = AcdConfig { queues: vec![QueueConfig::new("repair")], agents: vec![AgentConfig::new("8001").skill("repair", 5)], ..AcdConfig::default() };
    let acd = Acd::spawn(config, TokioClock::new(), Arc::new(NeverAnswers), Arc::new(NoSupervision)).unwrap();
    let mut rx = acd.subscribe();
    let tx = env.events.clone();
    tokio::spawn(async move {
        while let Ok(ev) = rx.recv().await {
            let _ = tx.send(serde_json::to_value(&ev).unwrap());
        }
    });
    let token = env.login("8001", "demo8001").await;
    let (mut ws, _) = tokio_tungstenite::connect_async(env.ws_url(&token)).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    acd.agent_login("8001", "8001").await.unwrap();
    acd.set_state("8001", RequestedState::Ready).await.unwrap();
    let mut call = CallRef::new("sip-call-7", "13800138000");
    call.data_ref = Some("r-zw".into());
    let _ticket = acd.enqueue(call, "repair").await.unwrap();
    let offer = loop {
        let ev = next_json(&mut ws).await;
        if ev["type"] == "offer_started" {
            break ev;
        }
    };
    assert_eq!(offer["agent_id"], "8001");
    assert_eq!(offer["caller"], "138****8000");
    let pop: Value = env.http.get(format!("{}/console/api/pop/sip-call-7", env.base)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(pop["view"]["residents"][0]["name"], "张伟", "{pop}");
    assert_eq!(pop["offer"]["queue"], "repair");
}
