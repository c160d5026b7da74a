//! Shared helpers for the fuzz targets: drive a classified SIP message through the code the
//! endpoint runs next, and an in-memory store so CSV import fuzzing does not touch the disk.
#![allow(missing_docs)]

use courtyard_sip::auth;
use courtyard_sip::builder;
use courtyard_sip::framing::frame_datagram;
use courtyard_sip::message::Message;
use courtyard_sip::sdp;
use courtyard_sip::uri::{NameAddr, SipUri};
use courtyard_sip::validate::{Inbound, Rejection};
use courtyard_sip::via::Via;
use courtyard_store::backend::{KvBackend, Kv, TxBody, TxView};
use courtyard_store::{FixedClock, Store, StoreError, StoreOptions};
use futures::future::BoxFuture;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Parses the headers a request handler reads and checks that any response we would send is
/// itself one well-formed SIP message with the intended status (no header injection).
pub fn exercise_inbound(i: Inbound) {
    match i {
        Inbound::Request(r) => {
            touch_headers(&r.msg);
            let _ = r.uri.user_decoded();
            let bytes = builder::response(&r.msg, &r.via, 200, "OK", Some("fuzztag"), &[], b"");
            check_own_response(&bytes, 200);
        }
        Inbound::Response(m, _via) => touch_headers(&m),
        Inbound::Reject(Rejection::Respond { code, reason, headers, msg, via }) => {
            touch_headers(&msg);
            let extra: Vec<(&str, String)> = headers.iter().map(|(n, v)| (*n, v.clone())).collect();
            let bytes = builder::response(&msg, &via, code, &reason, Some("fuzztag"), &extra, b"");
            check_own_response(&bytes, code);
        }
        Inbound::Reject(Rejection::Drop(_)) | Inbound::Drop(_) => {}
    }
}

fn touch_headers(m: &Message) {
    for (name, value) in &m.headers {
        match name.to_ascii_lowercase().as_str() {
            "via" => {
                let _ = Via::parse(value);
                let _ = Via::parse_lenient(value);
            }
            "contact" | "from" | "to" | "route" | "record-route" | "refer-to" => {
                for part in courtyard_sip::message::split_list(value) {
                    if let Ok(na) = NameAddr::parse(part) {
                        let _ = na.user();
                        let _ = na.tag();
                    }
                }
            }
            "authorization" | "proxy-authorization" | "www-authenticate" => {
                let _ = auth::parse_params(value);
            }
            _ => {}
        }
    }
    let _ = m.cseq();
    if let Some(s) = sdp::sdp_from_body(m.header("Content-Type"), &m.body) {
        let _ = sdp::parse(&s);
    }
    if let Some((_, uri)) = m.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("Refer-To")) {
        let _ = SipUri::parse(uri.trim_matches(|c| c == '<' || c == '>'));
    }
}

fn check_own_response(bytes: &[u8], code: u16) {
    match frame_datagram(bytes) {
        Ok(Some(m)) => assert_eq!(
            m.status(),
            Some(code),
            "our response re-parses with another status:\n{}",
            String::from_utf8_lossy(bytes)
        ),
        other => panic!(
            "our own {code} response does not parse ({:?}):\n{}",
            other.err().map(|e| e.reason),
            String::from_utf8_lossy(bytes)
        ),
    }
}

/// Runs a future to completion on a per-thread current-thread runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    }
    RT.with(|rt| rt.block_on(f))
}

/// A store over [`MemoryKv`] with a fixed clock (so repeated imports are comparable).
pub fn memory_store() -> (Store, Arc<MemoryKv>) {
    let t = chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:00+08:00").expect("fixed time");
    let kv = Arc::new(MemoryKv::default());
    (Store::with_backend(kv.clone(), StoreOptions { clock: Arc::new(FixedClock::new(t)) }), kv)
}

/// An ordered in-memory KV store implementing the store's backend trait.
#[derive(Default)]
pub struct MemoryKv {
    map: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    ids: AtomicU64,
}

impl MemoryKv {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        match self.map.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

struct Tx<'a>(RefCell<&'a mut BTreeMap<Vec<u8>, Vec<u8>>>);

impl TxView for Tx<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.borrow().get(key).cloned())
    }
    fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.0.borrow_mut().insert(key.to_vec(), value.to_vec());
        Ok(())
    }
    fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
}

impl KvBackend for MemoryKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().get(key).cloned())
    }
    fn insert(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.lock().insert(key.to_vec(), value.to_vec());
        Ok(())
    }
    fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }
    fn scan_prefix<'a>(&'a self, prefix: &[u8]) -> Box<dyn DoubleEndedIterator<Item = Result<Kv, StoreError>> + Send + 'a> {
        let v: Vec<Result<Kv, StoreError>> = self
            .lock()
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| Ok((k.clone(), v.clone())))
            .collect();
        Box::new(v.into_iter())
    }
    fn scan_range<'a>(&'a self, start: &[u8], end: &[u8]) -> Box<dyn DoubleEndedIterator<Item = Result<Kv, StoreError>> + Send + 'a> {
        if start > end {
            return Box::new(Vec::new().into_iter());
        }
        let v: Vec<Result<Kv, StoreError>> =
            self.lock().range(start.to_vec()..end.to_vec()).map(|(k, v)| Ok((k.clone(), v.clone()))).collect();
        Box::new(v.into_iter())
    }
    fn transact(&self, body: TxBody<'_>) -> Result<(), StoreError> {
        let mut g = self.lock();
        let mut copy = g.clone();
        body(&Tx(RefCell::new(&mut copy)))?;
        *g = copy;
        Ok(())
    }
    fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.ids.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn flush(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn flush_blocking(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Every key/value currently stored (for idempotency checks).
pub fn snapshot(kv: &MemoryKv) -> BTreeMap<Vec<u8>, Vec<u8>> {
    kv.lock().clone()
}
