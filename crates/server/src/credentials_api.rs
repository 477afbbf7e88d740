//! Endpoints that change a caller's own credentials: logout, device token rotation, and MFA
//! enrolment (with the short-lived `wpe_` credential a sign-in hands out, see [`crate::sign_in`]).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use waypoint_protocol::{
    DeviceTokenRotation, ErrorBody, MfaConfirmRequest, MfaConfirmResponse, MfaEnrolmentRequired, MfaEnrolmentStart,
    Role,
};

use crate::audit::{self, action, outcome, AuditEvent};
use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiJson};
use crate::store::{MfaEnrolment, UserAccount};
use crate::{mfa, sign_in, AppState};

/// How long an enrolment credential works.
const ENROLMENT_TTL_MINUTES: i64 = 10;

/// Ends the caller's session (its token stops working at once).
#[utoipa::path(post, path = "/v1/logout", security(("bearer" = [])), responses(
    (status = 204, description = "The session ended"),
    (status = 401, body = ErrorBody), (status = 403, description = "Not a user session", body = ErrorBody),
))]
pub async fn logout(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let username = caller.user_with(&[Role::Officer, Role::Supervisor, Role::Admin, Role::Analyst])?.to_string();
    audit::record(&state.store, AuditEvent::new(username.clone(), action::SIGN_OUT, outcome::OK)).await?;
    state.store.end_session(&auth::token_hash(auth::presented_credential(&headers)?.token())).await?;
    tracing::info!(username, "signed out");
    Ok(StatusCode::NO_CONTENT)
}

/// A device swaps its token for a new one; the old one stops working at once.
#[utoipa::path(post, path = "/v1/device/token", security(("bearer" = [])), responses(
    (status = 200, body = DeviceTokenRotation),
    (status = 401, description = "Unknown credential, or `device_revoked`", body = ErrorBody),
    (status = 403, description = "Not a device", body = ErrorBody),
))]
pub async fn rotate_device_token(
    State(state): State<AppState>,
    auth::DeviceCaller(device_id): auth::DeviceCaller,
) -> Result<ApiJson<DeviceTokenRotation>, ApiError> {
    let event = AuditEvent::new(device_id.clone(), action::DEVICE_TOKEN_ROTATED, outcome::OK);
    audit::record(&state.store, event).await?;
    let device_token = auth::new_device_token();
    if !state.store.rotate_device_token(&device_id, &auth::token_hash(&device_token)).await? {
        // Revoked between the credential check and now.
        return Err(ApiError::unauthorized("this device was revoked by the agency")
            .with_kind(waypoint_protocol::ERROR_DEVICE_REVOKED));
    }
    tracing::info!(device_id, "device token rotated");
    Ok(ApiJson(DeviceTokenRotation { device_token }))
}

/// The reply to a right password of a user who must enrol in MFA first.
pub async fn enrolment_required(state: &AppState, user: &UserAccount) -> Result<Response, ApiError> {
    let token = auth::new_mfa_enrolment_token();
    let expires_at = Utc::now() + chrono::Duration::minutes(ENROLMENT_TTL_MINUTES);
    state.store.add_mfa_enrolment(&auth::token_hash(&token), &user.username, expires_at).await?;
    let body = MfaEnrolmentRequired {
        enrolment_token: token,
        expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        message: "this account must use an authenticator app: enrol one to finish signing in".into(),
    };
    Ok((StatusCode::ACCEPTED, ApiJson(body)).into_response())
}

/// A caller holding a live MFA enrolment credential (a `wpe_` bearer token).
pub struct EnrolmentCaller {
    pub token_hash: String,
    pub enrolment: MfaEnrolment,
}

impl FromRequestParts<AppState> for EnrolmentCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = auth::bearer_token(&parts.headers)?;
        let unknown = || ApiError::unauthorized("unknown or expired enrolment credential: sign in again");
        if !token.starts_with(auth::MFA_ENROLMENT_TOKEN_PREFIX) {
            return Err(unknown());
        }
        let token_hash = auth::token_hash(token);
        let enrolment = state.store.mfa_enrolment(&token_hash).await?.ok_or_else(unknown)?;
        let now = Utc::now();
        // A failed confirmation counts towards lockout: a locked account cannot finish either.
        let locked = state.store.user_account(&enrolment.username).await?.is_some_and(|a| a.is_locked(now));
        if enrolment.expires_at <= now || locked || !auth::user_is_active(&state.store, &enrolment.username).await? {
            return Err(unknown());
        }
        Ok(EnrolmentCaller { token_hash, enrolment })
    }
}

/// Starts (or restarts) enrolment: a new secret as an otpauth URL and its QR code.
#[utoipa::path(post, path = "/v1/mfa/enrolment", security(("bearer" = [])), responses(
    (status = 200, body = MfaEnrolmentStart),
    (status = 401, description = "No live enrolment credential", body = ErrorBody),
    (status = 429, description = "Too many requests from this address: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn start_enrolment(
    State(state): State<AppState>,
    caller: EnrolmentCaller,
) -> Result<ApiJson<MfaEnrolmentStart>, ApiError> {
    let secret = mfa::new_secret();
    let start = mfa::enrolment_start(&secret, &caller.enrolment.username).map_err(ApiError::internal)?;
    state.store.set_mfa_enrolment_secret(&caller.token_hash, &secret).await?;
    Ok(ApiJson(start))
}

/// Confirms enrolment with the first code: MFA is on, recovery codes shown once, signed in.
#[utoipa::path(post, path = "/v1/mfa/enrolment/confirm", request_body = MfaConfirmRequest, security(("bearer" = [])), responses(
    (status = 200, body = MfaConfirmResponse),
    (status = 401, description = "No live enrolment credential, or a wrong code (counted as a failed sign-in)", body = ErrorBody),
    (status = 409, description = "Enrolment not started (POST /v1/mfa/enrolment first)", body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not a confirmation", body = ErrorBody),
    (status = 429, description = "Too many requests from this address: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn confirm_enrolment(
    State(state): State<AppState>,
    caller: EnrolmentCaller,
    ApiJson(request): ApiJson<MfaConfirmRequest>,
) -> Result<ApiJson<MfaConfirmResponse>, ApiError> {
    let username = caller.enrolment.username.clone();
    let secret = caller.enrolment.secret.as_deref().ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "conflict", "start the enrolment first (POST /v1/mfa/enrolment)")
    })?;
    if !mfa::code_matches(secret, &request.code) {
        let event = AuditEvent::new(username.clone(), action::MFA_ENROLLED, outcome::FAILED).detail("wrong first code");
        audit::record(&state.store, event).await?;
        let now = Utc::now();
        let lock_until = now + state.settings.lockout_duration;
        state.store.record_failed_sign_in(&username, now, state.settings.max_failed_sign_ins, lock_until).await?;
        return Err(ApiError::unauthorized(
            "that code does not match: check the app shows Waypoint for this account and the device clock is right",
        ));
    }
    audit::record(&state.store, AuditEvent::new(username.clone(), action::MFA_ENROLLED, outcome::OK)).await?;
    let recovery_codes = mfa::new_recovery_codes();
    let hashes: Vec<String> = recovery_codes.iter().map(|c| mfa::recovery_code_hash(c)).collect();
    state.store.set_totp(&username, secret, &hashes).await?;
    state.store.end_mfa_enrolment(&caller.token_hash).await?;
    let account = state.store.user_account(&username).await?.ok_or_else(|| ApiError::not_found("user"))?;
    state.store.record_sign_in(&username, Utc::now()).await?;
    tracing::info!(username, "MFA enrolled");
    Ok(ApiJson(MfaConfirmResponse { session: sign_in::start_session(&state, &account).await?, recovery_codes }))
}
