use crate::temp_store;
use chrono::{DateTime, NaiveDate};
use courtyard_store::model::*;

fn unit(room: &str) -> Unit {
    Unit {
        id: Unit::make_id("xfhy", "3", "2", room),
        estate_id: "xfhy".into(),
        building: "3".into(),
        entrance: "2".into(),
        room: room.into(),
        area_centi_m2: Some(8950),
        move_in_date: NaiveDate::from_ymd_opt(2022, 5, 1),
    }
}

#[tokio::test]
async fn phone_index_follows_resident_changes_and_screen_pop_collects_everything() {
    let (_d, store, _c) = temp_store();
    store.put(&Estate { id: "xfhy".into(), name: "幸福花园".into(), office_phone: None, address: None }).await.unwrap();
    store.upsert_unit(&unit("1502")).await.unwrap();
    store.upsert_unit(&unit("1503")).await.unwrap();
    let mut r = Resident {
        id: "r1".into(),
        name: "张伟".into(),
        honorific: Some("先生".into()),
        role: ResidentRole::Owner,
        phones: vec!["138-0013-8000".into(), "13900000001".into()],
        vip: true,
        language: "zh".into(),
        unit_ids: vec!["xfhy-3-2-1502".into()],
    };
    store.upsert_resident(&r).await.unwrap();
    assert_eq!(store.lookup_caller("+8613800138000").unwrap()[0].name, "张伟");
    assert_eq!(store.lookup_caller("13900000001").unwrap().len(), 1);
    r.phones = vec!["13700000002".into()];
    store.upsert_resident(&r).await.unwrap();
    assert!(store.lookup_caller("13800138000").unwrap().is_empty(), "stale phone index entry");
    assert_eq!(store.lookup_caller("13700000002").unwrap().len(), 1);
    assert_eq!(store.residents_of_unit("xfhy-3-2-1502").unwrap().len(), 1);
    assert_eq!(store.find_unit(Some("xfhy"), "3", "2", "1503").unwrap().unwrap().id, "xfhy-3-2-1503");
    assert_eq!(store.find_unit(None, "3", "2", "1503").unwrap().unwrap().id, "xfhy-3-2-1503");
    assert!(store.find_unit(Some("xfhy"), "3", "2", "9999").unwrap().is_none());
    assert_eq!(store.units_of("xfhy", Some("3"), None, 0, 10).unwrap().total, 2);

    for (period, paid) in [("2026-09", true), ("2026-10", false), ("2026-11", false)] {
        let b = Bill {
            id: Bill::make_id("xfhy-3-2-1502", FeeType::Property, period),
            unit_id: "xfhy-3-2-1502".into(),
            fee_type: FeeType::Property,
            period: period.into(),
            amount_fen: 32050,
            paid,
            due_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        };
        store.put(&b).await.unwrap();
    }
    assert_eq!(store.arrears("xfhy-3-2-1502").unwrap(), 64100);
    let bills = store.bills("xfhy-3-2-1502", false).unwrap();
    assert_eq!(bills[0].period, "2026-11");
    assert_eq!(store.bills("xfhy-3-2-1502", true).unwrap().len(), 2);

    store.put(&WarrantyRule { estate_id: "xfhy".into(), item: "防水".into(), months: 60 }).await.unwrap();
    store.put(&WarrantyRule { estate_id: "xfhy".into(), item: "电气管线".into(), months: 24 }).await.unwrap();
    let w = store.warranty("xfhy-3-2-1502").unwrap();
    let water = w.iter().find(|i| i.item == "防水").unwrap();
    assert_eq!(water.ends_on, NaiveDate::from_ymd_opt(2027, 4, 30).unwrap());
    assert!(water.in_warranty);
    assert!(!w.iter().find(|i| i.item == "电气管线").unwrap().in_warranty);

    let start = DateTime::parse_from_rfc3339("2026-11-26T09:00:00+08:00").unwrap();
    store
        .upsert_cdr(&Cdr {
            call_id: "c1".into(),
            direction: "inbound".into(),
            caller: "13700000002".into(),
            called: "4008123456".into(),
            start,
            answer: None,
            end: None,
            flow: Some("ivr-main".into()),
            plugin_version: Some("v1".into()),
            ivr_path: vec!["main:1".into()],
            queue: None,
            agent: None,
            hangup_side: None,
            hangup_cause: None,
            recording_id: None,
            vars: Default::default(),
            interrupted: false,
        })
        .await
        .unwrap();
    let order = store
        .create_order(
            &NewOrder {
                category: Category::Complaint,
                subcategory: None,
                estate_id: Some("xfhy".into()),
                unit_id: Some("xfhy-3-2-1502".into()),
                caller: "13700000002".into(),
                description: "噪音".into(),
                recording_id: None,
                priority: Priority::High,
                parent_id: None,
                call_id: Some("c1".into()),
            },
            "agent",
        )
        .await
        .unwrap();
    let v = store.caller_view("137 0000 0002", 5).unwrap();
    assert_eq!(v.residents.len(), 1);
    assert_eq!(v.units.len(), 1);
    assert_eq!(v.arrears, vec![("xfhy-3-2-1502".to_string(), 64100)]);
    assert_eq!(v.open_orders[0].id, order.id);
    assert_eq!(v.last_calls[0].call_id, "c1");

    // Crash recovery marks calls without an end as interrupted.
    assert_eq!(store.mark_interrupted_calls(store.now()).await.unwrap(), 1);
    assert!(store.get::<Cdr>("c1").unwrap().unwrap().interrupted);

    // Retention: a policy of 0 days keeps forever; 1 day purges the CDR of yesterday morning.
    let rep = store
        .purge(&RetentionPolicy { cdr_days: 1, recording_days: 0, audit_days: 0, callback_days: 0 }, store.now() + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(rep.cdrs, 1);
    assert!(store.calls_from("13700000002", 5).unwrap().is_empty());
    assert!(store.get::<Cdr>("c1").unwrap().is_none());
}

#[tokio::test]
async fn announcements_and_calendar() {
    let (_d, store, _c) = temp_store();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    for (id, estate, start, end) in [
        ("a1", Some("xfhy"), "2026-11-20", "2026-11-30"),
        ("a2", None, "2026-11-25", "2026-11-27"),
        ("a3", Some("chy"), "2026-11-20", "2026-11-30"),
        ("a4", Some("xfhy"), "2026-10-01", "2026-10-02"),
    ] {
        store
            .put(&Announcement { id: id.into(), estate_id: estate.map(str::to_string), text: format!("通告{id}"), start: d(start), end: d(end) })
            .await
            .unwrap();
    }
    assert_eq!(store.announcements_today(Some("xfhy")).unwrap(), vec!["通告a2", "通告a1"]);
    assert_eq!(store.announcements_today(None).unwrap(), vec!["通告a2"]);
    let now = store.now();
    assert!(store.is_open("default", now).unwrap());
    assert!(store.is_open("nope", now).is_err());
    let mut cal = Calendar::office_default("default");
    cal.holidays.push(d("2026-11-27"));
    store.put(&cal).await.unwrap();
    assert!(!store.is_open("default", now).unwrap());
    assert_eq!(store.next_open("default", now).unwrap().unwrap().to_rfc3339(), "2026-11-28T09:00:00+08:00");
}
