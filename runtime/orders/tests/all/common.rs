//! Shared fixtures: store in a tempdir with a settable clock, config, fake peers.

#![allow(dead_code)]

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{DateTime, Duration, FixedOffset};
use courtyard_orders::config::{Contact, DispatchRule, SmsConfig, SmsFormat};
use courtyard_orders::{OrdersConfig, Workflow};
use courtyard_store::model::{Category, NewOrder, Priority, WorkOrder};
use courtyard_store::{FixedClock, Store, StoreOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// 2026-11-27 09:00 +08:00 (a Friday).
pub fn t0() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-27T09:00:00+08:00").unwrap()
}

/// A store in a tempdir whose clock the test moves; can be closed and reopened.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub clock: Arc<FixedClock>,
    pub store: Option<Arc<Store>>,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(t0()));
        let mut e = Env { dir, clock, store: None };
        e.open();
        e
    }
    fn open(&mut self) {
        // sled's own background thread releases the file lock shortly after the last handle is
        // dropped; a real restart (new process) does not race it, an in-process reopen can.
        let mut tries = 0;
        loop {
            let opts = StoreOptions { clock: self.clock.clone(), ..StoreOptions::default() };
            match Store::open_with(&self.dir.path().join("db"), opts) {
                Ok(s) => {
                    self.store = Some(Arc::new(s));
                    return;
                }
                Err(e) if tries < 200 && e.to_string().contains("lock") => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                Err(e) => panic!("reopen: {e}"),
            }
        }
    }
    pub fn store(&self) -> Arc<Store> {
        self.store.clone().unwrap()
    }
    /// Close the store (every other Arc must be dropped first) and open it again.
    pub fn restart(&mut self) {
        let s = self.store.take().unwrap();
        s.flush_blocking().unwrap();
        assert_eq!(Arc::strong_count(&s), 1, "something still holds the store");
        drop(s);
        self.open();
    }
    pub fn at(&self, d: Duration) {
        self.clock.set(t0() + d);
    }
    pub fn workflow(&self, cfg: OrdersConfig) -> Workflow {
        Workflow::new(self.store(), cfg, self.clock.clone()).unwrap()
    }
}

pub fn contact(role: &str, name: &str, phone: &str, email: Option<&str>) -> Contact {
    Contact { role: role.into(), name: name.into(), phone: Some(phone.into()), email: email.map(str::to_string) }
}

/// Responsibility table used by most tests.
pub fn table() -> Vec<DispatchRule> {
    vec![
        DispatchRule {
            estate: "xfhy".into(),
            category: "repair".into(),
            chain: vec![
                contact("manager", "李经理", "13900000001", Some("li@example.com")),
                contact("team-lead", "王班长", "13900000002", None),
                contact("technician", "赵师傅", "13900000003", None),
            ],
            channels: vec!["sms".into(), "email".into()],
        },
        DispatchRule {
            estate: "xfhy".into(),
            category: "*".into(),
            chain: vec![contact("manager", "钱经理", "13900000004", None)],
            channels: vec!["sms".into()],
        },
        DispatchRule {
            estate: "*".into(),
            category: "投诉".into(),
            chain: vec![contact("manager", "孙主任", "13900000005", None)],
            channels: vec!["sms".into()],
        },
        DispatchRule {
            estate: "*".into(),
            category: "*".into(),
            chain: vec![contact("manager", "周值班", "13900000006", None)],
            channels: vec!["sms".into()],
        },
    ]
}

pub fn config() -> OrdersConfig {
    let mut c = OrdersConfig { dispatch: table(), auto_dispatch: false, ..Default::default() };
    for (k, name, phone) in [
        ("direct-leader", "孙主管", "13900000010"),
        ("branch-head", "周经理", "13900000011"),
        ("president", "吴总", "13900000012"),
        ("chairman", "郑董", "13900000013"),
    ] {
        c.sla.contacts.insert(k.into(), contact(k, name, phone, None));
    }
    c
}

pub async fn new_order(store: &Store, estate: &str, category: Category) -> WorkOrder {
    let n = NewOrder {
        category,
        subcategory: None,
        estate_id: Some(estate.into()),
        unit_id: Some(format!("{estate}-3-2-1502")),
        caller: "13800138000".into(),
        description: "厨房水管漏水".into(),
        recording_id: None,
        priority: Priority::Normal,
        parent_id: None,
        call_id: None,
    };
    store.create_order(&n, "agent:小王").await.unwrap()
}

/// A fake SMS gateway: answers `fail_first` requests with 503, then 200 `{"code":0}`.
#[derive(Clone, Default)]
pub struct Gateway {
    pub fail_first: Arc<AtomicUsize>,
    pub status_on_fail: Arc<AtomicUsize>,
    pub hits: Arc<AtomicUsize>,
    pub received: Arc<parking_lot::Mutex<Vec<(HeaderMap, String)>>>,
}

impl Gateway {
    pub fn received(&self) -> Vec<(HeaderMap, String)> {
        self.received.lock().clone()
    }
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.received().into_iter().map(|(_, b)| serde_json::from_str(&b).unwrap()).collect()
    }
}

async fn gateway_handler(State(g): State<Gateway>, headers: HeaderMap, body: String) -> (StatusCode, String) {
    let n = g.hits.fetch_add(1, Ordering::SeqCst);
    if n < g.fail_first.load(Ordering::SeqCst) {
        let code = match g.status_on_fail.load(Ordering::SeqCst) {
            0 => 503,
            c => c as u16,
        };
        return (StatusCode::from_u16(code).unwrap(), "gateway busy".into());
    }
    g.received.lock().push((headers, body));
    (StatusCode::OK, r#"{"code":0}"#.into())
}

/// Start a gateway; returns it and its URL.
pub async fn start_gateway(fail_first: usize) -> (Gateway, String) {
    let g = Gateway::default();
    g.fail_first.store(fail_first, Ordering::SeqCst);
    let app = axum::Router::new().route("/send", post(gateway_handler)).with_state(g.clone());
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (g, url)
}

pub fn sms_config(url: &str) -> SmsConfig {
    SmsConfig {
        url: url.into(),
        format: SmsFormat::Json,
        template: r#"{"mobile":"{to}","content":"{text}"}"#.into(),
        headers: [("x-api-key".to_string(), "k1".to_string())].into_iter().collect(),
        success_contains: Some(r#""code":0"#.into()),
        timeout_ms: 2000,
    }
}

/// One message accepted by the SMTP sink.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub rcpt: Vec<String>,
    pub data: String,
}

/// A minimal SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that
/// stores what it receives. Returns the port and the mailbox.
pub async fn start_smtp_sink() -> (u16, Arc<parking_lot::Mutex<Vec<Mail>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let box_ = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let b = box_.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = l.accept().await else { return };
            let b = b.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 sink ESMTP ready\r\n").await;
                let mut from = String::new();
                let mut rcpt = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_string();
                    let up = cmd.to_ascii_uppercase();
                    let reply: &[u8] = if up.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if up.starts_with("HELO") || up.starts_with("RSET") || up.starts_with("NOOP") {
                        b"250 ok\r\n"
                    } else if up.starts_with("MAIL FROM:") {
                        from = cmd[10..].trim().to_string();
                        rcpt.clear();
                        b"250 ok\r\n"
                    } else if up.starts_with("RCPT TO:") {
                        rcpt.push(cmd[8..].trim().to_string());
                        b"250 ok\r\n"
                    } else if up == "DATA" {
                        let _ = w.write_all(b"354 end with .\r\n").await;
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        b.lock().push(Mail { from: from.clone(), rcpt: rcpt.clone(), data });
                        b"250 queued\r\n"
                    } else if up == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"502 not implemented\r\n"
                    };
                    if w.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, box_)
}

/// Wait (bounded) until `f` holds; for background loops.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..400 {
        if f() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}
