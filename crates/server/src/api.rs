//! The HTTP endpoints. Each is listed once in [`route_table`], which builds the router and which
//! the OpenAPI test compares with `/openapi.json`.

use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post, MethodRouter};
use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use waypoint_protocol::ReviewResultBody;
use waypoint_protocol::{
    CapacityUpdate, ChangeKind, EnrollRequest, EnrollResponse, EnrollmentCode, ErrorBody, FeedPosition, LoginRequest,
    LoginResponse, PullResponse, PushRequest, PushResponse, RawPullResponse, RawPushRequest, ReviewDecision,
    ReviewRequest, Role,
};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::store::{Audience, NewChange, SessionRecord};
use crate::validation::check_records;
use crate::AppState;

/// Every endpoint: method, path, handler.
pub fn route_table() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/v1/health", get(health)),
        (Method::POST, "/v1/enroll", post(enroll)),
        (Method::POST, "/v1/login", post(login)),
        (Method::POST, "/v1/sync/push", post(push)),
        (Method::GET, "/v1/sync/pull", get(pull)),
        (Method::POST, "/v1/sync/audit", post(crate::audit_api::push_audit)),
        (Method::POST, "/v1/reviews", post(review)),
        (Method::POST, "/v1/directory/capacity", post(capacity)),
        (Method::GET, "/v1/directory/snapshot", get(crate::snapshot::directory_snapshot)),
        (Method::POST, "/v1/admin/enrollments", post(create_enrollment)),
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

/// Exchanges a one-time enrollment code for this device's credential.
#[utoipa::path(post, path = "/v1/enroll", request_body = EnrollRequest, responses(
    (status = 200, body = EnrollResponse),
    (status = 401, description = "Code unknown, already used or expired", body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not an enrollment request", body = ErrorBody),
))]
pub async fn enroll(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> Result<ApiJson<EnrollResponse>, ApiError> {
    let device_id = Uuid::now_v7().to_string();
    let device_token = auth::new_device_token();
    let redeemed = state
        .store
        .redeem_enrollment(
            &auth::enrollment_code_hash(&request.code),
            Utc::now(),
            &device_id,
            &auth::token_hash(&device_token),
        )
        .await?;
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

/// Password login for officers, supervisors and admins.
#[utoipa::path(post, path = "/v1/login", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 401, description = "Wrong username or password", body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not a login request", body = ErrorBody),
))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<ApiJson<LoginResponse>, ApiError> {
    let user = state.store.user(&request.username).await?;
    let phc = user.as_ref().map_or_else(|| auth::dummy_password_hash().to_string(), |u| u.password_hash.clone());
    let password = request.password;
    // Argon2 is deliberately slow: keep it off the async workers.
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    // The name as typed is the target either way; the trail is for the agency, the reply stays
    // silent about whether the user exists.
    let event = AuditEvent::new(request.username.clone(), action::SIGN_IN, outcome::OK)
        .from(client)
        .target(format!("user {}", request.username));
    let known = user.is_some();
    let user = match user {
        Some(user) if matches => user,
        _ => {
            let reason = if known { "wrong password" } else { "no such user" };
            audit::record(&state.store, event.with_outcome(outcome::FAILED, reason)).await?;
            return Err(ApiError::unauthorized("wrong username or password"));
        }
    };
    let token = auth::new_session_token();
    let expires_at = Utc::now() + state.settings.session_ttl;
    let session = SessionRecord { username: user.username.clone(), role: user.role, expires_at };
    audit::recorded(
        &state.store,
        event.detail(user.role.as_str()),
        state.store.add_session(&auth::token_hash(&token), session),
    )
    .await?;
    Ok(ApiJson(LoginResponse {
        session_token: token,
        role: user.role,
        expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    }))
}

/// Device -> server: one batch of encounter versions, acknowledged record by record.
#[utoipa::path(post, path = "/v1/sync/push", request_body = PushRequest, security(("bearer" = [])), responses(
    (status = 200, body = PushResponse),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The JSON is not a push request (invalid records are acknowledged as `rejected` instead)", body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn push(
    State(state): State<AppState>,
    caller: Caller,
    // The wire form of PushRequest: bodies stay the bytes that were sent (hashed, not re-parsed).
    ApiJson(request): ApiJson<RawPushRequest>,
) -> Result<ApiJson<PushResponse>, ApiError> {
    let device_id = caller.device()?;
    let records = check_records(request.records);
    Ok(ApiJson(state.store.push(device_id, records).await?))
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
#[utoipa::path(get, path = "/v1/sync/pull", params(PullQuery), security(("bearer" = [])), responses(
    (status = 200, body = PullResponse),
    (status = 400, description = "A query parameter is not a number in range", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PullQuery>,
) -> Result<ApiJson<RawPullResponse>, ApiError> {
    let device_id = caller.device()?;
    // Feed positions are stored as signed 64-bit integers: a larger cursor would wrap around.
    if query.cursor > i64::MAX as u64 {
        return Err(ApiError::new(axum::http::StatusCode::BAD_REQUEST, "bad_request", "cursor is out of range"));
    }
    let max_bytes =
        query.max_bytes.unwrap_or(state.settings.default_pull_bytes).clamp(1024, state.settings.max_pull_bytes);
    Ok(ApiJson(state.store.pull_page(device_id, query.cursor, max_bytes).await?))
}

/// A supervisor approves or returns a version; the device that pushed it receives the result.
#[utoipa::path(post, path = "/v1/reviews", request_body = ReviewRequest, security(("bearer" = [])), responses(
    (status = 200, body = FeedPosition),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 404, description = "The server does not hold this version", body = ErrorBody),
    (status = 422, description = "Returned without a comment, or the JSON is not a review", body = ErrorBody),
))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddr,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> Result<ApiJson<FeedPosition>, ApiError> {
    let reviewer = caller.user_with(&[Role::Supervisor, Role::Admin])?;
    let comment = request.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    if request.decision == ReviewDecision::Returned && comment.is_none() {
        return Err(ApiError::invalid("say what to correct: a returned report needs a comment"));
    }
    let device_id = state
        .store
        .version_owner(request.encounter_id, request.version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("encounter {} v{}", request.encounter_id, request.version)))?;
    let decision = serde_json::to_value(request.decision).ok().and_then(|v| v.as_str().map(str::to_string));
    let event = AuditEvent::new(reviewer, action::REVIEW_DECISION, outcome::OK)
        .from(client)
        .target(format!("encounter {} v{}", request.encounter_id, request.version))
        .detail(decision.unwrap_or_default());
    let body = ReviewResultBody {
        version: request.version,
        decision: request.decision,
        comment,
        reviewer: Some(reviewer.to_string()),
        at: Utc::now(),
    };
    let change = NewChange {
        audience: Audience::Device(device_id),
        kind: ChangeKind::ReviewResult,
        key: request.encounter_id.to_string(),
        body: serde_json::to_value(body).map_err(|e| ApiError::internal(e.to_string()))?,
    };
    let seq = audit::recorded(&state.store, event, state.store.append_changes(vec![change])).await?;
    Ok(ApiJson(FeedPosition { seq }))
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
    caller: Caller,
    client: ClientAddr,
    ApiJson(update): ApiJson<CapacityUpdate>,
) -> Result<ApiJson<FeedPosition>, ApiError> {
    let user = caller.user_with(&[Role::Supervisor, Role::Admin])?;
    if update.available < 0 || update.maximum.is_some_and(|m| m < update.available) {
        return Err(ApiError::invalid("available must be between 0 and maximum"));
    }
    if chrono::DateTime::parse_from_rfc3339(&update.updated_at).is_err() {
        return Err(ApiError::invalid("updated_at must be an RFC 3339 time"));
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

/// Admin: a one-time code to enroll one device (as `waypoint-server device enroll` prints).
#[utoipa::path(post, path = "/v1/admin/enrollments", security(("bearer" = [])), responses(
    (status = 200, body = EnrollmentCode),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn create_enrollment(
    State(state): State<AppState>,
    caller: Caller,
    client: ClientAddr,
) -> Result<ApiJson<EnrollmentCode>, ApiError> {
    let admin = caller.user_with(&[Role::Admin])?;
    // The code itself is a credential: it is not in the trail.
    let event = AuditEvent::new(admin, action::ENROLLMENT_CODE_ISSUED, outcome::OK).from(client);
    let code = audit::recorded(&state.store, event, auth::create_enrollment(&state.store)).await?;
    let expires_at = Utc::now() + chrono::Duration::hours(auth::ENROLLMENT_TTL_HOURS);
    Ok(ApiJson(EnrollmentCode { code, expires_at: expires_at.to_rfc3339_opts(SecondsFormat::Secs, true) }))
}
