//! Agents, queues, plugin data, CSV import, audit log, retention purge.

use super::Paging;
use crate::auth::{AuthUser, MANAGERS};
use crate::{ApiError, ApiResult, ApiState, audit, respond, run_purge};
use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use courtyard_store::import::{ImportKind, import_bytes};
use courtyard_store::model::{Agent, AuditEntry, Queue, Role};

pub(crate) async fn list_agents(State(st): State<ApiState>, Extension(u): Extension<AuthUser>) -> ApiResult<Response> {
    u.require(&[Role::Agent, Role::Supervisor], "read agents")?;
    Ok(respond(&u, &st.store.list::<Agent>(|_| true, 0, usize::MAX)?))
}

pub(crate) async fn put_agent(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(a): Json<Agent>) -> ApiResult<Response> {
    u.require(MANAGERS, "edit agents")?;
    if a.id.is_empty() || a.id.contains('/') {
        return Err(ApiError::bad_request("agent id must be non-empty without '/'"));
    }
    st.store.put(&a).await?;
    audit(&st, &u.username, "agent.put", &a.id, None).await;
    Ok(respond(&u, &a))
}

pub(crate) async fn delete_agent(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(&[], "delete agents")?;
    if !st.store.delete::<Agent>(&id).await? {
        return Err(ApiError::not_found(format!("agent {id}")));
    }
    audit(&st, &u.username, "agent.delete", &id, None).await;
    Ok(respond(&u, &serde_json::json!({ "deleted": id })))
}

pub(crate) async fn list_queues(State(st): State<ApiState>, Extension(u): Extension<AuthUser>) -> ApiResult<Response> {
    u.require(&[Role::Agent, Role::Supervisor], "read queues")?;
    Ok(respond(&u, &st.store.list::<Queue>(|_| true, 0, usize::MAX)?))
}

pub(crate) async fn put_queue(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(q): Json<Queue>) -> ApiResult<Response> {
    u.require(MANAGERS, "edit queues")?;
    if q.id.is_empty() || q.id.contains('/') {
        return Err(ApiError::bad_request("queue id must be non-empty without '/'"));
    }
    st.store.put(&q).await?;
    audit(&st, &u.username, "queue.put", &q.id, None).await;
    Ok(respond(&u, &q))
}

pub(crate) async fn delete_queue(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(&[], "delete queues")?;
    if !st.store.delete::<Queue>(&id).await? {
        return Err(ApiError::not_found(format!("queue {id}")));
    }
    audit(&st, &u.username, "queue.delete", &id, None).await;
    Ok(respond(&u, &serde_json::json!({ "deleted": id })))
}

/// Keys a plugin stored (for vendors debugging their plugin and for admins).
pub(crate) async fn plugin_kv(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(name): Path<String>) -> ApiResult<Response> {
    u.require(&[Role::PluginVendor], "read plugin data")?;
    let keys = st.store.kv_keys(&name)?;
    Ok(respond(&u, &serde_json::json!({ "plugin": name, "keys": keys })))
}

/// CSV import; the body is the file (UTF-8 or GBK). Returns the per-line report.
pub(crate) async fn import(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(kind): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    u.require(MANAGERS, "import data")?;
    let k: ImportKind = kind.parse()?;
    let rep = import_bytes(&st.store, k, &body).await?;
    audit(&st, &u.username, "import", &kind, Some(format!("{} of {} rows imported, {} bad", rep.imported, rep.rows, rep.bad.len()))).await;
    Ok(respond(&u, &rep))
}

pub(crate) async fn list_audit(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Query(p): Query<Paging>) -> ApiResult<Response> {
    u.require(MANAGERS, "read the audit log")?;
    Ok(respond(&u, &st.store.list_under::<AuditEntry>("", |_| true, p.offset, p.limit(), true)?))
}

pub(crate) async fn purge(State(st): State<ApiState>, Extension(u): Extension<AuthUser>) -> ApiResult<Response> {
    u.require(&[], "purge data")?;
    let rep = run_purge(&st).await?;
    audit(&st, &u.username, "retention.purge.manual", "store", None).await;
    Ok(respond(&u, &rep))
}
