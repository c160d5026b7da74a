//! The configuration example in docs/acd.md is the real format: it parses and validates.

use courtyard_acd::*;

use crate::common::*;

fn doc_example() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/acd.md")).expect("docs/acd.md");
    let start = doc.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("block end");
    doc[start..end].to_string()
}

#[tokio::test]
async fn the_documented_configuration_parses_and_runs() {
    let cfg: AcdConfig = toml::from_str(&doc_example()).expect("docs/acd.md example parses");
    assert_eq!(cfg.queues.len(), 2);
    let repairs = &cfg.queues[0];
    assert_eq!(repairs.strategy, Strategy::SkillsBased);
    assert_eq!(repairs.overflow, Some(OverflowTarget::Queue { name: "general".into() }));
    assert_eq!(repairs.sticky_secs, Some(30));
    assert_eq!(cfg.queues[1].ring_timeout_secs, 20, "defaults fill what the file leaves out");
    assert_eq!(cfg.agents[0].skills.get("报修"), Some(&8));
    assert_eq!(cfg.agents[1].wrap_up_secs, Some(30));
    // It validates and routes: an estate call in "repairs" needs 报修 ≥ 3 and estate:翠园 → 1001.
    let mut h = Harness::new(cfg);
    h.login(&[("1001", "8001"), ("1002", "8002")]).await;
    let c = CallRef { estate: Some("翠园".into()), ..call("1") };
    let _t = h.enqueue(c, "repairs").await;
    assert_eq!(h.ring().await.agent(), "1001");
}
