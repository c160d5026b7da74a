//! The OpenAPI entries of the routes the runtime adds to the data API's router (calls, ACD,
//! flows, campaigns, traces…), so `/api/v1/openapi.json` describes every `/api/v1` route the
//! node serves, not only the data API's. A test checks each routed path here is documented.

use courtyard_api::RouteDoc;

/// Routes of `ops_api`, `acd_api`, `console_api`, `outbound::api`, `notifications_api` and `trace`.
pub const RUNTIME_ROUTES: &[RouteDoc] = &[
    ("get", "/api/v1/flows", "flows", "Flows with their installed versions, the active one and any rollout, and what each version is granted and links as traps", None, None, true),
    ("post", "/api/v1/flows/{name}/activate", "flows", "Make an installed version active for new calls; calls in progress finish on theirs (admin)", None, None, true),
    ("post", "/api/v1/flows/{name}/rollback", "flows", "Go back to the previously active version (admin)", None, None, true),
    ("post", "/api/v1/flows/{name}/rollout", "flows", "Send a share of new calls to a candidate version (admin)", None, None, true),
    ("delete", "/api/v1/flows/{name}/rollout", "flows", "End a rollout (admin)", None, None, true),
    ("delete", "/api/v1/flows/{name}/versions/{key}", "flows", "Uninstall a version that is neither active nor in use (admin)", None, None, true),
    ("post", "/api/v1/plugins/install", "flows", "Install a signed plugin package (body = package); refused with the reason when invalid (admin, plugin-vendor)", None, None, true),
    ("post", "/api/v1/plugins/inspect", "flows", "Check a plugin package without installing it: signature, capabilities, exports (admin, plugin-vendor)", None, None, true),
    ("get", "/api/v1/routes", "flows", "Called numbers and the flows they start", None, None, true),
    ("get", "/api/v1/acd/snapshot", "acd", "Queues and agents now: waiting calls, longest wait, agent states", None, None, true),
    ("get", "/api/v1/acd/kpis", "acd", "Queue figures for a day: offered, answered, abandoned, service level, ASA", None, None, true),
    ("get", "/api/v1/acd/missed", "acd", "Calls abandoned in a queue, for calling back", None, None, true),
    ("post", "/api/v1/acd/agents/{id}/state", "acd", "Log in/out, ready, not ready with a reason (an agent for themself; supervisor for others)", None, None, true),
    ("get", "/api/v1/acd/agents/{id}/kpis", "acd", "An agent's figures (supervisor for other agents)", None, None, true),
    ("post", "/api/v1/acd/calls/{id}/wrap-up", "acd", "Wrap-up code and note of a call (the call's agent; supervisor for others)", None, None, true),
    ("get", "/api/v1/wrapup-codes", "acd", "Configured wrap-up codes", None, None, true),
    ("post", "/api/v1/acd/missed/{call_id}/call-back", "acd", "Call a missed caller back through an agent (staff)", None, None, true),
    ("post", "/api/v1/supervise", "calls", "Listen to, whisper to or barge into a call (supervisor)", None, None, true),
    ("post", "/api/v1/calls/{id}/transfer", "calls", "Blind or attended transfer of a call (staff)", None, None, true),
    ("post", "/api/v1/calls/{id}/transfer/{step}", "calls", "Complete or cancel an attended transfer (staff)", None, None, true),
    ("post", "/api/v1/calls/originate", "calls", "Place an outbound call through a trunk into a flow or to an agent (staff)", None, None, true),
    ("get", "/api/v1/trunks", "outbound", "SIP trunks with their registration and reachability", None, None, true),
    ("get", "/api/v1/campaigns", "outbound", "Outbound campaigns (arrears reminders, satisfaction callbacks)", None, None, true),
    ("post", "/api/v1/campaigns", "outbound", "Create a campaign with its targets, calling window and pacing (managers)", None, None, true),
    ("get", "/api/v1/campaigns/{id}", "outbound", "A campaign's progress", None, None, true),
    ("get", "/api/v1/campaigns/{id}/targets", "outbound", "A campaign's targets and their outcomes (managers)", None, None, true),
    ("post", "/api/v1/campaigns/{id}/{action}", "outbound", "Pause, resume or cancel a campaign (managers)", None, None, true),
    ("get", "/api/v1/notifications", "orders", "Notifications sent about work orders (order, recipient), newest first (staff)", None, None, true),
    ("get", "/api/v1/sla/overdue", "orders", "Work orders past their SLA, for escalation", None, None, true),
    ("post", "/api/v1/recordings/{id}/qa", "calls", "Quality score of a recorded call (supervisor)", None, None, true),
    ("get", "/api/v1/qa/scores", "calls", "Quality scores (agents see their own)", None, None, true),
    ("post", "/api/v1/trace", "ops", "Start an on-demand SIP trace (admin)", None, None, true),
    ("get", "/api/v1/trace", "ops", "SIP traces taken (admin)", None, None, true),
];

#[cfg(test)]
mod tests {
    use super::RUNTIME_ROUTES;

    #[test]
    fn every_api_route_the_runtime_adds_is_documented() {
        let sources = [
            include_str!("ops_api.rs"),
            include_str!("acd_api.rs"),
            include_str!("console_api.rs"),
            include_str!("outbound/api.rs"),
            include_str!("notifications_api.rs"),
            include_str!("trace.rs"),
        ];
        let mut routed = 0;
        for line in sources.iter().flat_map(|s| s.lines()).filter(|l| l.trim_start().starts_with(".route(\"/api/")) {
            let path = line.split('"').nth(1).unwrap_or_default();
            let handlers = line.split_once(',').map(|(_, h)| h).unwrap_or_default();
            for m in ["get", "post", "put", "delete"] {
                let routed_here = handlers.trim_start().starts_with(&format!("{m}("))
                    || handlers.contains(&format!(".{m}("))
                    || handlers.contains(&format!("::{m}("));
                if routed_here {
                    routed += 1;
                    assert!(RUNTIME_ROUTES.iter().any(|r| r.0 == m && r.1 == path), "{m} {path} is routed but not in RUNTIME_ROUTES");
                }
            }
        }
        assert_eq!(routed, RUNTIME_ROUTES.len(), "every documented route is routed, once");
        // And none of them repeats a data-API route.
        let doc = courtyard_api::openapi_document_with(RUNTIME_ROUTES);
        let json = serde_json::to_value(&doc).unwrap();
        let paths = json["paths"].as_object().unwrap();
        for (m, p, ..) in RUNTIME_ROUTES {
            assert!(paths[*p].get(*m).is_some(), "{m} {p} missing from the document");
        }
    }
}
