//! Identity on every pushed record, the HTTP side: the device-bound officer credential issued at
//! sign-in, the push's two credentials, and the checks of each record's body against them (the
//! store then checks authorship, see [`crate::store::identity`]).

use axum::http::HeaderMap;
use rand::Rng;
use waypoint_core::{Encounter, EncounterStatus};
use waypoint_protocol::{OFFICER_CREDENTIAL_HEADER, OFFICER_TOKEN_PREFIX, SIGN_IN_REQUIRED};

use crate::auth;
use crate::error::ApiError;
use crate::store::Pusher;
use crate::AppState;

const DEVICE_TOKEN_PREFIX: &str = "wpd_";
const SIGN_IN: &str = "sign in on this device to sync";

/// 401 with the kind the device recognizes: its officer must sign in (its device credential is fine).
fn sign_in_required(why: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::UNAUTHORIZED, SIGN_IN_REQUIRED, format!("{SIGN_IN}: {why}"))
}

pub fn new_officer_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().gen();
    format!("{OFFICER_TOKEN_PREFIX}{}", hex::encode(bytes))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The device a sign-in comes from, when it carries a device credential. A device credential the
/// server does not know is refused (401) rather than ignored: the device must learn it.
pub async fn signing_in_device(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(token) = bearer(headers).filter(|t| t.starts_with(DEVICE_TOKEN_PREFIX)) else { return Ok(None) };
    match state.store.device_for_token(&auth::token_hash(token)).await? {
        Some(device_id) => Ok(Some(device_id)),
        None => Err(ApiError::unauthorized("this device's credential is unknown or revoked: enrol the device again")),
    }
}

/// The officer signed in on `device_id`, from the push's officer credential: 401 (with what to do)
/// when it is missing, unknown, revoked, or issued on another device.
pub async fn pusher(state: &AppState, headers: &HeaderMap, device_id: &str) -> Result<Pusher, ApiError> {
    let token = headers
        .get(OFFICER_CREDENTIAL_HEADER)
        .and_then(|h| h.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| sign_in_required("the request carries no officer credential (Waypoint-Officer header)"))?;
    let holder = state
        .store
        .officer_credential(&auth::token_hash(token))
        .await?
        .ok_or_else(|| sign_in_required("the officer credential is unknown or revoked"))?;
    if holder.device_id != device_id {
        return Err(sign_in_required("that officer credential was issued to another device"));
    }
    if !auth::user_is_active(&state.store, &holder.username).await? {
        return Err(sign_in_required("the officer's account is disabled (ask an admin)"));
    }
    Ok(Pusher {
        device_id: holder.device_id,
        may_amend_others: state.settings.amend_others_roles.contains(&holder.role),
        username: holder.username,
        officer_id: holder.officer_id,
    })
}

/// Why a pushed encounter may not be stored as coming from `pusher`, if it may not. The body is
/// kept as hashed, so nothing is stripped or rewritten: a body that claims what only the server
/// sets (a review state) is refused whole.
pub fn identity_problem(encounter: &Encounter, pusher: &Pusher) -> Option<String> {
    if encounter.officer_id != pusher.officer_id {
        return Some(format!(
            "the report names officer {} but officer {} is signed in on this device: each officer syncs their own reports",
            encounter.officer_id, pusher.officer_id
        ));
    }
    if encounter.device_id != pusher.device_id {
        return Some(format!(
            "the report names device {} but was sent by device {}: a report syncs from the device it was written on",
            encounter.device_id, pusher.device_id
        ));
    }
    if matches!(encounter.status, EncounterStatus::Approved | EncounterStatus::Returned) {
        return Some(format!(
            "the report claims to be {}: review decisions are the server's to record, a pushed report is submitted",
            encounter.status.as_str()
        ));
    }
    if encounter.review.is_some() {
        return Some("the report carries a review: review decisions are the server's to record".into());
    }
    None
}

/// Signs the officer out on this device: every officer credential of theirs on it stops working
/// (the device forgets it too). Their reports not synced yet wait for the next sign-in.
#[utoipa::path(post, path = "/v1/officer/sign-out", security(("bearer" = [], "officer" = [])), responses(
    (status = 204, description = "Signed out: the officer's credentials on this device are revoked"),
    (status = 401, description = "No device credential, or no live officer credential of this device", body = waypoint_protocol::ErrorBody),
    (status = 403, description = "The caller is not a device", body = waypoint_protocol::ErrorBody),
))]
pub async fn sign_out(
    axum::extract::State(state): axum::extract::State<AppState>,
    caller: auth::Caller,
    headers: HeaderMap,
) -> Result<axum::http::StatusCode, ApiError> {
    let device_id = caller.device()?;
    let officer = pusher(&state, &headers, device_id).await?;
    let event = crate::audit::AuditEvent::new(officer.username.clone(), crate::audit::action::OFFICER_SIGN_OUT, "ok")
        .target(format!("device {device_id}"));
    crate::audit::record(&state.store, event).await?;
    state.store.revoke_officer_credentials(Some(&officer.username), Some(device_id)).await?;
    tracing::info!(username = officer.username, device_id, "officer signed out on a device");
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The device and the officer signed in on it, both credentials checked before the push's body is
/// read (401 without either, 403 for a user session).
pub struct PushCaller(pub Pusher);

impl axum::extract::FromRequestParts<AppState> for PushCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth::DeviceCaller(device_id) = auth::DeviceCaller::from_request_parts(parts, state).await?;
        pusher(state, &parts.headers, &device_id).await.map(PushCaller)
    }
}
