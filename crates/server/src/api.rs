//! The HTTP endpoints. Each is listed once in [`route_table`], which builds the router and which
//! the OpenAPI test compares with `/openapi.json`.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use waypoint_protocol::{
    CapacityUpdate, ChangeKind, EnrollRequest, EnrollResponse, ErrorBody, FeedPosition, LoginRequest, LoginResponse,
    MfaEnrolmentRequired, PullResponse, PushRequest, PushResponse, RawPullResponse, RawPushRequest, Role,
    SessionOrigin,
};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::{self, DeviceCaller, Reviewer};
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::sign_in;
use crate::store::{Audience, NewChange};
use crate::validation::check_records_from;
use crate::AppState;
use crate::{admin_api, console_api, credentials_api};

/// Every endpoint: method, path, handler.
pub fn route_table() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/v1/health", get(health)),
        (Method::POST, "/v1/enroll", post(enroll)),
        (Method::POST, "/v1/login", post(login)),
        (Method::POST, "/v1/sync/push", post(push)),
        (Method::POST, "/v1/officer/sign-out", post(crate::identity::sign_out)),
        (Method::GET, "/v1/sync/pull", get(pull)),
        (Method::POST, "/v1/reviews", post(crate::review_api::review)),
        (Method::GET, "/v1/review/queue", get(crate::review_api::queue)),
        (Method::GET, "/v1/review/counts", get(crate::review_api::counts)),
        (Method::GET, "/v1/review/encounters/{id}", get(crate::review_api::encounter)),
        (Method::GET, "/v1/review/encounters/{id}/diff", get(crate::review_api::diff)),
        (Method::GET, "/v1/admin/conflicts", get(crate::review_api::conflicts)),
        (Method::GET, "/v1/metrics", get(crate::review_api::metrics)),
        (Method::GET, "/v1/outcomes", get(crate::outcomes_api::outcomes)),
        (Method::GET, "/v1/outcomes/rows", get(crate::outcomes_api::rows)),
        (Method::POST, "/v1/sync/audit", post(crate::audit_api::push_audit)),
        (Method::POST, "/v1/directory/capacity", post(capacity)),
        (Method::GET, "/v1/directory/snapshot", get(crate::snapshot::directory_snapshot)),
        (Method::POST, "/v1/admin/enrollments", post(crate::enrolment_api::create_enrollment)),
        (Method::POST, "/v1/logout", post(credentials_api::logout)),
        (Method::POST, "/v1/device/token", post(credentials_api::rotate_device_token)),
        (Method::POST, "/v1/mfa/enrolment", post(credentials_api::start_enrolment)),
        (Method::POST, "/v1/mfa/enrolment/confirm", post(credentials_api::confirm_enrolment)),
        (Method::GET, "/v1/admin/users", get(admin_api::list_users)),
        (Method::POST, "/v1/admin/users", post(admin_api::add_user)),
        (Method::POST, "/v1/admin/users/{username}/role", post(admin_api::change_role)),
        (Method::POST, "/v1/admin/users/{username}/disable", post(admin_api::disable_user)),
        (Method::POST, "/v1/admin/users/{username}/enable", post(admin_api::enable_user)),
        (Method::POST, "/v1/admin/users/{username}/unlock", post(admin_api::unlock_user)),
        (Method::POST, "/v1/admin/users/{username}/reset-mfa", post(admin_api::reset_mfa)),
        (Method::POST, "/v1/admin/users/{username}/reset-password", post(admin_api::reset_password)),
        (Method::GET, "/v1/admin/devices", get(admin_api::list_devices)),
        (Method::POST, "/v1/admin/devices/{device_id}/revoke", post(admin_api::revoke_device)),
        (Method::POST, "/v1/console/sign-in", post(console_api::sign_in)),
        (Method::POST, "/v1/console/adopt", post(console_api::adopt)),
        (Method::GET, "/v1/console/session", get(console_api::session)),
        (Method::POST, "/v1/console/sign-out", post(console_api::sign_out)),
        (Method::POST, "/v1/admin/devices/{device_id}/rotate", post(crate::enrolment_api::rotate_device)),
        (Method::GET, "/v1/admin/audit", get(crate::audit_admin_api::browse)),
        (Method::GET, "/v1/admin/audit/verify", get(crate::audit_admin_api::verify)),
        (Method::GET, "/v1/admin/audit/export", get(crate::audit_admin_api::export)),
        (Method::GET, "/v1/admin/export", get(crate::export_api::export)),
        (Method::GET, "/v1/agency/config", get(crate::agency_config_api::current)),
        (Method::PUT, "/v1/admin/config", put(crate::agency_config_api::save)),
        (Method::GET, "/v1/admin/config/versions", get(crate::agency_config_api::versions)),
        (Method::POST, "/v1/admin/config/check", post(crate::agency_config_api::check)),
        (Method::GET, "/v1/admin/directory/imports", get(crate::directory_admin_api::imports)),
        (Method::GET, "/v1/admin/directory/services", get(crate::directory_admin_api::search_services)),
        (
            Method::GET,
            "/v1/admin/directory/services/{service_id}/local-facts",
            get(crate::directory_admin_api::get_local_facts),
        ),
        (
            Method::PUT,
            "/v1/admin/directory/services/{service_id}/local-facts",
            put(crate::directory_admin_api::put_local_facts),
        ),
        (Method::GET, "/v1/admin/directory/conflicts", get(crate::directory_admin_api::conflicts)),
        (Method::GET, "/v1/records/encounters", get(crate::records_api::encounters)),
        (Method::GET, "/v1/admin/records/credentials", get(crate::records_api::list_credentials)),
        (Method::POST, "/v1/admin/records/credentials", post(crate::records_api::create_credential)),
        (Method::POST, "/v1/admin/records/credentials/{name}/revoke", post(crate::records_api::revoke_credential)),
        (Method::GET, "/v1/admin/webhooks", get(crate::records_api::list_webhooks)),
        (Method::POST, "/v1/admin/webhooks", post(crate::records_api::create_webhook)),
        (Method::POST, "/v1/admin/webhooks/{id}/disable", post(crate::records_api::disable_webhook)),
        (Method::POST, "/v1/admin/webhooks/{id}/enable", post(crate::records_api::enable_webhook)),
        (Method::GET, "/v1/admin/webhooks/deliveries", get(crate::records_api::deliveries)),
        (Method::POST, "/v1/admin/webhooks/deliveries/{id}/replay", post(crate::records_api::replay_delivery)),
        (Method::GET, "/v1/admin/training", get(crate::training_api::list)),
        (Method::GET, "/v1/admin/training/summary", get(crate::training_api::summary)),
        (Method::POST, "/v1/admin/training", post(crate::training_api::add)),
        (Method::POST, "/v1/admin/training/{id}/delete", post(crate::training_api::delete)),
        (Method::GET, "/openapi.json", get(crate::openapi::serve_document)),
    ]
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    /// "sqlite" or "postgres".
    pub store: String,
}

/// Liveness: answers without credentials.
#[utoipa::path(get, path = "/v1/health", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> ApiJson<Health> {
    ApiJson(Health { status: "ok".into(), store: state.store.backend().into() })
}

/// Exchanges a one-time enrollment code for this device's credential. The device is registered
/// under the id it sends (the one it stamps on its reports), or a new one.
#[utoipa::path(post, path = "/v1/enroll", request_body = EnrollRequest, responses(
    (status = 200, body = EnrollResponse),
    (status = 401, description = "Code unknown, already used or expired", body = ErrorBody),
    (status = 409, description = "Another device is enrolled under this device id", body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not an enrollment request", body = ErrorBody),
    (status = 429, description = "Too many attempts from this address: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn enroll(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> Result<ApiJson<EnrollResponse>, ApiError> {
    let device_id = match request.device_id.as_deref().map(str::trim) {
        None | Some("") => Uuid::now_v7().to_string(),
        Some(id) => Uuid::parse_str(id)
            .map_err(|_| {
                ApiError::invalid("device_id must be a UUID (the id the device made at setup)").on_field("device_id")
            })?
            .hyphenated()
            .to_string(),
    };
    let device_token = auth::new_device_token();
    let redeemed = state
        .store
        .redeem_enrollment(
            &auth::enrollment_code_hash(&request.code),
            Utc::now(),
            &device_id,
            &auth::token_hash(&device_token),
        )
        .await
        .map_err(|error| match error {
            crate::store::StoreError::AlreadyExists(_) => ApiError::new(
                StatusCode::CONFLICT,
                "already_exists",
                format!(
                    "a device is already enrolled as {device_id}: ask the records admin to revoke it before enrolling again"
                ),
            ),
            other => other.into(),
        })?;
    // The code is checked and used up in one transaction with the device's registration, so the
    // event follows it. If that write fails the reply is 500 and the device token, known only to
    // this reply, is never delivered: the registered device can never authenticate.
    if !redeemed {
        audit::record(
            &state.store,
            AuditEvent::new("anonymous", action::DEVICE_ENROLLED, outcome::FAILED)
                .from(client)
                .detail("enrollment code unknown, already used or expired"),
        )
        .await?;
        return Err(ApiError::unauthorized("enrollment code unknown, already used or expired"));
    }
    audit::record(
        &state.store,
        AuditEvent::new(device_id.clone(), action::DEVICE_ENROLLED, outcome::OK).from(client).target(device_id.clone()),
    )
    .await?;
    tracing::info!(device_id, "device enrolled");
    Ok(ApiJson(EnrollResponse { device_id, device_token }))
}

/// Password sign-in for officers, supervisors, admins and analysts, with the TOTP code (or a recovery
/// code) when the user is enrolled in MFA. From a device (its credential in
/// `Authorization: Bearer wpd_...`), the reply also holds the officer credential that device
/// pushes this user's reports with.
#[utoipa::path(post, path = "/v1/login", request_body = LoginRequest, security((), ("bearer" = [])), responses(
    (status = 200, body = LoginResponse),
    (status = 202, description = "Password right, but this user must enrol in MFA first", body = MfaEnrolmentRequired),
    (status = 401, description = "Sign-in failed (unknown user, wrong password or code, locked or disabled: one answer for all), `mfa_required`: send the code in `totp`, or an unknown device credential", body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 403, description = "An analyst account signing in on a device (analysts write no reports)", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not a login request", body = ErrorBody),
    (status = 429, description = "Too many sign-ins from this address: retry after `Retry-After` seconds", body = ErrorBody),
    (status = 503, description = "Too many sign-ins at once: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: ClientAddr,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let device = crate::identity::signing_in_device(&state, &headers).await?;
    let user = match sign_in::check_audited(&state, client, &request).await? {
        sign_in::Audited::Accepted(user) => user,
        sign_in::Audited::MustEnrol(reply) => return Ok(reply),
    };
    if device.is_some() && user.role == Role::Analyst {
        // An analyst writes no reports: no officer credential, so nothing to push with.
        return Err(ApiError::forbidden("an analyst account cannot sign in on a field device: it writes no reports"));
    }
    let origin = if device.is_some() { SessionOrigin::Device } else { SessionOrigin::Api };
    let mut response = sign_in::start_session_from(&state, &user, origin, device.as_deref()).await?;
    if let Some(device_id) = device {
        // A device holds one credential per officer: a new sign-in supersedes the last (which
        // the device may have lost, or forgotten offline).
        state.store.revoke_officer_credentials(Some(&user.username), Some(&device_id)).await?;
        let officer_token = crate::identity::new_officer_token();
        state.store.add_officer_credential(&auth::token_hash(&officer_token), &user.username, &device_id).await?;
        tracing::info!(username = user.username, device_id, "officer credential issued");
        response.officer_token = Some(officer_token);
    }
    Ok(ApiJson(response).into_response())
}

/// Device -> server: one batch of encounter versions, acknowledged record by record. Needs the
/// device credential and, in the `Waypoint-Officer` header, the credential of an officer signed
/// in on that device; each record must be that officer's, from that device (else `rejected`).
#[utoipa::path(post, path = "/v1/sync/push", request_body = PushRequest, security(("bearer" = [], "officer" = [])), responses(
    (status = 200, body = PushResponse),
    (status = 401, description = "No device credential, or no officer credential of this device (sign in on the device)", body = ErrorBody),
    (status = 403, body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not a push request (invalid records are acknowledged as `rejected` instead)", body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn push(
    State(state): State<AppState>,
    crate::identity::PushCaller(pusher): crate::identity::PushCaller,
    report: crate::device_report::ReportHeaders,
    // The wire form of PushRequest: bodies stay the bytes that were sent (hashed, not re-parsed).
    ApiJson(request): ApiJson<RawPushRequest>,
) -> Result<ApiJson<PushResponse>, ApiError> {
    crate::device_report::note(&state, &pusher.device_id, report).await;
    let records = check_records_from(request.records, &pusher);
    Ok(ApiJson(state.store.push(&pusher, records).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PullQuery {
    /// The cursor of the last applied page (0 at first).
    #[serde(default)]
    pub cursor: u64,
    /// Page size in body bytes (clamped by the server).
    pub max_bytes: Option<usize>,
}

/// Server -> device: the next page of review results, directory and capacity changes.
#[utoipa::path(get, path = "/v1/sync/pull", params(PullQuery, ("waypoint-config-version" = Option<u32>, Header, description = "The agency configuration version the device uses")), security(("bearer" = [])), responses(
    (status = 200, body = PullResponse),
    (status = 400, description = "A query parameter is not a number in range", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn pull(
    State(state): State<AppState>,
    DeviceCaller(device_id): DeviceCaller,
    report: crate::device_report::ReportHeaders,
    ApiQuery(query): ApiQuery<PullQuery>,
) -> Result<ApiJson<RawPullResponse>, ApiError> {
    crate::device_report::note(&state, &device_id, report).await;
    // Feed positions are stored as signed 64-bit integers: a larger cursor would wrap around.
    if query.cursor > i64::MAX as u64 {
        return Err(ApiError::new(axum::http::StatusCode::BAD_REQUEST, "bad_request", "cursor is out of range"));
    }
    let max_bytes =
        query.max_bytes.unwrap_or(state.settings.default_pull_bytes).clamp(1024, state.settings.max_pull_bytes);
    // The cursor is the last page the device applied: the review results up to it reached it.
    state.store.confirm_pulled(&device_id, query.cursor, Utc::now()).await?;
    Ok(ApiJson(state.store.pull_page(&device_id, query.cursor, max_bytes).await?))
}

/// Broadcasts a service's current capacity to every device.
#[utoipa::path(post, path = "/v1/directory/capacity", request_body = CapacityUpdate, security(("bearer" = [])), responses(
    (status = 200, body = FeedPosition),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "Capacity out of range, a bad time, or the JSON is not a capacity update", body = ErrorBody),
))]
pub async fn capacity(
    State(state): State<AppState>,
    Reviewer(user): Reviewer,
    client: ClientAddr,
    ApiJson(update): ApiJson<CapacityUpdate>,
) -> Result<ApiJson<FeedPosition>, ApiError> {
    if update.available < 0 || update.maximum.is_some_and(|m| m < update.available) {
        return Err(ApiError::invalid("available must be between 0 and maximum").on_field("available"));
    }
    if chrono::DateTime::parse_from_rfc3339(&update.updated_at).is_err() {
        return Err(ApiError::invalid("updated_at must be an RFC 3339 time").on_field("updated_at"));
    }
    let change = NewChange {
        audience: Audience::AllDevices,
        kind: ChangeKind::CapacityUpdate,
        key: update.service_id.clone(),
        body: serde_json::to_value(&update).map_err(|e| ApiError::internal(e.to_string()))?,
    };
    let event = AuditEvent::new(user, action::CAPACITY_UPDATE, outcome::OK)
        .from(client)
        .target(format!("service {}", update.service_id))
        .detail(format!("available {} of {:?}", update.available, update.maximum));
    let seq = audit::recorded(&state.store, event, state.store.append_changes(vec![change])).await?;
    Ok(ApiJson(FeedPosition { seq }))
}
