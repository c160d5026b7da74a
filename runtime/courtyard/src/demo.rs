//! The demo estate data set (`examples/demo-data`), compiled into the binary so `courtyard demo`
//! works from any directory; loaded into an empty store on first start.

use anyhow::Context;
use courtyard_store::Store;
use courtyard_store::import::{ImportKind, import_bytes};
use courtyard_store::model::{Calendar, Estate, OpenInterval};

/// The demo CSV files in dependency order (estates before units before owners and bills).
const FILES: &[(ImportKind, &str, &[u8])] = &[
    (ImportKind::Estates, "estates.csv", include_bytes!("../../../examples/demo-data/estates.csv")),
    (ImportKind::Units, "units.csv", include_bytes!("../../../examples/demo-data/units.csv")),
    (ImportKind::Owners, "owners.csv", include_bytes!("../../../examples/demo-data/owners.csv")),
    (ImportKind::Bills, "bills.csv", include_bytes!("../../../examples/demo-data/bills.csv")),
    (ImportKind::Warranty, "warranty.csv", include_bytes!("../../../examples/demo-data/warranty.csv")),
    (ImportKind::Kb, "kb.csv", include_bytes!("../../../examples/demo-data/kb.csv")),
    (ImportKind::Announcements, "announcements.csv", include_bytes!("../../../examples/demo-data/announcements.csv")),
];

/// Working hours of the demo hotline's "default" calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Hours {
    /// Mon–Fri 08:30–17:30, Sat 09:00–12:00 (a typical 物业客服中心).
    Office,
    /// Always open (a 24-hour hotline).
    #[value(name = "24x7")]
    AllDay,
    /// Always closed: every call gets the after-hours service.
    Closed,
}

/// Loads the demo data set when the store has no estates yet (re-running is a no-op; importing
/// is idempotent anyway) and sets the "default" calendar.
pub async fn seed(store: &Store, hours: Hours) -> anyhow::Result<()> {
    let calendar = match hours {
        Hours::Office => Calendar::office_default("default"),
        Hours::AllDay => {
            let t = |h, m, s| chrono::NaiveTime::from_hms_opt(h, m, s).unwrap_or(chrono::NaiveTime::MIN);
            let day = vec![OpenInterval { open: t(0, 0, 0), close: t(23, 59, 59) }];
            Calendar { name: "default".into(), weekly: vec![day; 7], holidays: vec![], extra_workdays: vec![] }
        }
        Hours::Closed => Calendar { name: "default".into(), weekly: vec![vec![]; 7], holidays: vec![], extra_workdays: vec![] },
    };
    store.put(&calendar).await?;
    seed_users(store).await?;
    if !store.list::<Estate>(|_| true, 0, 1)?.items.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    for (kind, name, bytes) in FILES {
        let report = import_bytes(store, *kind, bytes).await.with_context(|| format!("demo data {name}"))?;
        if !report.bad.is_empty() {
            tracing::warn!(file = name, bad = report.bad.len(), first = %report.bad[0], "demo data has rejected lines");
        }
    }
    tracing::info!(ms = started.elapsed().as_millis() as u64, "demo data loaded");
    Ok(())
}

/// Demo web accounts (demo only): admin/admin-demo, supervisor/supervisor-demo, and one agent
/// account per demo extension (8001/demo8001 …), linked to the agent of that extension.
async fn seed_users(store: &Store) -> anyhow::Result<()> {
    use courtyard_api::{PasswordCost, create_user};
    use courtyard_store::model::{Role, User};
    let mut accounts = vec![
        ("admin".to_string(), "管理员".to_string(), Role::Admin, "admin-demo".to_string(), None),
        ("supervisor".to_string(), "值班主管".to_string(), Role::Supervisor, "supervisor-demo".to_string(), None),
    ];
    for n in 1..=5 {
        let ext = format!("800{n}");
        accounts.push((ext.clone(), format!("坐席{ext}"), Role::Agent, format!("demo{ext}"), Some(ext)));
    }
    for (username, name, role, password, agent) in accounts {
        if store.get::<User>(&username)?.is_some() {
            continue;
        }
        let mut user = create_user(store, &username, &name, role, &password, PasswordCost::Default)
            .await
            .map_err(|e| anyhow::anyhow!("demo user {username}: {}", e.message))?;
        if agent.is_some() {
            user.agent_id = agent;
            store.put(&user).await?;
        }
    }
    Ok(())
}
