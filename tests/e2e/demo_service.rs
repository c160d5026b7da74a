//! The demo as an operator starts it: it comes up, reports readiness, refuses numbers it does
//! not serve, and stops cleanly on SIGTERM.

use crate::support::{Runtime, http_get, scenario, sipp_uac};

#[test]
fn demo_starts_ready_refuses_unknown_numbers_and_stops_on_sigterm() {
    let rt = Runtime::start_demo();
    let (code, body) = http_get(rt.http, "/readyz", None).expect("readyz");
    assert_eq!(code, 200, "readyz: {body}\n{}", rt.log_text());

    // The API description lists the runtime's routes as well as the data API's.
    let (code, body) = http_get(rt.http, "/api/v1/openapi.json", None).expect("openapi");
    assert_eq!(code, 200, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).expect("openapi is JSON");
    for (method, path) in [("get", "/api/v1/cdrs"), ("get", "/api/v1/trunks"), ("post", "/api/v1/flows/{name}/activate"), ("get", "/api/v1/notifications")] {
        assert!(doc["paths"][path][method].is_object(), "openapi.json lacks {method} {path}");
    }
    // Overload refusals are counted from the start.
    let (_, metrics) = http_get(rt.http, "/metrics", None).expect("metrics");
    assert!(metrics.contains("courtyard_calls_refused_total{limit=\"media_load\"} 0"), "{metrics}");

    // A number with no route gets 404 from the real SIP stack, checked by a real SIPp caller.
    let run = sipp_uac(
        rt.sip,
        &scenario("e2e_not_found.xml"),
        &["-s", "4000000000", "-key", "caller", "13900000000"],
    );
    assert_eq!(run.code, 0, "SIPp expected 404 for an unrouted number:\n{}\n{}", run.output, rt.log_text());

    let code = rt.terminate();
    assert_eq!(code, Some(0), "courtyard should exit 0 after SIGTERM");
}
