//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, built with utoipa's builders from
//! one route table (kept next to the router; a test checks every routed path is documented).

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, Required, ResponseBuilder};

/// One documented route: (method, path, tag, summary, request schema, response schema, needs
/// auth). Schemas are names of the document's components; routes whose bodies are not modelled
/// there leave them `None`.
pub type RouteDoc = (&'static str, &'static str, &'static str, &'static str, Option<&'static str>, Option<&'static str>, bool);
type Doc = RouteDoc;

/// Every route of the API.
pub(crate) const ROUTES: &[Doc] = &[
    ("get", "/healthz", "ops", "Liveness: 200 once the process serves HTTP", None, None, false),
    ("get", "/readyz", "ops", "Readiness: store readable and runtime ready", None, None, false),
    ("get", "/metrics", "ops", "Prometheus metrics (provided by the runtime; 503 when not wired)", None, None, false),
    ("get", "/api/v1/openapi.json", "ops", "This document", None, None, false),
    ("post", "/api/v1/auth/login", "auth", "Log in; returns a bearer token and sets the session cookie", Some("LoginRequest"), Some("LoginResponse"), false),
    ("post", "/api/v1/auth/logout", "auth", "Revoke the current token", None, None, true),
    ("get", "/api/v1/auth/me", "auth", "Current user and whether numbers are masked", None, Some("Me"), true),
    ("get", "/api/v1/users", "auth", "List users (admin)", None, None, true),
    ("post", "/api/v1/users", "auth", "Create or replace a user (admin)", Some("UserRequest"), Some("UserView"), true),
    ("delete", "/api/v1/users/{username}", "auth", "Delete a user (admin)", None, None, true),
    ("get", "/api/v1/estates", "directory", "List estates (offset, limit)", None, None, true),
    ("post", "/api/v1/estates", "directory", "Create or replace an estate (supervisor)", Some("Estate"), Some("Estate"), true),
    ("get", "/api/v1/estates/{id}", "directory", "One estate", None, Some("Estate"), true),
    ("delete", "/api/v1/estates/{id}", "directory", "Delete an estate (admin)", None, None, true),
    ("get", "/api/v1/units", "directory", "Units by estate/building/entrance (or exact room), paginated", None, None, true),
    ("post", "/api/v1/units", "directory", "Create or replace a unit (supervisor)", Some("Unit"), Some("Unit"), true),
    ("get", "/api/v1/units/{id}", "directory", "Unit with residents, arrears, warranty, open orders", None, None, true),
    ("get", "/api/v1/units/{id}/bills", "billing", "Bills of a unit (unpaid=true for arrears only)", None, None, true),
    ("get", "/api/v1/units/{id}/warranty", "billing", "Warranty items with computed end dates", None, None, true),
    ("post", "/api/v1/bills/paid", "billing", "Mark a bill paid/unpaid (supervisor)", Some("BillPaid"), Some("Bill"), true),
    ("get", "/api/v1/residents", "directory", "Search residents (q = name or phone, estate, unit), paginated", None, None, true),
    ("post", "/api/v1/residents", "directory", "Create or replace a resident (quick registration)", Some("Resident"), Some("Resident"), true),
    ("get", "/api/v1/residents/{id}", "directory", "One resident", None, Some("Resident"), true),
    ("delete", "/api/v1/residents/{id}", "directory", "Delete a resident (supervisor)", None, None, true),
    ("get", "/api/v1/callers/{number}", "directory", "Screen-pop: residents, units, arrears, open orders, last calls", None, Some("CallerView"), true),
    ("post", "/api/v1/unmask", "directory", "Full phone numbers of one record (audited)", Some("UnmaskRequest"), None, true),
    ("get", "/api/v1/orders", "orders", "List work orders (state, unit, caller, category, estate, open), newest first", None, None, true),
    ("post", "/api/v1/orders", "orders", "Create a work order", Some("NewOrder"), Some("WorkOrder"), true),
    ("get", "/api/v1/orders/{id}", "orders", "Work order with its full history", None, None, true),
    ("post", "/api/v1/orders/{id}/transition", "orders", "Change state; illegal transitions answer 409 with the reason", Some("TransitionRequest"), Some("WorkOrder"), true),
    ("post", "/api/v1/orders/{id}/reopen", "orders", "Reopen a finished order as a child order", Some("ReopenRequest"), Some("WorkOrder"), true),
    ("post", "/api/v1/orders/{id}/rate", "orders", "Satisfaction score 1-5; a low score opens a child order", Some("RateRequest"), None, true),
    ("get", "/api/v1/callbacks", "orders", "Callback tasks (open=true for pending), by due time", None, None, true),
    ("post", "/api/v1/callbacks", "orders", "Create a callback task", Some("NewCallback"), Some("CallbackTask"), true),
    ("post", "/api/v1/callbacks/{id}/done", "orders", "Complete a callback task", Some("CallbackDone"), Some("CallbackTask"), true),
    ("get", "/api/v1/cdrs", "calls", "Call detail records (from, to, caller, agent, queue, flow), newest first", None, None, true),
    ("get", "/api/v1/cdrs/{id}", "calls", "One call detail record", None, Some("Cdr"), true),
    ("get", "/api/v1/recordings/{id}", "calls", "Recording metadata", None, Some("Recording"), true),
    ("get", "/api/v1/recordings/{id}/audio", "calls", "Recording audio; supports HTTP Range (206)", None, None, true),
    ("get", "/api/v1/calls/live", "calls", "Calls in progress (runtime hook; 503 when not wired)", None, None, true),
    ("post", "/api/v1/calls/{id}/recording/{action}", "calls", "Pause or resume a call's recording (runtime hook)", None, None, true),
    ("get", "/api/v1/kb", "content", "Knowledge base: ranked search (q) or by topic", None, None, true),
    ("post", "/api/v1/kb", "content", "Create or replace an article (supervisor)", Some("KbArticle"), Some("KbArticle"), true),
    ("get", "/api/v1/kb/{id}", "content", "One article", None, Some("KbArticle"), true),
    ("delete", "/api/v1/kb/{id}", "content", "Delete an article (supervisor)", None, None, true),
    ("get", "/api/v1/announcements", "content", "Announcements (estate, date)", None, None, true),
    ("post", "/api/v1/announcements", "content", "Create or replace an announcement (supervisor)", Some("Announcement"), Some("Announcement"), true),
    ("delete", "/api/v1/announcements/{id}", "content", "Delete an announcement (supervisor)", None, None, true),
    ("get", "/api/v1/calendars/{name}", "content", "Working-hours calendar with open-now and next-open", None, None, true),
    ("put", "/api/v1/calendars/{name}", "content", "Replace a calendar (supervisor)", Some("Calendar"), Some("Calendar"), true),
    ("get", "/api/v1/lists/{kind}", "content", "Blacklist or whitelist entries (supervisor)", None, None, true),
    ("post", "/api/v1/lists/{kind}", "content", "Add a number to a list (supervisor)", Some("NewListEntry"), Some("ListEntry"), true),
    ("delete", "/api/v1/lists/{kind}/{number}", "content", "Remove a number from a list (supervisor)", None, None, true),
    ("get", "/api/v1/agents", "admin", "Agents", None, None, true),
    ("post", "/api/v1/agents", "admin", "Create or replace an agent (supervisor)", Some("Agent"), Some("Agent"), true),
    ("delete", "/api/v1/agents/{id}", "admin", "Delete an agent (admin)", None, None, true),
    ("get", "/api/v1/queues", "admin", "ACD queues", None, None, true),
    ("post", "/api/v1/queues", "admin", "Create or replace a queue (supervisor)", Some("Queue"), Some("Queue"), true),
    ("delete", "/api/v1/queues/{id}", "admin", "Delete a queue (admin)", None, None, true),
    ("get", "/api/v1/plugins/{name}/kv", "admin", "Keys stored by a plugin (plugin-vendor, admin)", None, None, true),
    ("post", "/api/v1/import/{kind}", "admin", "CSV import (body = file, UTF-8 or GBK); returns the per-line report", None, Some("ImportReport"), true),
    ("get", "/api/v1/audit", "admin", "Audit log, newest first (supervisor)", None, None, true),
    ("post", "/api/v1/admin/purge", "admin", "Run the retention purge now (admin)", None, Some("PurgeReport"), true),
];

fn json_ref(name: &str) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(Ref::from_schema_name(name))).build()
}

/// Build the OpenAPI document of this crate's routes.
pub fn openapi_document() -> OpenApi {
    openapi_document_with(&[])
}

/// Build the OpenAPI document of this crate's routes and `extra` (the routes a runtime adds to
/// the router: calls, flows, campaigns…), so `/api/v1/openapi.json` lists everything served.
pub fn openapi_document_with(extra: &[RouteDoc]) -> OpenApi {
    use courtyard_store::model as m;
    let mut paths = PathsBuilder::new();
    for &(method, path, tag, summary, req, resp, auth) in ROUTES.iter().chain(extra) {
        let mut op = OperationBuilder::new().tag(tag).summary(Some(summary)).operation_id(Some(format!("{method} {path}")));
        for seg in path.split('/').filter(|s| s.starts_with('{')) {
            let name = seg.trim_matches(|c| c == '{' || c == '}');
            op = op.parameter(ParameterBuilder::new().name(name).parameter_in(ParameterIn::Path).required(Required::True));
        }
        if let Some(r) = req {
            op = op.request_body(Some(RequestBodyBuilder::new().content("application/json", json_ref(r)).required(Some(Required::True)).build()));
        }
        let mut ok = ResponseBuilder::new().description("success");
        if let Some(r) = resp {
            ok = ok.content("application/json", json_ref(r));
        }
        op = op.response("200", ok.build()).response("400", ResponseBuilder::new().description("invalid request; `error` says why").build());
        if auth {
            op = op
                .securities(Some([SecurityRequirement::new("bearer", Vec::<String>::new())]))
                .response("401", ResponseBuilder::new().description("login required").build())
                .response("403", ResponseBuilder::new().description("role not allowed").build());
        }
        let m = match method {
            "get" => HttpMethod::Get,
            "post" => HttpMethod::Post,
            "put" => HttpMethod::Put,
            _ => HttpMethod::Delete,
        };
        paths = paths.path(path, PathItem::new(m, op.build()));
    }
    let components = ComponentsBuilder::new()
        .security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()))
        .schema_from::<m::Estate>()
        .schema_from::<m::Unit>()
        .schema_from::<m::Resident>()
        .schema_from::<m::ResidentRole>()
        .schema_from::<m::Bill>()
        .schema_from::<m::FeeType>()
        .schema_from::<m::WarrantyItem>()
        .schema_from::<m::NewOrder>()
        .schema_from::<m::WorkOrder>()
        .schema_from::<m::Transition>()
        .schema_from::<m::Category>()
        .schema_from::<m::Priority>()
        .schema_from::<m::OrderState>()
        .schema_from::<m::CallbackTask>()
        .schema_from::<m::Cdr>()
        .schema_from::<m::HangupSide>()
        .schema_from::<m::Recording>()
        .schema_from::<m::KbArticle>()
        .schema_from::<m::Announcement>()
        .schema_from::<m::Calendar>()
        .schema_from::<m::OpenInterval>()
        .schema_from::<m::ListEntry>()
        .schema_from::<m::ListKind>()
        .schema_from::<m::Agent>()
        .schema_from::<m::Queue>()
        .schema_from::<m::Role>()
        .schema_from::<m::AuditEntry>()
        .schema_from::<courtyard_store::CallerView>()
        .schema_from::<courtyard_store::PurgeReport>()
        .schema_from::<courtyard_store::import::ImportReport>()
        .schema_from::<courtyard_store::import::ImportKind>()
        .schema_from::<courtyard_store::import::BadLine>()
        .schema_from::<courtyard_store::kb::KbHit>()
        .schema_from::<crate::auth::LoginRequest>()
        .schema_from::<crate::auth::LoginResponse>()
        .schema_from::<crate::auth::Me>()
        .schema_from::<crate::auth::UserRequest>()
        .schema_from::<crate::auth::UserView>()
        .schema_from::<crate::routes::BillPaid>()
        .schema_from::<crate::routes::UnmaskRequest>()
        .schema_from::<crate::routes::TransitionRequest>()
        .schema_from::<crate::routes::ReopenRequest>()
        .schema_from::<crate::routes::RateRequest>()
        .schema_from::<crate::routes::NewCallback>()
        .schema_from::<crate::routes::CallbackDone>()
        .schema_from::<crate::routes::NewListEntry>()
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Courtyard API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Property-management call center: directory, billing, work orders, calls, content. Amounts in fen; phone numbers masked for agent and plugin-vendor roles."))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_routed_path_is_documented_once_per_method() {
        let src = include_str!("routes/mod.rs");
        let mut routed = 0;
        for line in src.lines().filter(|l| l.trim_start().starts_with(".route(\"")) {
            let path = line.split('"').nth(1).unwrap_or_default();
            for m in ["get", "post", "put", "delete"] {
                if line.contains(&format!("{m}(")) && !line.contains(&format!("{m}(|")) || line.contains(&format!(".{m}(")) {
                    routed += 1;
                    assert!(
                        super::ROUTES.iter().any(|r| r.0 == m && r.1 == path),
                        "{m} {path} is routed but not documented"
                    );
                }
            }
        }
        assert!(routed >= 50, "found only {routed} routed operations");
    }
}
