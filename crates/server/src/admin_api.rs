//! Admin endpoints for users and devices (admin role only): what the `user` and `device` CLI
//! commands do, for the console.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use waypoint_protocol::{ErrorBody, Role};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::{self, AdminCaller};
use crate::error::{ApiError, ApiJson, ApiPath};
use crate::store::{DeviceSummary, UserAccount};
use crate::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserInfo {
    pub username: String,
    pub role: Role,
    pub enabled: bool,
    /// Locked after too many failed sign-ins, until `locked_until` or an admin unlocks it.
    pub locked: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub mfa_enrolled: bool,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

impl UserInfo {
    pub fn of(account: &UserAccount, now: DateTime<Utc>) -> Self {
        let locked = account.is_locked(now);
        UserInfo {
            username: account.username.clone(),
            role: account.role,
            enabled: account.enabled,
            locked,
            locked_until: account.locked_until.filter(|_| locked),
            mfa_enrolled: account.totp_secret.is_some(),
            last_sign_in_at: account.last_sign_in_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceInfo {
    pub device_id: String,
    pub enrolled_at: DateTime<Utc>,
    /// Last authenticated request, to about a minute.
    pub last_seen_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<DeviceSummary> for DeviceInfo {
    fn from(device: DeviceSummary) -> Self {
        DeviceInfo {
            device_id: device.device_id,
            enrolled_at: device.enrolled_at,
            last_seen_at: device.last_seen_at,
            revoked: device.revoked_at.is_some(),
            revoked_at: device.revoked_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewPassword {
    /// At least 10 characters.
    pub password: String,
}

/// Every user with their sign-in state.
#[utoipa::path(get, path = "/v1/admin/users", security(("bearer" = [])), responses(
    (status = 200, body = Vec<UserInfo>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<UserInfo>>, ApiError> {
    let now = Utc::now();
    Ok(ApiJson(state.store.user_accounts().await?.iter().map(|a| UserInfo::of(a, now)).collect()))
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

/// Every enrolled device, with its last contact and whether it is revoked.
#[utoipa::path(get, path = "/v1/admin/devices", security(("bearer" = [])), responses(
    (status = 200, body = Vec<DeviceInfo>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn list_devices(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<DeviceInfo>>, ApiError> {
    Ok(ApiJson(state.store.devices().await?.into_iter().map(DeviceInfo::from).collect()))
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
