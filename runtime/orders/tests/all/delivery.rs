//! Delivery through real peers: SMS gateway (fails first, then succeeds), SMTP sink, signed
//! webhooks, on-duty roster; retries with backoff recorded durably.

use crate::common::*;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Duration;
use courtyard_orders::config::{EmailConfig, OnDutyConfig, Shift, SmtpSecurity, WebhookConfig};
use courtyard_orders::notify::webhook;
use courtyard_orders::{OrdersConfig, Workflow};
use courtyard_store::model::Category;
use std::sync::Arc;
use std::sync::atomic::Ordering;

fn with_sms(url: &str) -> OrdersConfig {
    let mut c = config();
    c.sms = Some(sms_config(url));
    c.worker.backoff_initial_ms = 1000;
    c.worker.backoff_max_ms = 3000;
    c.worker.max_attempts = 5;
    c
}

#[tokio::test]
async fn sms_retries_with_backoff_until_the_gateway_recovers_across_a_restart() {
    let (gw, url) = start_gateway(2).await;
    let mut env = Env::new();
    let id;
    {
        let wf = env.workflow(with_sms(&url));
        let n = wf.enqueue("sms", "+86 139-0000-0001", "工单 2611270001 \"漏水\" 请处理").await.unwrap();
        id = n.id.clone();
        let p = wf.deliver_once().await.unwrap();
        assert_eq!((p.attempted, p.retrying), (1, 1));
        let n = wf.notification(&id).unwrap().unwrap();
        assert_eq!((n.status.as_str(), n.attempts), ("queued", 1));
        assert_eq!(n.next_attempt_at, Some(t0() + Duration::seconds(1)));
        assert!(n.last_error.as_deref().unwrap().contains("503"), "{n:?}");
        // not due yet: nothing is attempted
        assert_eq!(wf.deliver_once().await.unwrap().attempted, 0);
    }
    // the retry schedule survives a restart
    env.restart();
    let wf = env.workflow(with_sms(&url));
    assert_eq!(wf.notification(&id).unwrap().unwrap().attempts, 1);
    env.at(Duration::seconds(1));
    assert_eq!(wf.deliver_once().await.unwrap().retrying, 1);
    let n = wf.notification(&id).unwrap().unwrap();
    assert_eq!(n.attempts, 2);
    assert_eq!(n.next_attempt_at, Some(t0() + Duration::seconds(3)), "backoff doubled");
    env.at(Duration::seconds(3));
    assert_eq!(wf.deliver_once().await.unwrap().sent, 1);
    let n = wf.notification(&id).unwrap().unwrap();
    assert_eq!((n.status.as_str(), n.attempts), ("sent", 3));
    assert_eq!(n.sent_at, Some(t0() + Duration::seconds(3)));
    assert_eq!(gw.hits.load(Ordering::SeqCst), 3);
    let got = gw.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.get("x-api-key").unwrap(), "k1");
    let body: serde_json::Value = serde_json::from_str(&got[0].1).unwrap();
    assert_eq!(body["mobile"], "13900000001");
    assert_eq!(body["content"], "工单 2611270001 \"漏水\" 请处理");
    // sent messages are not sent again
    env.at(Duration::hours(1));
    assert_eq!(wf.deliver_once().await.unwrap().attempted, 0);
}

#[tokio::test]
async fn exhausted_and_permanent_failures_end_as_failed() {
    let (gw, url) = start_gateway(usize::MAX).await;
    let env = Env::new();
    let mut cfg = with_sms(&url);
    cfg.worker.max_attempts = 3;
    let wf = env.workflow(cfg);
    let n = wf.enqueue("sms", "13900000001", "x").await.unwrap();
    for s in [0, 1, 3, 10] {
        env.at(Duration::seconds(s));
        wf.deliver_once().await.unwrap();
    }
    let n = wf.notification(&n.id).unwrap().unwrap();
    assert_eq!(n.attempts, 3);
    assert!(n.status.starts_with("failed: HTTP 503"), "{}", n.status);
    assert_eq!(gw.hits.load(Ordering::SeqCst), 3, "bounded");

    // a 4xx is not retried; an unusable number is refused before any request
    gw.status_on_fail.store(400, Ordering::SeqCst);
    let a = wf.enqueue("sms", "13900000001", "y").await.unwrap();
    let b = wf.enqueue("sms", "12", "z").await.unwrap();
    assert_eq!(wf.deliver_once().await.unwrap().failed, 2);
    let a = wf.notification(&a.id).unwrap().unwrap();
    assert!(a.status.starts_with("failed: HTTP 400") && a.attempts == 1, "{a:?}");
    let b = wf.notification(&b.id).unwrap().unwrap();
    assert!(b.status.contains("not a phone number"), "{b:?}");
    assert_eq!(gw.hits.load(Ordering::SeqCst), 4);
    // no e-mail relay configured
    let c = wf.enqueue("email", "li@example.com", "z").await.unwrap();
    assert_eq!(wf.deliver_once().await.unwrap().no_gateway, 1);
    assert_eq!(wf.notification(&c.id).unwrap().unwrap().status, "no-gateway");
    let e = wf.enqueue("fax", "1", "z").await.unwrap_err().to_string();
    assert!(e.contains("not one of"), "{e}");
}

#[tokio::test]
async fn email_goes_through_smtp() {
    let (port, mailbox) = start_smtp_sink().await;
    let env = Env::new();
    let mut cfg = config();
    cfg.email = Some(EmailConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "Courtyard <noreply@courtyard.test>".into(),
        subject: "Work order".into(),
        timeout_ms: 2000,
    });
    let wf = env.workflow(cfg);
    let n = wf.enqueue("email", "li@example.com", "Order 2611270001 was dispatched to you.").await.unwrap();
    assert_eq!(wf.deliver_once().await.unwrap().sent, 1);
    let n = wf.notification(&n.id).unwrap().unwrap();
    assert_eq!((n.status.as_str(), n.attempts), ("sent", 1));
    let mails = mailbox.lock().clone();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].from, "<noreply@courtyard.test>");
    assert_eq!(mails[0].rcpt, vec!["<li@example.com>"]);
    assert!(mails[0].data.contains("Subject: Work order"), "{}", mails[0].data);
    assert!(mails[0].data.contains("Order 2611270001 was dispatched to you."), "{}", mails[0].data);
    assert!(mails[0].data.contains(&format!("<{}@courtyard>", n.id)), "message id carries the notification id");
    let bad = wf.enqueue("email", "not an address", "x").await.unwrap();
    assert_eq!(wf.deliver_once().await.unwrap().failed, 1);
    assert!(wf.notification(&bad.id).unwrap().unwrap().status.contains("not an e-mail address"));
}

type Seen = Arc<parking_lot::Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver that verifies the signature the way the firm's app would.
async fn receiver(
    State((secret, seen)): State<(Vec<u8>, Seen)>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let now = chrono::Utc::now().timestamp();
    let ok = webhook::verify(&secret, &h("x-courtyard-timestamp"), &h("x-courtyard-signature"), body.as_bytes(), now, 300);
    seen.lock().push((headers.clone(), body));
    if ok.is_ok() { StatusCode::NO_CONTENT } else { StatusCode::UNAUTHORIZED }
}

#[tokio::test]
async fn webhook_signature_is_verifiable_by_the_receiver() {
    let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receiver))
        .with_state((b"s3cret".to_vec(), seen.clone()));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let env = Env::new();
    let hook = |secret: &str| {
        let mut c = config();
        c.webhook = Some(WebhookConfig { secret: secret.into(), allowed_prefixes: vec![format!("{base}/")], timeout_ms: 2000 });
        c
    };
    let wf = env.workflow(hook("s3cret"));
    let good = wf.enqueue("webhook", &format!("{base}/hook"), "工单 2611270001 已派发").await.unwrap();
    let outside = wf.enqueue("webhook", "http://169.254.169.254/latest", "x").await.unwrap();
    let p = wf.deliver_once().await.unwrap();
    assert_eq!((p.sent, p.failed), (1, 1));
    assert_eq!(wf.notification(&good.id).unwrap().unwrap().status, "sent");
    assert!(wf.notification(&outside.id).unwrap().unwrap().status.contains("allowed_prefixes"));
    let (headers, body) = seen.lock()[0].clone();
    assert_eq!(headers.get("x-courtyard-delivery").unwrap(), good.id.as_str());
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["text"], "工单 2611270001 已派发");
    let sig = headers.get("x-courtyard-signature").unwrap().to_str().unwrap();
    let ts = headers.get("x-courtyard-timestamp").unwrap().to_str().unwrap();
    let ts_n: i64 = ts.parse().unwrap();
    assert_eq!(v["timestamp"], ts_n);
    // a captured request replayed later is refused
    assert_eq!(webhook::verify(b"s3cret", ts, sig, body.as_bytes(), ts_n + 3600, 300), Err(webhook::VerifyError::Stale(ts_n)));
    drop(wf);

    // the receiver rejects a wrongly keyed sender: 401 is permanent, not retried
    let wf = env.workflow(hook("wrong"));
    let n = wf.enqueue("webhook", &format!("{base}/hook"), "x").await.unwrap();
    assert_eq!(wf.deliver_once().await.unwrap().failed, 1);
    let n = wf.notification(&n.id).unwrap().unwrap();
    assert!(n.status.starts_with("failed: HTTP 401"), "{n:?}");
}

#[tokio::test]
async fn on_duty_goes_to_the_engineer_on_shift() {
    let (gw, url) = start_gateway(0).await;
    let env = Env::new();
    let mut cfg = with_sms(&url);
    let shift = |name: &str, phone: &str, from: &str, to: &str| Shift {
        roster: "default".into(),
        name: name.into(),
        phone: phone.into(),
        days: vec![],
        from: from.into(),
        to: to.into(),
    };
    cfg.on_duty = OnDutyConfig {
        shifts: vec![shift("白班", "13900000020", "08:00", "20:00"), shift("夜班", "13900000021", "20:00", "08:00")],
    };
    let wf = env.workflow(cfg);
    wf.enqueue("on-duty", "", "电梯困人 3栋").await.unwrap(); // 09:00
    wf.deliver_once().await.unwrap();
    env.at(Duration::hours(13)); // 22:00
    wf.enqueue("on-duty", "default", "水管爆裂 5栋").await.unwrap();
    wf.deliver_once().await.unwrap();
    let to: Vec<String> = gw.bodies().iter().map(|b| b["mobile"].as_str().unwrap().to_string()).collect();
    assert_eq!(to, vec!["13900000020", "13900000021"]);
}

#[tokio::test]
async fn running_workflow_delivers_dispatch_sms_end_to_end() {
    let (gw, url) = start_gateway(1).await;
    let env = Env::new();
    let mut cfg = with_sms(&url);
    cfg.auto_dispatch = true;
    cfg.tick_ms = 20;
    cfg.scan_ms = 20;
    cfg.worker.backoff_initial_ms = 0; // the injected clock stands still in this test
    let handle = Workflow::start(env.store(), cfg, env.clock.clone()).unwrap();
    let wf = handle.workflow();
    let o = new_order(&env.store(), "lyjy", Category::Repair).await;
    eventually("dispatch SMS delivered after one gateway failure", || {
        gw.bodies().iter().any(|b| b["content"].as_str().unwrap_or("").contains(&o.id))
    })
    .await;
    let o = env.store().get_order(&o.id).unwrap().unwrap();
    assert_eq!(o.assignee.as_deref(), Some("周值班"));
    let n = wf.notification(&format!("dsp-{}-001-sms", o.id)).unwrap().unwrap();
    eventually("status recorded", || wf.notification(&n.id).unwrap().unwrap().status == "sent").await;
    assert_eq!(wf.notification(&n.id).unwrap().unwrap().attempts, 2);
    handle.shutdown().await;
}

/// The `ntf/` record exactly as the runtime's plugin service (runtime/courtyard/src/services.rs)
/// writes it, to prove both sides read each other's records.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct PluginServiceNotification {
    id: String,
    channel: String,
    to: String,
    text: String,
    created_at: chrono::DateTime<chrono::FixedOffset>,
    status: String,
    attempts: u32,
}
impl courtyard_store::model::Record for PluginServiceNotification {
    const PREFIX: &'static str = "ntf/";
    fn key(&self) -> String {
        self.id.clone()
    }
}
impl courtyard_store::PlainRecord for PluginServiceNotification {}

#[tokio::test]
async fn records_queued_by_the_plugin_service_are_delivered() {
    let (gw, url) = start_gateway(0).await;
    let env = Env::new();
    let mut cfg = with_sms(&url);
    cfg.worker.full_scan_ms = 0; // every pass looks for other writers' records
    let wf = env.workflow(cfg);
    assert_eq!(wf.deliver_once().await.unwrap().attempted, 0);
    let n = PluginServiceNotification {
        id: "n0123456789abcdef".into(),
        channel: "sms".into(),
        to: "13900000001".into(),
        text: "您的报修已受理".into(),
        created_at: t0(),
        status: "queued".into(),
        attempts: 0,
    };
    env.store().put(&n).await.unwrap();
    assert_eq!(wf.deliver_once().await.unwrap().sent, 1);
    let back: PluginServiceNotification = env.store().get(&n.id).unwrap().unwrap();
    assert_eq!((back.status.as_str(), back.attempts), ("sent", 1));
    assert_eq!(gw.bodies()[0]["content"], "您的报修已受理");
}
