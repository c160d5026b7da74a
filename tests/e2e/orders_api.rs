//! Work-order transitions asked for over the HTTP API run through the runtime's workflow, not just
//! the store: dispatch picks the head of the estate's responsibility chain and notifies them,
//! 二次指派 hands the order to a named chain member, finishing the work books the 回访 (callback)
//! task, and an illegal step is refused with the reason.

use crate::support::{Runtime, api_json, http_request};

fn post(rt: &Runtime, token: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let (code, text) = http_request(rt.http, "POST", path, Some(token), Some(body)).expect("http");
    (code, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
}

#[test]
fn api_transitions_dispatch_by_the_responsibility_table_notify_and_book_the_callback() {
    let rt = Runtime::start_demo_with(&["--hours", "24x7"]);
    let token = rt.admin_token();

    let new = r#"{"category":"repair","estate_id":"xfhy","unit_id":"xfhy-3-2-1502","caller":"13800138000",
                  "description":"厨房水管漏水","priority":"normal"}"#;
    let (code, order) = post(&rt, &token, "/api/v1/orders", new);
    assert_eq!(code, 201, "{order}");
    let id = order["id"].as_str().expect("order id").to_string();
    let chain = ["李经理", "王班长", "赵师傅"];

    // Dispatch without naming anyone: the chain decides (the auto-dispatcher may have been first,
    // in which case this hands it one step down — either way a chain member has it).
    let (code, o) = post(&rt, &token, &format!("/api/v1/orders/{id}/transition"), r#"{"to":"dispatched"}"#);
    assert_eq!(code, 200, "{o}");
    assert_eq!(o["state"], "dispatched");
    assert!(chain.contains(&o["assignee"].as_str().unwrap_or("")), "assignee {} not in the chain", o["assignee"]);

    // 二次指派 to a named member; someone outside the chain is refused with the chain listed.
    let (code, o) = post(&rt, &token, &format!("/api/v1/orders/{id}/transition"), r#"{"to":"dispatched","assignee":"赵师傅"}"#);
    assert_eq!((code, o["assignee"].as_str()), (200, Some("赵师傅")), "{o}");
    let (code, e) = post(&rt, &token, &format!("/api/v1/orders/{id}/transition"), r#"{"to":"dispatched","assignee":"路人甲"}"#);
    assert_eq!(code, 422, "{e}");

    for to in ["accepted", "in-progress", "done"] {
        let (code, o) = post(&rt, &token, &format!("/api/v1/orders/{id}/transition"), &format!(r#"{{"to":"{to}"}}"#));
        assert_eq!((code, o["state"].as_str()), (200, Some(to)), "{o}");
    }
    // An illegal step: 409 with the reason, nothing changes.
    let (code, e) = post(&rt, &token, &format!("/api/v1/orders/{id}/transition"), r#"{"to":"accepted"}"#);
    assert_eq!(code, 409, "{e}");
    assert!(e.to_string().contains("illegal transition"), "{e}");

    // Done books the 100 % 回访 task for the order.
    let callbacks = api_json(&rt, &token, "/api/v1/callbacks");
    let items = callbacks.get("items").and_then(|v| v.as_array()).or_else(|| callbacks.as_array()).cloned().unwrap_or_default();
    assert!(
        items.iter().any(|c| c["order_id"] == id.as_str() && c["number"] == "13800138000"),
        "no callback task for {id}: {callbacks}"
    );

    // The assignees were told: SMS notifications to 赵师傅's phone name the order, listed by
    // GET /api/v1/notifications filtered by order and recipient (any phone spelling), newest first.
    let list = api_json(&rt, &token, &format!("/api/v1/notifications?order_id={id}&to=139-0000-1003&limit=20"));
    let sms: Vec<&serde_json::Value> =
        list["items"].as_array().map(|a| a.iter().filter(|n| n["channel"] == "sms").collect()).unwrap_or_default();
    assert!(!sms.is_empty() && sms.iter().all(|n| n["to"] == "13900001003" && n["order_id"] == id.as_str()), "{list}");
    assert!(sms.iter().any(|n| n["text"].as_str().is_some_and(|t| t.contains(&id))), "no dispatch SMS to 赵师傅 for {id}: {list}");
    let all = api_json(&rt, &token, &format!("/api/v1/notifications?order_id={id}"));
    // RFC 3339 in one offset: the text up to the seconds sorts like the time.
    let times: Vec<&str> =
        all["items"].as_array().map(|a| a.iter().filter_map(|n| n["created_at"].as_str()?.get(..19)).collect()).unwrap_or_default();
    assert!(times.len() >= 2 && times.windows(2).all(|w| w[0] >= w[1]), "newest first: {all}");
    assert_eq!(api_json(&rt, &token, "/api/v1/notifications?order_id=no-such-order")["total"], 0);
}
