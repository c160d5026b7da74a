use crate::temp_store;
use courtyard_store::import::{ImportKind, import_bytes};
use courtyard_store::model::{Bill, Resident};

const ESTATES: &str = "id,name,office_phone,address\nxfhy,幸福花园,02161234567,幸福路1号\nchy,翠湖苑,,翠湖路8号\n";
const UNITS: &str = "estate_id,building,entrance,room,area_m2,move_in_date\n\
xfhy,3,2,1502,89.5,2022-05-01\n\
xfhy,3,2,1503,89.5,2022-05-01\n\
chy,1,1,101,120,2023/01/15\n\
nope,1,1,101,,\n\
xfhy,3,2,1502,89.5,2022-05-01\n\
xfhy,3,2,1601,89.5,2022-13-01\n";

async fn base(store: &courtyard_store::Store) {
    let r = import_bytes(store, ImportKind::Estates, ESTATES.as_bytes()).await.unwrap();
    assert_eq!((r.imported, r.bad.len()), (2, 0), "{:?}", r.bad);
    let r = import_bytes(store, ImportKind::Units, UNITS.as_bytes()).await.unwrap();
    let lines: Vec<String> = r.bad.iter().map(|b| b.to_string()).collect();
    assert_eq!(r.imported, 3, "{lines:?}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("line 5: unknown estate 'nope'"), "{lines:?}");
    assert!(lines[1].starts_with("line 6: duplicate unit"), "{lines:?}");
    assert!(lines[2].starts_with("line 7: bad date"), "{lines:?}");
}

#[tokio::test]
async fn owners_with_broken_rows_are_reported_by_line_and_good_rows_kept() {
    let (_d, store, _c) = temp_store();
    base(&store).await;
    let owners = "estate_id,building,entrance,room,name,honorific,role,phones,vip,language\n\
xfhy,3,2,1502,张伟,先生,业主,13800138000;021-61234568,是,zh\n\
xfhy,3,2,1502,李娜,女士,租户,1380013800,否,zh\n\
xfhy,9,9,999,王芳,女士,业主,13900000003,否,zh\n\
xfhy,3,2,1502,张伟,先生,业主,13800138000,是,zh\n\
xfhy,3,2,1503,张伟,先生,业主,13800138000,是,zh\n\
chy,1,1,101,刘洋,,tenant,+86 139 0000 0004,no,en\n";
    let r = import_bytes(&store, ImportKind::Owners, owners.as_bytes()).await.unwrap();
    let lines: Vec<String> = r.bad.iter().map(|b| b.to_string()).collect();
    assert_eq!(r.rows, 6);
    assert_eq!(r.imported, 3, "{lines:?}");
    assert!(lines[0].starts_with("line 3: bad phone '1380013800'"), "{lines:?}");
    assert!(lines[1].starts_with("line 4: unknown unit xfhy 9栋9单元999"), "{lines:?}");
    assert!(lines[2].starts_with("line 5: duplicate resident"), "{lines:?}");
    // Good rows are kept; the same person on two units is merged into one resident.
    let zw = store.lookup_caller("13800138000").unwrap();
    assert_eq!(zw.len(), 1);
    assert_eq!(zw[0].unit_ids, vec!["xfhy-3-2-1502", "xfhy-3-2-1503"]);
    assert_eq!(zw[0].honorific.as_deref(), Some("先生"));
    assert!(zw[0].vip);
    assert_eq!(store.lookup_caller("02161234568").unwrap().len(), 1);
    assert_eq!(store.lookup_caller("13900000004").unwrap()[0].language, "en");

    // Re-import is idempotent: same residents, same keys, same counts.
    let before = store.list::<Resident>(|_| true, 0, 100).unwrap();
    let r2 = import_bytes(&store, ImportKind::Owners, owners.as_bytes()).await.unwrap();
    assert_eq!(r2.imported, r.imported);
    let after = store.list::<Resident>(|_| true, 0, 100).unwrap();
    assert_eq!(before.items, after.items);
}

#[tokio::test]
async fn gbk_bills_file_is_detected_and_amounts_are_exact() {
    let (_d, store, _c) = temp_store();
    base(&store).await;
    let bills = "estate_id,building,entrance,room,fee_type,period,amount_yuan,paid,due_date\n\
xfhy,3,2,1502,物业费,2026-10,320.50,否,2026-10-31\n\
xfhy,3,2,1502,水费,2026-10,45.3,是,2026-10-31\n\
xfhy,3,2,1502,物业费,2026-11,三百,否,2026-11-30\n\
xfhy,3,2,1502,物业费,2026-10,320.50,否,2026-10-31\n\
xfhy,3,2,1502,暖气费,2026-10,1,否,2026-10-31\n\
xfhy,3,2,1503,电费,2026-11,88,未缴,2026-11-30\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(bills);
    assert!(!unmappable);
    let r = import_bytes(&store, ImportKind::Bills, &gbk).await.unwrap();
    assert_eq!(r.encoding, "GBK");
    let lines: Vec<String> = r.bad.iter().map(|b| b.to_string()).collect();
    assert_eq!(r.imported, 3, "{lines:?}");
    assert!(lines[0].starts_with("line 4: bad amount '三百'"), "{lines:?}");
    assert!(lines[1].starts_with("line 5: duplicate bill"), "{lines:?}");
    assert!(lines[2].starts_with("line 6: bad fee type '暖气费'"), "{lines:?}");
    assert_eq!(store.arrears("xfhy-3-2-1502").unwrap(), 32050);
    assert_eq!(store.arrears("xfhy-3-2-1503").unwrap(), 8800);
    let water = store.get::<Bill>("xfhy-3-2-1502/water/2026-10").unwrap().unwrap();
    assert_eq!(water.amount_fen, 4530);
    assert!(water.paid);
}

#[tokio::test]
async fn a_gbk_line_in_a_utf8_file_is_a_wrong_encoding_line() {
    let (_d, store, _c) = temp_store();
    base(&store).await;
    let mut f = "estate_id,item,months\nxfhy,防水,60\n".as_bytes().to_vec();
    f.extend_from_slice(&encoding_rs::GBK.encode("xfhy,电气管线,24\n").0);
    f.extend_from_slice("chy,门窗,12\n".as_bytes());
    let r = import_bytes(&store, ImportKind::Warranty, &f).await.unwrap();
    assert_eq!(r.encoding, "UTF-8");
    assert_eq!(r.imported, 2);
    assert_eq!(r.bad.len(), 1);
    assert_eq!(r.bad[0].line, 3);
    assert!(r.bad[0].reason.contains("wrong encoding"), "{:?}", r.bad);
}

#[tokio::test]
async fn missing_header_column_is_refused_whole() {
    let (_d, store, _c) = temp_store();
    let err = import_bytes(&store, ImportKind::Units, b"estate,building\nx,1\n").await.unwrap_err();
    assert!(err.to_string().contains("header lacks column(s) estate_id"), "{err}");
}
