//! Admin endpoints for users and devices (admin role only): what the `user` and `device` CLI
//! commands do, for the console.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
pub use waypoint_protocol::{DeviceInfo, UserInfo};
use waypoint_protocol::{ErrorBody, NewUser, RoleChange, SessionInfo};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::{self, AdminCaller};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::new_user::NewAccount;
use crate::store::admin::DeviceDetail;
use crate::store::UserAccount;
use crate::AppState;

/// RFC 3339 to the second, as the console shows times.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A user as the console lists them, with the sessions of theirs that still work.
pub fn user_info(account: &UserAccount, officer_id: &str, sessions: Vec<SessionInfo>, now: DateTime<Utc>) -> UserInfo {
    let locked = account.is_locked(now);
    UserInfo {
        username: account.username.clone(),
        role: account.role,
        officer_id: officer_id.to_string(),
        enabled: account.enabled,
        locked,
        locked_until: account.locked_until.filter(|_| locked).map(rfc3339),
        mfa_enrolled: account.totp_secret.is_some(),
        last_sign_in_at: account.last_sign_in_at.map(rfc3339),
        sessions,
    }
}

/// Every user with their sign-in state and live sessions (not expired, not idle too long).
pub async fn users(state: &AppState) -> Result<Vec<UserInfo>, ApiError> {
    let now = Utc::now();
    let idle = state.settings.session_idle_timeout;
    let officer_ids: HashMap<String, String> = state.store.officer_ids().await?.into_iter().collect();
    let mut sessions: HashMap<String, Vec<SessionInfo>> = HashMap::new();
    for session in state.store.live_sessions(now).await? {
        if session.last_used_at.is_some_and(|last| now - last > idle) {
            continue;
        }
        sessions.entry(session.username.clone()).or_default().push(SessionInfo {
            created_at: session.created_at.map(rfc3339),
            last_used_at: session.last_used_at.map(rfc3339),
            expires_at: rfc3339(session.expires_at),
            origin: session.origin,
            device_id: session.device_id,
        });
    }
    Ok(state
        .store
        .user_accounts()
        .await?
        .iter()
        .map(|account| {
            let officer_id = officer_ids.get(&account.username).map_or(account.username.as_str(), String::as_str);
            user_info(account, officer_id, sessions.remove(&account.username).unwrap_or_default(), now)
        })
        .collect())
}

/// A device as the console lists it.
pub fn device_info(device: DeviceDetail) -> DeviceInfo {
    DeviceInfo {
        device_id: device.device_id,
        enrolled_at: rfc3339(device.enrolled_at),
        last_seen_at: device.last_seen_at.map(rfc3339),
        revoked: device.revoked_at.is_some(),
        revoked_at: device.revoked_at.map(rfc3339),
        last_officer: device.last_officer,
        last_officer_signed_in_at: device.last_officer_signed_in_at.map(rfc3339),
        app_version: device.app_version,
        pending_records: device.pending_records,
        reported_at: device.reported_at.map(rfc3339),
        config_version: device.config_version,
        reenrolment_until: device.reenrolment_until.map(rfc3339),
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewPassword {
    /// At least 10 characters.
    pub password: String,
}

/// Every user with their sign-in state and live sessions.
#[utoipa::path(get, path = "/v1/admin/users", security(("bearer" = [])), responses(
    (status = 200, body = Vec<UserInfo>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<UserInfo>>, ApiError> {
    Ok(ApiJson(users(&state).await?))
}

/// Adds a user (the rules of `waypoint-server user add`). Supervisors and admins enrol in MFA at
/// their first sign-in.
#[utoipa::path(post, path = "/v1/admin/users", request_body = NewUser, security(("bearer" = [])), responses(
    (status = 201, body = UserInfo),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 409, description = "The username or the officer id is taken", body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "A username, officer id or password that breaks the rules, or the JSON is not a new user", body = ErrorBody),
    (status = 503, description = "Too many password hashes at once: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn add_user(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiJson(request): ApiJson<NewUser>,
) -> Result<impl IntoResponse, ApiError> {
    let account = NewAccount::check(&request.username, request.role, request.officer_id.as_deref(), &request.password)
        .map_err(|invalid| ApiError::invalid(invalid.to_string()).on_field(invalid.field))?;
    let username = account.username.clone();
    let hash = state.password_work.hash(request.password).await?;
    let event = AuditEvent::new(admin, action::USER_ADDED, outcome::OK).from(client);
    account.add(&state.store, hash, event).await?;
    let added = users(&state).await?.into_iter().find(|u| u.username == username);
    let added = added.ok_or_else(|| ApiError::internal("the new user is not listed"))?;
    Ok((StatusCode::CREATED, ApiJson(added)))
}

/// Changes a user's role; their sessions end (a new sign-in carries the new role, and MFA
/// enrolment when the new role needs it).
#[utoipa::path(post, path = "/v1/admin/users/{username}/role", params(("username" = String, Path)), request_body = RoleChange, security(("bearer" = [])), responses(
    (status = 204, description = "Role changed"),
    (status = 401, body = ErrorBody), (status = 403, description = "Not an admin, or the admin's own account", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not a role change", body = ErrorBody),
))]
pub async fn change_role(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(username): ApiPath<String>,
    ApiJson(request): ApiJson<RoleChange>,
) -> Result<StatusCode, ApiError> {
    if admin == username {
        // So that the last admin cannot lock everyone out of the console by mistake.
        return Err(ApiError::forbidden("an admin cannot change their own role"));
    }
    let Some(account) = state.store.user_account(&username).await? else {
        return Err(ApiError::not_found(format!("user {username}")));
    };
    let event = AuditEvent::new(admin, action::ROLE_CHANGED, outcome::OK)
        .from(client)
        .target(format!("user {username}"))
        .detail(format!("{} -> {}", account.role.as_str(), request.role.as_str()));
    audit::recorded(&state.store, event, state.store.set_role(&username, request.role)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables a user: sign-in refused, every session ends at once.
#[utoipa::path(post, path = "/v1/admin/users/{username}/disable", params(("username" = String, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Disabled"),
    (status = 401, body = ErrorBody), (status = 403, description = "Not an admin, or the admin's own account", body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
pub async fn disable_user(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if admin == username {
        return Err(ApiError::forbidden("an admin cannot disable their own account"));
    }
    let by = admin.clone();
    let event =
        AuditEvent::new(admin, action::USER_DISABLED, outcome::OK).from(client).target(format!("user {username}"));
    audit::record(&state.store, event).await?;
    state.store.set_user_enabled(&username, false).await?;
    // Their reports stop syncing from every device too; a new sign-in after enabling issues new ones.
    state.store.revoke_officer_credentials(Some(&username), None).await?;
    tracing::info!(username, by, "user disabled");
    Ok(StatusCode::NO_CONTENT)
}

/// Enables a disabled user again.
#[utoipa::path(post, path = "/v1/admin/users/{username}/enable", params(("username" = String, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Enabled"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
pub async fn enable_user(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let event =
        AuditEvent::new(admin, action::USER_ENABLED, outcome::OK).from(client).target(format!("user {username}"));
    audit::record(&state.store, event).await?;
    state.store.set_user_enabled(&username, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts a lockout and clears the failure count.
#[utoipa::path(post, path = "/v1/admin/users/{username}/unlock", params(("username" = String, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Unlocked"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
pub async fn unlock_user(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let event =
        AuditEvent::new(admin, action::USER_UNLOCKED, outcome::OK).from(client).target(format!("user {username}"));
    audit::record(&state.store, event).await?;
    state.store.unlock_user(&username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Drops the user's MFA secret and recovery codes and ends their sessions: they enrol again at
/// their next sign-in (a lost phone).
#[utoipa::path(post, path = "/v1/admin/users/{username}/reset-mfa", params(("username" = String, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "MFA reset"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let event = AuditEvent::new(admin, action::MFA_RESET, outcome::OK).from(client).target(format!("user {username}"));
    audit::record(&state.store, event).await?;
    state.store.reset_mfa(&username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a new password and ends the user's sessions.
#[utoipa::path(post, path = "/v1/admin/users/{username}/reset-password", params(("username" = String, Path)), request_body = NewPassword, security(("bearer" = [])), responses(
    (status = 204, description = "Password set"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "Password too short, or the JSON is not a password", body = ErrorBody),
    (status = 503, description = "Too many password hashes at once: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn reset_password(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(username): ApiPath<String>,
    ApiJson(request): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    auth::check_new_password(&request.password).map_err(ApiError::invalid)?;
    if state.store.user_account(&username).await?.is_none() {
        return Err(ApiError::not_found(format!("user {username}")));
    }
    let event =
        AuditEvent::new(admin, action::PASSWORD_RESET, outcome::OK).from(client).target(format!("user {username}"));
    audit::record(&state.store, event).await?;
    let hash = state.password_work.hash(request.password).await?;
    state.store.set_password_hash(&username, &hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every enrolled device: last contact, revoked, the officer who signed in last, and the app
/// version and records pending it reported at its last sync.
#[utoipa::path(get, path = "/v1/admin/devices", security(("bearer" = [])), responses(
    (status = 200, body = Vec<DeviceInfo>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn list_devices(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<DeviceInfo>>, ApiError> {
    Ok(ApiJson(state.store.device_details(Utc::now()).await?.into_iter().map(device_info).collect()))
}

/// Revokes a device: its token stops working at once, and its next request is answered 401
/// `device_revoked`.
#[utoipa::path(post, path = "/v1/admin/devices/{device_id}/revoke", params(("device_id" = String, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Revoked (revoking again keeps the first time)"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
pub async fn revoke_device(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(device_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let by = admin.clone();
    let event =
        AuditEvent::new(admin, action::DEVICE_REVOKED, outcome::OK).from(client).target(format!("device {device_id}"));
    audit::record(&state.store, event).await?;
    state.store.revoke_device(&device_id, Utc::now()).await?;
    state.store.revoke_officer_credentials(None, Some(&device_id)).await?;
    tracing::info!(device_id, by, "device revoked");
    Ok(StatusCode::NO_CONTENT)
}
