//! Store benchmark (prints figures, asserts nothing):
//! `cargo run --release -p courtyard-store --example bench-store [-- RESIDENTS]`
//!
//! 1. CSV import rows/s (units, owners, bills) for RESIDENTS residents (default 100,000).
//! 2. Caller lookup latency p50/p99 (phone → residents) over 100,000 random lookups.
//! 3. Screen-pop view (residents + units + arrears + open orders + last calls) p50/p99.
//! 4. Durable work-order creation: sequential latency p50/p99 and throughput with 32 concurrent
//!    writers (group commit).

use courtyard_store::Store;
use courtyard_store::import::{ImportKind, import_bytes};
use courtyard_store::model::{Category, NewOrder, Priority};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p) as usize]
}

fn phone(i: usize) -> String {
    format!("139{:08}", i)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let units_n = n / 2;
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(dir.path())?);
    println!("bench-store: {n} residents, {units_n} units, sled in {}", dir.path().display());

    let mut estates = String::from("id,name\nbench,基准小区\n");
    estates.push('\n');
    import_bytes(&store, ImportKind::Estates, estates.as_bytes()).await?;
    let addr = |u: usize| format!("bench,{},{},{}", u / 1000 + 1, (u / 100) % 10 + 1, u % 100 + 101);
    let mut units = String::from("estate_id,building,entrance,room,area_m2,move_in_date\n");
    let mut owners = String::from("estate_id,building,entrance,room,name,honorific,role,phones,vip,language\n");
    let mut bills = String::from("estate_id,building,entrance,room,fee_type,period,amount_yuan,paid,due_date\n");
    for u in 0..units_n {
        units.push_str(&format!("{},89.50,2022-05-01\n", addr(u)));
        owners.push_str(&format!("{},业主{u},先生,业主,{},否,zh\n", addr(u), phone(2 * u)));
        owners.push_str(&format!("{},租户{u},女士,租户,{},否,zh\n", addr(u), phone(2 * u + 1)));
        bills.push_str(&format!("{},物业费,2026-11,223.75,{},2026-12-31\n", addr(u), if u % 10 == 0 { "否" } else { "是" }));
        bills.push_str(&format!("{},水费,2026-11,45.30,是,2026-12-31\n", addr(u)));
    }
    for (kind, csv) in [(ImportKind::Units, &units), (ImportKind::Owners, &owners), (ImportKind::Bills, &bills)] {
        let t = Instant::now();
        let rep = import_bytes(&store, kind, csv.as_bytes()).await?;
        let el = t.elapsed();
        println!(
            "import {kind:?}: {} rows in {:.2} s = {:.0} rows/s ({} bad)",
            rep.imported,
            el.as_secs_f64(),
            rep.imported as f64 / el.as_secs_f64(),
            rep.bad.len()
        );
    }

    let mut rng_state = 0x2545F4914F6CDD1Du64;
    let mut next = || {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state
    };
    let mut lat = Vec::with_capacity(100_000);
    let mut found = 0;
    for _ in 0..100_000 {
        let p = phone((next() % (n as u64)) as usize);
        let t = Instant::now();
        let r = store.lookup_caller(&p)?;
        lat.push(t.elapsed());
        found += r.len();
    }
    println!(
        "lookup_caller: 100000 lookups, {found} hits, p50 {:?} p99 {:?}",
        pct(&mut lat, 0.5),
        pct(&mut lat, 0.99)
    );
    let mut lat = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let p = phone((next() % (n as u64)) as usize);
        let t = Instant::now();
        let v = store.caller_view(&p, 5)?;
        lat.push(t.elapsed());
        assert!(!v.residents.is_empty());
    }
    println!("caller_view (screen-pop): 10000 lookups, p50 {:?} p99 {:?}", pct(&mut lat, 0.5), pct(&mut lat, 0.99));

    let order = |i: usize| NewOrder {
        category: Category::Repair,
        subcategory: None,
        estate_id: Some("bench".into()),
        unit_id: Some(format!("bench-{}-{}-{}", i / 1000 + 1, (i / 100) % 10 + 1, i % 100 + 101)),
        caller: phone(i),
        description: "bench".into(),
        recording_id: None,
        priority: Priority::Normal,
        parent_id: None,
        call_id: None,
    };
    let mut lat = Vec::with_capacity(500);
    for i in 0..500 {
        let t = Instant::now();
        store.create_order(&order(i), "bench").await?;
        lat.push(t.elapsed());
    }
    println!("create_order durable, sequential: 500 orders, p50 {:?} p99 {:?}", pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..32 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..100 {
                s.create_order(&order(w * 100 + i), "bench").await?;
            }
            Ok::<_, courtyard_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let el = t.elapsed();
    println!("create_order durable, 32 concurrent writers: 3200 orders in {:.2} s = {:.0} orders/s", el.as_secs_f64(), 3200.0 / el.as_secs_f64());
    Ok(())
}
