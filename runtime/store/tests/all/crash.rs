//! Crash safety: a child process writes work orders and prints each acknowledged id; we SIGKILL
//! it mid-stream, reopen the store and require every acknowledged write (and its history) to be
//! there.

use courtyard_store::Store;
use courtyard_store::model::{Category, NewOrder, OrderState, Priority};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ENV: &str = "COURTYARD_CRASH_CHILD_DIR";

/// The child's body; only runs when re-executed by `acknowledged_writes_survive_sigkill`.
#[tokio::test]
#[ignore = "helper: run by the crash test in a child process"]
async fn crash_child_writer() {
    let Ok(dir) = std::env::var(ENV) else { return };
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    let mut i = 0u64;
    loop {
        i += 1;
        let o = store
            .create_order(
                &NewOrder {
                    category: Category::Repair,
                    subcategory: None,
                    estate_id: None,
                    unit_id: Some(format!("u{}", i % 50)),
                    caller: "13800138000".into(),
                    description: format!("crash test {i}"),
                    recording_id: None,
                    priority: Priority::Normal,
                    parent_id: None,
                    call_id: None,
                },
                "crash",
            )
            .await
            .unwrap();
        println!("ACK {} new", o.id);
        store.transition_order(&o.id, OrderState::Dispatched, "crash", Some("tech"), None).await.unwrap();
        println!("ACK {} dispatched", o.id);
        store.kv_set("crash", &o.id, b"x").await.unwrap();
        println!("ACK {} kv", o.id);
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<(String, String)> = Vec::new();
    for round in 0..4 {
        let mut child = Command::new(&exe)
            .args(["--ignored", "--exact", "crash::crash_child_writer", "--nocapture", "--test-threads=1"])
            .env(ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        // Kill after a varying number of acknowledgements so the kill lands at different points.
        let kill_after = 60 + round * 37;
        let started = Instant::now();
        let mut n = 0;
        for line in out.lines() {
            let line = line.unwrap();
            if let Some(rest) = line.strip_prefix("ACK ") {
                let (id, what) = rest.split_once(' ').unwrap();
                acked.push((id.to_string(), what.to_string()));
                n += 1;
                if n >= kill_after {
                    break;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(60), "child too slow");
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        assert!(n >= kill_after, "child died early after {n} acks");
        // Reopen and check everything acknowledged so far (across all rounds).
        let store = Store::open(dir.path()).unwrap();
        for (id, what) in &acked {
            let o = store.get_order(id).unwrap().unwrap_or_else(|| panic!("round {round}: acknowledged order {id} lost"));
            let hist = store.order_history(id).unwrap();
            assert_eq!(hist.len(), o.history_len as usize, "round {round}: order {id} and its history diverged");
            match what.as_str() {
                "dispatched" => assert_eq!(o.state, OrderState::Dispatched, "round {round}: {id} lost its dispatch"),
                "kv" => assert!(store.kv_get("crash", id).unwrap().is_some(), "round {round}: kv for {id} lost"),
                _ => {}
            }
        }
        // Numbers keep increasing after a crash (the daily counter is durable with the order).
        let ids: Vec<&String> = acked.iter().filter(|(_, w)| w == "new").map(|(i, _)| i).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "order numbers reused after crash");
        drop(store);
    }
}
