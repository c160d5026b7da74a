//! Knowledge base, announcements, working-hours calendars, black/white lists.

use crate::auth::{AuthUser, MANAGERS};
use crate::{ApiError, ApiResult, ApiState, audit, respond};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use courtyard_store::model::{Announcement, Calendar, KbArticle, ListEntry, ListKind, Role, normalize_phone};
use serde::Deserialize;

const ALL: &[Role] = &[Role::Agent, Role::Supervisor, Role::PluginVendor];

#[derive(Deserialize)]
pub(crate) struct KbQuery {
    q: Option<String>,
    topic: Option<String>,
    #[serde(default = "ten")]
    limit: usize,
}

fn ten() -> usize {
    10
}

/// Ranked search (`q`), lookup by topic, or the whole list.
pub(crate) async fn search_kb(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Query(q): Query<KbQuery>) -> ApiResult<Response> {
    u.require(ALL, "read the knowledge base")?;
    if let Some(query) = &q.q {
        return Ok(respond(&u, &st.store.kb_search(query, q.limit.clamp(1, 100))?));
    }
    let page = st.store.list::<KbArticle>(|a| q.topic.as_ref().is_none_or(|t| &a.topic == t), 0, q.limit.clamp(1, 1000))?;
    Ok(respond(&u, &page))
}

pub(crate) async fn get_kb(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(ALL, "read the knowledge base")?;
    let a = st.store.get::<KbArticle>(&id)?.ok_or_else(|| ApiError::not_found(format!("article {id}")))?;
    Ok(respond(&u, &a))
}

pub(crate) async fn put_kb(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(a): Json<KbArticle>) -> ApiResult<Response> {
    u.require(MANAGERS, "edit the knowledge base")?;
    if a.id.is_empty() || a.id.contains('/') {
        return Err(ApiError::bad_request("article id must be non-empty without '/'"));
    }
    st.store.put(&a).await?;
    audit(&st, &u.username, "kb.put", &a.id, None).await;
    Ok(respond(&u, &a))
}

pub(crate) async fn delete_kb(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(MANAGERS, "edit the knowledge base")?;
    if !st.store.delete::<KbArticle>(&id).await? {
        return Err(ApiError::not_found(format!("article {id}")));
    }
    audit(&st, &u.username, "kb.delete", &id, None).await;
    Ok(respond(&u, &serde_json::json!({ "deleted": id })))
}

#[derive(Deserialize)]
pub(crate) struct AnnQuery {
    estate: Option<String>,
    /// Only those valid on this date (YYYY-MM-DD); all when absent.
    date: Option<NaiveDate>,
}

pub(crate) async fn list_announcements(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Query(q): Query<AnnQuery>) -> ApiResult<Response> {
    u.require(ALL, "read announcements")?;
    let v = match q.date {
        Some(d) => st.store.announcements_for(q.estate.as_deref(), d)?,
        None => st.store.list::<Announcement>(|a| q.estate.is_none() || a.estate_id == q.estate, 0, usize::MAX)?.items,
    };
    Ok(respond(&u, &v))
}

pub(crate) async fn put_announcement(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(a): Json<Announcement>) -> ApiResult<Response> {
    u.require(MANAGERS, "edit announcements")?;
    if a.end < a.start || a.id.is_empty() || a.id.contains('/') {
        return Err(ApiError::bad_request("id must be non-empty without '/', end must not be before start"));
    }
    st.store.put(&a).await?;
    audit(&st, &u.username, "announcement.put", &a.id, None).await;
    Ok(respond(&u, &a))
}

pub(crate) async fn delete_announcement(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(MANAGERS, "edit announcements")?;
    if !st.store.delete::<Announcement>(&id).await? {
        return Err(ApiError::not_found(format!("announcement {id}")));
    }
    audit(&st, &u.username, "announcement.delete", &id, None).await;
    Ok(respond(&u, &serde_json::json!({ "deleted": id })))
}

pub(crate) async fn get_calendar(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(name): Path<String>) -> ApiResult<Response> {
    u.require(ALL, "read calendars")?;
    let now = st.store.now();
    let c = st.store.calendar(&name)?;
    Ok(respond(&u, &serde_json::json!({ "calendar": c, "open_now": c.is_open(now), "next_open": c.next_open(now) })))
}

pub(crate) async fn put_calendar(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(name): Path<String>,
    Json(mut c): Json<Calendar>,
) -> ApiResult<Response> {
    u.require(MANAGERS, "edit calendars")?;
    if c.weekly.len() != 7 {
        return Err(ApiError::bad_request("weekly must have 7 entries, Monday to Sunday"));
    }
    c.name = name;
    st.store.put(&c).await?;
    audit(&st, &u.username, "calendar.put", &c.name, None).await;
    Ok(respond(&u, &c))
}

fn kind(s: &str) -> ApiResult<ListKind> {
    match s {
        "blacklist" => Ok(ListKind::Blacklist),
        "whitelist" => Ok(ListKind::Whitelist),
        other => Err(ApiError::bad_request(format!("unknown list '{other}' (blacklist, whitelist)"))),
    }
}

pub(crate) async fn list_numbers(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(k): Path<String>) -> ApiResult<Response> {
    u.require(MANAGERS, "read number lists")?;
    let k = kind(&k)?;
    Ok(respond(&u, &st.store.list::<ListEntry>(|e| e.kind == k, 0, usize::MAX)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct NewListEntry {
    number: String,
    #[serde(default)]
    reason: Option<String>,
}

pub(crate) async fn add_number(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(k): Path<String>,
    Json(n): Json<NewListEntry>,
) -> ApiResult<Response> {
    u.require(MANAGERS, "edit number lists")?;
    let number = normalize_phone(&n.number);
    if number.is_empty() {
        return Err(ApiError::bad_request(format!("number '{}' has no digits", n.number)));
    }
    let e = ListEntry { kind: kind(&k)?, number, reason: n.reason, created_at: st.store.now() };
    st.store.put(&e).await?;
    audit(&st, &u.username, "list.add", &format!("{k}/{}", e.number), e.reason.clone()).await;
    Ok(respond(&u, &e))
}

pub(crate) async fn remove_number(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path((k, number)): Path<(String, String)>,
) -> ApiResult<Response> {
    u.require(MANAGERS, "edit number lists")?;
    let key = match kind(&k)? {
        ListKind::Blacklist => format!("black/{}", normalize_phone(&number)),
        ListKind::Whitelist => format!("white/{}", normalize_phone(&number)),
    };
    if !st.store.delete::<ListEntry>(&key).await? {
        return Err(ApiError::not_found(format!("{k} entry {number}")));
    }
    audit(&st, &u.username, "list.remove", &key, None).await;
    Ok(respond(&u, &serde_json::json!({ "deleted": number })))
}
