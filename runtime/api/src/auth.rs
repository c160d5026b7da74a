//! Authentication (argon2 passwords → bearer token or session cookie) and role checks.
//!
//! Sessions live in memory: a restart logs everyone out, which is acceptable for a console and
//! keeps tokens out of the database. Tokens are 32 random bytes, hex.

use crate::error::{ApiError, ApiResult};
use crate::{ApiState, audit};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Duration, Utc};
use courtyard_store::model::{Role, User};
use courtyard_store::Store;
use parking_lot::Mutex;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Name of the session cookie set at login (the web console uses it).
pub const SESSION_COOKIE: &str = "courtyard_session";

/// How expensive password hashing is. `Default` is argon2id's recommended parameters; `Low` is
/// for test suites on debug builds and must not be used in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PasswordCost {
    /// argon2id m=19 MiB, t=2, p=1.
    #[default]
    Default,
    /// argon2id m=1 MiB, t=1 (tests only).
    Low,
}

fn argon(cost: PasswordCost) -> Argon2<'static> {
    let params = match cost {
        PasswordCost::Default => Params::default(),
        PasswordCost::Low => Params::new(1024, 1, 1, None).unwrap_or_default(),
    };
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hash a password into a PHC string.
pub fn hash_password(password: &str, cost: PasswordCost) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::bad_request(format!("salt: {e}")))?;
    argon(cost)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::bad_request(format!("cannot hash password: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    // Parameters come from the PHC string, so any cost verifies.
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Create or replace a user with a hashed password (used by the CLI to bootstrap an admin).
pub async fn create_user(
    store: &Store,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
    cost: PasswordCost,
) -> Result<User, ApiError> {
    if username.is_empty() || username.contains('/') || password.len() < 8 {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "username must be non-empty without '/', password at least 8 characters",
        ));
    }
    let user = User {
        username: username.into(),
        display_name: display_name.into(),
        role,
        password_hash: hash_password(password, cost)?,
        agent_id: None,
        disabled: false,
    };
    store.put(&user).await.map_err(ApiError::from)?;
    Ok(user)
}

/// The authenticated caller of a request (inserted by the auth middleware).
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
}

impl AuthUser {
    /// Refuse unless the user has one of `roles` (admin always passes).
    pub fn require(&self, roles: &[Role], what: &str) -> ApiResult<()> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            return Ok(());
        }
        Err(ApiError::forbidden(format!("role {:?} may not {what}", self.role).to_lowercase()))
    }
}

/// Roles that can work on calls and orders.
pub const STAFF: &[Role] = &[Role::Agent, Role::Supervisor];
/// Roles that manage content and master data.
pub const MANAGERS: &[Role] = &[Role::Supervisor];

struct Session {
    username: String,
    role: Role,
    expires: DateTime<Utc>,
}

/// In-memory session table.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn issue(&self, username: &str, role: Role, ttl: Duration) -> (String, DateTime<Utc>) {
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        let token = hex::encode(b);
        let expires = Utc::now() + ttl;
        let mut m = self.map.lock();
        m.retain(|_, s| s.expires > Utc::now());
        m.insert(token.clone(), Session { username: username.into(), role, expires });
        (token, expires)
    }
    fn check(&self, token: &str) -> Option<AuthUser> {
        let m = self.map.lock();
        m.get(token).filter(|s| s.expires > Utc::now()).map(|s| AuthUser { username: s.username.clone(), role: s.role })
    }
    fn revoke(&self, token: &str) {
        self.map.lock().remove(token);
    }
    /// Drop every session of a user (after delete/disable/password change).
    pub fn revoke_user(&self, username: &str) {
        self.map.lock().retain(|_, s| s.username != username);
    }
}

fn token_of(req: &Request) -> Option<String> {
    let h = req.headers();
    if let Some(v) = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_string());
    }
    h.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == SESSION_COOKIE).then(|| v.to_string())
    })
}

/// Middleware: 401 unless the request carries a valid token; inserts [`AuthUser`].
pub async fn require_auth(State(st): State<ApiState>, mut req: Request, next: Next) -> Response {
    let Some(user) = token_of(&req).and_then(|t| st.sessions.check(&t)) else {
        return ApiError::unauthorized("login required: POST /api/v1/auth/login, then send Authorization: Bearer <token>")
            .into_response();
    };
    req.extensions_mut().insert(user);
    next.run(req).await
}

/// Login request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Login answer; the token is also set as the `courtyard_session` cookie.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Bearer token.
    pub token: String,
    /// Role of the user.
    pub role: Role,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/v1/auth/login`.
pub async fn login(State(st): State<ApiState>, Json(req): Json<LoginRequest>) -> ApiResult<Response> {
    let user = st.store.get::<User>(&req.username).map_err(ApiError::from)?;
    // Verify against a dummy hash for unknown users so timing does not reveal which names exist.
    let phc = user.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| st.dummy_hash.clone());
    let ok = verify_password(&req.password, &phc) && user.as_ref().is_some_and(|u| !u.disabled);
    let Some(user) = user.filter(|_| ok) else {
        tracing::warn!(username = %req.username, "failed login");
        return Err(ApiError::unauthorized("wrong user name or password"));
    };
    let (token, expires_at) = st.sessions.issue(&user.username, user.role, st.config.session_ttl);
    audit(&st, &user.username, "auth.login", &user.username, None).await;
    let cookie = format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", st.config.session_ttl.num_seconds());
    Ok(([(header::SET_COOKIE, cookie)], Json(LoginResponse { token, role: user.role, expires_at })).into_response())
}

/// `POST /api/v1/auth/logout`.
pub async fn logout(State(st): State<ApiState>, req: Request) -> ApiResult<Json<serde_json::Value>> {
    if let Some(t) = token_of(&req) {
        st.sessions.revoke(&t);
    }
    Ok(Json(serde_json::json!({"ok": true})))
}

/// Who am I.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    /// User name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Whether phone numbers are masked for this user.
    pub masked: bool,
    /// The ACD agent this user works as (agents), from the user record.
    pub agent_id: Option<String>,
}

/// `GET /api/v1/auth/me`.
pub async fn me(State(st): State<ApiState>, Extension(u): Extension<AuthUser>) -> Json<Me> {
    let agent_id = st.store.get::<User>(&u.username).ok().flatten().and_then(|r| r.agent_id);
    Json(Me { masked: crate::mask::masks(u.role), username: u.username, role: u.role, agent_id })
}

/// Request to create or update a user.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UserRequest {
    /// Login name.
    pub username: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// New password (≥ 8 characters).
    pub password: String,
    /// Agent id for agents.
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// A user without the password hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Agent id.
    pub agent_id: Option<String>,
    /// Disabled.
    pub disabled: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView { username: u.username, display_name: u.display_name, role: u.role, agent_id: u.agent_id, disabled: u.disabled }
    }
}

/// `GET /api/v1/users` (admin).
pub async fn list_users(State(st): State<ApiState>, Extension(u): Extension<AuthUser>) -> ApiResult<Json<Vec<UserView>>> {
    u.require(&[], "list users")?;
    let users = st.store.list::<User>(|_| true, 0, usize::MAX).map_err(ApiError::from)?;
    Ok(Json(users.items.into_iter().map(UserView::from).collect()))
}

/// `POST /api/v1/users` (admin): create or replace.
pub async fn put_user(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    Json(req): Json<UserRequest>,
) -> ApiResult<Json<UserView>> {
    u.require(&[], "manage users")?;
    let mut user = create_user(&st.store, &req.username, &req.display_name, req.role, &req.password, st.config.password_cost).await?;
    if req.agent_id.is_some() {
        user.agent_id = req.agent_id.clone();
        st.store.put(&user).await.map_err(ApiError::from)?;
    }
    st.sessions.revoke_user(&user.username);
    audit(&st, &u.username, "user.put", &user.username, Some(format!("role {:?}", user.role))).await;
    Ok(Json(user.into()))
}

/// `DELETE /api/v1/users/{username}` (admin).
pub async fn delete_user(
    State(st): State<ApiState>,
    Extension(u): Extension<AuthUser>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    u.require(&[], "delete users")?;
    if name == u.username {
        return Err(ApiError::bad_request("you cannot delete yourself"));
    }
    let existed = st.store.delete::<User>(&name).await.map_err(ApiError::from)?;
    if !existed {
        return Err(ApiError::not_found(format!("user {name}")));
    }
    st.sessions.revoke_user(&name);
    audit(&st, &u.username, "user.delete", &name, None).await;
    Ok(Json(serde_json::json!({"deleted": name})))
}

/// A PHC hash of a random password, verified against for unknown users (constant-ish timing).
pub(crate) fn dummy_hash(cost: PasswordCost) -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    hash_password(&hex::encode(b), cost).unwrap_or_default()
}

