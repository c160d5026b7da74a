//! Estates, units, residents, bills, warranty, screen-pop lookup and the logged unmask.

use super::Paging;
use crate::auth::{AuthUser, MANAGERS, STAFF};
use crate::{ApiError, ApiResult, ApiState, audit, respond};
use axum::Extension;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use courtyard_store::model::{Bill, Cdr, CallbackTask, Estate, Resident, Role, Unit, WorkOrder, normalize_phone};
use serde::Deserialize;

fn readers() -> &'static [Role] {
    &[Role::Agent, Role::Supervisor]
}

pub(crate) async fn list_estates(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Query(p): Query<Paging>) -> ApiResult<Response> {
    u.require(readers(), "read estates")?;
    Ok(respond(&u, &st.store.list::<Estate>(|_| true, p.offset, p.limit())?))
}

pub(crate) async fn get_estate(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(readers(), "read estates")?;
    let e = st.store.get::<Estate>(&id)?.ok_or_else(|| ApiError::not_found(format!("estate {id}")))?;
    Ok(respond(&u, &e))
}

pub(crate) async fn put_estate(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(e): Json<Estate>) -> ApiResult<Response> {
    u.require(MANAGERS, "edit estates")?;
    if e.id.is_empty() || e.id.contains(['/', '-']) {
        return Err(ApiError::bad_request("estate id must be non-empty without '/' or '-'"));
    }
    st.store.put(&e).await?;
    audit(&st, &u.username, "estate.put", &e.id, None).await;
    Ok(respond(&u, &e))
}

pub(crate) async fn delete_estate(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(&[], "delete estates")?;
    if !st.store.delete::<Estate>(&id).await? {
        return Err(ApiError::not_found(format!("estate {id}")));
    }
    audit(&st, &u.username, "estate.delete", &id, None).await;
    Ok(respond(&u, &serde_json::json!({ "deleted": id })))
}

#[derive(Deserialize)]
pub(crate) struct UnitQuery {
    estate: Option<String>,
    building: Option<String>,
    entrance: Option<String>,
    room: Option<String>,
    #[serde(default)]
    offset: usize,
    #[serde(default = "super::default_limit")]
    limit: usize,
}

pub(crate) async fn list_units(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Query(q): Query<UnitQuery>) -> ApiResult<Response> {
    u.require(readers(), "read units")?;
    if let (Some(b), Some(en), Some(r)) = (&q.building, &q.entrance, &q.room) {
        let found = st.store.find_unit(q.estate.as_deref(), b, en, r)?;
        let total = usize::from(found.is_some());
        return Ok(respond(&u, &courtyard_store::model::Page { items: found.into_iter().collect(), total }));
    }
    let page = match &q.estate {
        Some(e) => st.store.units_of(e, q.building.as_deref(), q.entrance.as_deref(), q.offset, q.limit.clamp(1, 500))?,
        None => st.store.list::<Unit>(|_| true, q.offset, q.limit.clamp(1, 500))?,
    };
    Ok(respond(&u, &page))
}

pub(crate) async fn get_unit(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(readers(), "read units")?;
    let unit = st.store.get::<Unit>(&id)?.ok_or_else(|| ApiError::not_found(format!("unit {id}")))?;
    let body = serde_json::json!({
        "unit": unit,
        "residents": st.store.residents_of_unit(&id)?,
        "arrears_fen": st.store.arrears(&id)?,
        "warranty": st.store.warranty(&id)?,
        "open_orders": st.store.orders_for_unit(&id, true)?,
    });
    Ok(respond(&u, &body))
}

pub(crate) async fn put_unit(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(mut unit): Json<Unit>) -> ApiResult<Response> {
    u.require(MANAGERS, "edit units")?;
    unit.id = Unit::make_id(&unit.estate_id, &unit.building, &unit.entrance, &unit.room);
    if st.store.get::<Estate>(&unit.estate_id)?.is_none() {
        return Err(ApiError::bad_request(format!("unknown estate '{}'", unit.estate_id)));
    }
    st.store.upsert_unit(&unit).await?;
    audit(&st, &u.username, "unit.put", &unit.id, None).await;
    Ok(respond(&u, &unit))
}

#[derive(Deserialize)]
pub(crate) struct BillQuery {
    #[serde(default)]
    unpaid: bool,
}

pub(crate) async fn unit_bills(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(id): Path<String>,
    Query(q): Query<BillQuery>,
) -> ApiResult<Response> {
    u.require(readers(), "read bills")?;
    let bills = st.store.bills(&id, q.unpaid)?;
    let arrears: i64 = bills.iter().filter(|b| !b.paid).map(|b| b.amount_fen).sum();
    Ok(respond(&u, &serde_json::json!({ "unit_id": id, "arrears_fen": arrears, "bills": bills })))
}

pub(crate) async fn unit_warranty(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(readers(), "read warranty")?;
    Ok(respond(&u, &st.store.warranty(&id)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct BillPaid {
    /// Bill id `{unit}/{fee}/{period}`.
    id: String,
    paid: bool,
}

pub(crate) async fn set_bill_paid(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(b): Json<BillPaid>) -> ApiResult<Response> {
    u.require(MANAGERS, "change bills")?;
    let bill: Bill = st.store.set_bill_paid(&b.id, b.paid).await?;
    audit(&st, &u.username, "bill.paid", &b.id, Some(format!("paid={}", b.paid))).await;
    Ok(respond(&u, &bill))
}

#[derive(Deserialize)]
pub(crate) struct ResidentQuery {
    /// Substring of the name, or a phone number.
    q: Option<String>,
    estate: Option<String>,
    unit: Option<String>,
    #[serde(default)]
    offset: usize,
    #[serde(default = "super::default_limit")]
    limit: usize,
}

pub(crate) async fn list_residents(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Query(q): Query<ResidentQuery>) -> ApiResult<Response> {
    u.require(readers(), "read residents")?;
    let phone = q.q.as_deref().map(normalize_phone).filter(|p| p.len() >= 7);
    let estate_prefix = q.estate.as_ref().map(|e| format!("{e}-"));
    let page = st.store.list::<Resident>(
        |r| {
            q.q.as_ref().is_none_or(|s| r.name.contains(s.as_str()) || phone.as_ref().is_some_and(|p| r.phones.iter().any(|x| x.contains(p.as_str()))))
                && estate_prefix.as_ref().is_none_or(|e| r.unit_ids.iter().any(|x| x.starts_with(e.as_str())))
                && q.unit.as_ref().is_none_or(|un| r.unit_ids.contains(un))
        },
        q.offset,
        q.limit.clamp(1, 500),
    )?;
    Ok(respond(&u, &page))
}

pub(crate) async fn get_resident(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(readers(), "read residents")?;
    let r = st.store.get::<Resident>(&id)?.ok_or_else(|| ApiError::not_found(format!("resident {id}")))?;
    Ok(respond(&u, &r))
}

pub(crate) async fn put_resident(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(r): Json<Resident>) -> ApiResult<Response> {
    // Agents may register new callers from the desktop (quick registration form).
    u.require(STAFF, "edit residents")?;
    for p in &r.phones {
        if !courtyard_store::model::is_valid_phone(&normalize_phone(p)) {
            return Err(ApiError::bad_request(format!("bad phone '{p}'")));
        }
    }
    for un in &r.unit_ids {
        if st.store.get::<Unit>(un)?.is_none() {
            return Err(ApiError::bad_request(format!("unknown unit '{un}'")));
        }
    }
    st.store.upsert_resident(&r).await?;
    audit(&st, &u.username, "resident.put", &r.id, None).await;
    let saved = st.store.get::<Resident>(&r.id)?;
    Ok(respond(&u, &saved))
}

pub(crate) async fn delete_resident(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Path(id): Path<String>) -> ApiResult<Response> {
    u.require(MANAGERS, "delete residents")?;
    if !st.store.delete_resident(&id).await? {
        return Err(ApiError::not_found(format!("resident {id}")));
    }
    audit(&st, &u.username, "resident.delete", &id, None).await;
    Ok(respond(&u, &serde_json::json!({ "deleted": id })))
}

#[derive(Deserialize)]
pub(crate) struct CallerQuery {
    #[serde(default = "five")]
    last_calls: usize,
}

fn five() -> usize {
    5
}

/// Screen-pop: residents, units, arrears, open orders and last calls of a number.
pub(crate) async fn caller(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Path(number): Path<String>,
    Query(q): Query<CallerQuery>,
) -> ApiResult<Response> {
    u.require(readers(), "look up callers")?;
    Ok(respond(&u, &st.store.caller_view(&number, q.last_calls.min(50))?))
}

/// What to unmask.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UnmaskRequest {
    /// "resident", "order", "cdr" or "callback".
    kind: String,
    /// Its id.
    id: String,
    /// Why the number is needed (kept in the audit log).
    #[serde(default)]
    reason: Option<String>,
}

/// Full phone numbers of one record, for a user whose role sees masked numbers. Audited.
pub(crate) async fn unmask(State(st): State<ApiState>, Extension(u): Extension<AuthUser>, Json(r): Json<UnmaskRequest>) -> ApiResult<Json<serde_json::Value>> {
    u.require(STAFF, "unmask phone numbers")?;
    let numbers: Vec<String> = match r.kind.as_str() {
        "resident" => st.store.get::<Resident>(&r.id)?.map(|x| x.phones),
        "order" => st.store.get::<WorkOrder>(&r.id)?.map(|x| vec![x.caller]),
        "cdr" => st.store.get::<Cdr>(&r.id)?.map(|x| vec![x.caller]),
        "callback" => st.store.get::<CallbackTask>(&r.id)?.map(|x| vec![x.number]),
        other => return Err(ApiError::bad_request(format!("unknown kind '{other}' (resident, order, cdr, callback)"))),
    }
    .ok_or_else(|| ApiError::not_found(format!("{} {}", r.kind, r.id)))?;
    audit(&st, &u.username, "phone.unmask", &format!("{}/{}", r.kind, r.id), r.reason.clone()).await;
    Ok(Json(serde_json::json!({ "kind": r.kind, "id": r.id, "numbers": numbers })))
}
