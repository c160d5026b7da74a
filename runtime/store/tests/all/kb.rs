use crate::{demo_file, temp_store};
use courtyard_store::import::{ImportKind, import_file};

#[tokio::test]
async fn chinese_queries_find_the_right_demo_article() {
    let (_d, store, _c) = temp_store();
    let r = import_file(&store, ImportKind::Kb, &demo_file("kb.csv")).await.unwrap();
    assert!(r.bad.is_empty(), "{:?}", r.bad);
    assert!(r.imported >= 30);
    for (query, topic) in [
        ("物业办公时间是几点", "office-hours"),
        ("燃气怎么开户", "gas-account"),
        ("有线电视开通", "cable-tv"),
        ("停车位月租多少钱", "parking"),
        ("装修需要办什么手续", "decoration-rules"),
        ("家里停水了", "water-outage"),
        ("电梯困人怎么办", "elevator-emergency"),
    ] {
        let hits = store.kb_search(query, 3).unwrap();
        assert!(!hits.is_empty(), "no hit for {query}");
        assert_eq!(hits[0].article.topic, topic, "query {query}: got {:?}", hits.iter().map(|h| &h.article.topic).collect::<Vec<_>>());
    }
    assert!(store.kb_search("量子引力", 3).unwrap().is_empty());
    assert!(store.kb_answer("office-hours").unwrap().unwrap().contains("8"));
}

#[tokio::test]
async fn demo_directory_imports_cleanly_and_twice_gives_the_same_store() {
    let (_d, store, _c) = temp_store();
    let dir = demo_file("");
    let first = courtyard_store::import::import_dir(&store, &dir).await.unwrap();
    assert_eq!(first.len(), 7);
    for r in &first {
        assert!(r.bad.is_empty(), "{:?}: {:?}", r.kind, &r.bad[..r.bad.len().min(5)]);
    }
    let zw = store.lookup_caller("13800138000").unwrap();
    assert_eq!((zw[0].name.as_str(), zw[0].honorific.as_deref()), ("张伟", Some("先生")));
    assert_eq!(store.arrears("xfhy-3-2-1502").unwrap(), 78900);
    let count = store.list::<courtyard_store::model::Resident>(|_| true, 0, 0).unwrap().total;
    let second = courtyard_store::import::import_dir(&store, &dir).await.unwrap();
    assert_eq!(first.iter().map(|r| r.imported).collect::<Vec<_>>(), second.iter().map(|r| r.imported).collect::<Vec<_>>());
    assert_eq!(store.list::<courtyard_store::model::Resident>(|_| true, 0, 0).unwrap().total, count);
}
