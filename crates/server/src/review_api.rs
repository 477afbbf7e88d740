//! The review desk's endpoints: decisions (`POST /v1/reviews`), the queue, one encounter with
//! its versions and decisions, the difference between two versions, conflicts and counts.
//! Supervisors and admins only (conflicts: admins). Every read of a report goes through
//! [`report_read`], the audit trail's one call site per handler.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use waypoint_protocol::{
    ConflictPair, EncounterReview, ErrorBody, FeedPosition, Metrics, QueuePage, ReviewCounts, ReviewRequest,
    ReviewState, VersionDiff,
};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::{AdminCaller, Reviewer};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::review_rules::{DecisionInput, ReviewRefusal};
use crate::store::review::{QueueCursor, QueueOrder, QueueQuery};
use crate::AppState;

/// Queue page size when the request names none, and the most it may ask for.
const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 200;

/// A report was read through the API by `reader`: in the trail before it is sent (an audit write
/// that fails refuses the read).
pub async fn report_read(
    state: &AppState,
    reader: &str,
    client: ClientAddr,
    encounter_id: Uuid,
) -> Result<(), ApiError> {
    let event = AuditEvent::new(reader, action::REPORT_READ, outcome::OK)
        .from(client)
        .target(format!("encounter {encounter_id}"));
    audit::record(&state.store, event).await?;
    Ok(())
}

impl From<ReviewRefusal> for ApiError {
    fn from(refusal: ReviewRefusal) -> Self {
        let message = refusal.to_string();
        match refusal {
            ReviewRefusal::NotHeld { .. } => ApiError::not_found(message),
            ReviewRefusal::OwnReport => ApiError::forbidden(message),
            ReviewRefusal::Superseded { .. } => ApiError::new(StatusCode::CONFLICT, "superseded", message),
            ReviewRefusal::NeedsComment => ApiError::invalid(message),
            ReviewRefusal::NeedsReason { .. } => ApiError::new(StatusCode::CONFLICT, "already_decided", message),
        }
    }
}

/// A supervisor approves or returns the latest version of a report; the device that pushed it
/// receives the result in its pull feed. The same decision again is a retry: the reply is the
/// first one's feed position and nothing new is recorded.
#[utoipa::path(post, path = "/v1/reviews", request_body = ReviewRequest, security(("bearer" = [])), responses(
    (status = 200, body = FeedPosition),
    (status = 401, body = ErrorBody),
    (status = 403, description = "Not a supervisor or admin, or the reviewer wrote the report", body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 404, description = "The server does not hold this version", body = ErrorBody),
    (status = 409, description = "`superseded`: a newer version is held (the message names it); `already_decided`: changing a decision needs a `reason`", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "Returned without a comment, or the JSON is not a review", body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn review(
    State(state): State<AppState>,
    Reviewer(reviewer): Reviewer,
    client: ClientAddr,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> Result<ApiJson<FeedPosition>, ApiError> {
    let decision = serde_json::to_value(request.decision).ok().and_then(|v| v.as_str().map(str::to_string));
    let event = AuditEvent::new(reviewer.clone(), action::REVIEW_DECISION, outcome::OK)
        .from(client)
        .target(format!("encounter {} v{}", request.encounter_id, request.version))
        .detail(decision.unwrap_or_default());
    audit::record(&state.store, event.clone()).await?;
    let outcome = match state.store.decide(DecisionInput::new(&reviewer, request)).await? {
        Ok(outcome) => outcome,
        Err(refusal) => {
            // Refused by the rules (own report, superseded, ...): the trail says so.
            audit::record(&state.store, event.with_outcome(audit::outcome::FAILED, refusal.to_string())).await?;
            return Err(refusal.into());
        }
    };
    Ok(ApiJson(FeedPosition { seq: outcome.feed_seq }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct QueueParams {
    /// Which list: `submitted` (the queue, default), `returned` or `approved` (by the state of
    /// each report's latest version).
    pub state: Option<ReviewState>,
    /// Only this officer's reports (`officer_id`).
    pub officer: Option<String>,
    /// Submitted at or after (RFC 3339).
    pub submitted_from: Option<DateTime<Utc>>,
    /// Submitted before (RFC 3339).
    pub submitted_to: Option<DateTime<Utc>>,
    /// Only reports recording reportable force.
    #[serde(default)]
    pub force_used: bool,
    /// Only reports recording an injury (subject or officer).
    #[serde(default)]
    pub injury: bool,
    /// Only reports recording a weapon.
    #[serde(default)]
    pub weapon: bool,
    /// Only reports ending in an emergency detention.
    #[serde(default)]
    pub emergency_detention: bool,
    /// Only reports ending in an arrest (`arrested` among the dispositions).
    #[serde(default)]
    pub arrest: bool,
    /// Only reports with force used or an injury.
    #[serde(default)]
    pub flagged: bool,
    /// Words that must all appear in the narrative.
    pub q: Option<String>,
    /// `oldest` (default) or `flagged_first` (force or injury first, each oldest first).
    #[serde(default)]
    #[param(inline)]
    pub order: QueueOrder,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page (default 50, at most 200).
    pub limit: Option<usize>,
}

/// The review queue: the latest version of every report not decided yet, oldest submitted first
/// (`state=returned|approved`: those lists, in the same order).
#[utoipa::path(get, path = "/v1/review/queue", params(QueueParams), security(("bearer" = [])), responses(
    (status = 200, body = QueuePage),
    (status = 400, description = "A parameter is malformed (a time, a flag, the cursor)", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn queue(
    State(state): State<AppState>,
    _reviewer: Reviewer,
    ApiQuery(params): ApiQuery<QueueParams>,
) -> Result<ApiJson<QueuePage>, ApiError> {
    let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => Some(QueueCursor::decode(cursor).ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "cursor is not one this server gave")
        })?),
        None => None,
    };
    let query = QueueQuery {
        state: params.state.unwrap_or(ReviewState::Submitted),
        officer_id: params.officer.filter(|o| !o.is_empty()),
        submitted_from: params.submitted_from,
        submitted_to: params.submitted_to,
        force_used: params.force_used,
        injury: params.injury,
        weapon: params.weapon,
        emergency_detention: params.emergency_detention,
        arrest: params.arrest,
        flagged: params.flagged,
        text: params.q,
        order: params.order,
        after,
        limit: params.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE),
    };
    Ok(ApiJson(state.store.review_queue(query).await?))
}

/// How many reports stand in each state (by their latest version): the desk's tab counts.
#[utoipa::path(get, path = "/v1/review/counts", security(("bearer" = [])), responses(
    (status = 200, body = ReviewCounts),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn counts(State(state): State<AppState>, _reviewer: Reviewer) -> Result<ApiJson<ReviewCounts>, ApiError> {
    Ok(ApiJson(state.store.review_counts().await?))
}

/// One encounter: every version held (bodies) with its decisions.
#[utoipa::path(get, path = "/v1/review/encounters/{id}", params(("id" = Uuid, Path, description = "Encounter id")),
    security(("bearer" = [])), responses(
    (status = 200, body = EncounterReview),
    (status = 400, description = "The id is not a UUID", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "The server holds no version of this encounter", body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn encounter(
    State(state): State<AppState>,
    Reviewer(reader): Reviewer,
    client: ClientAddr,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<ApiJson<EncounterReview>, ApiError> {
    let review =
        state.store.encounter_review(id).await?.ok_or_else(|| ApiError::not_found(format!("encounter {id}")))?;
    report_read(&state, &reader, client, id).await?;
    Ok(ApiJson(review))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DiffParams {
    /// The earlier version.
    pub from: u32,
    /// The later version.
    pub to: u32,
}

/// What changed between two versions of an encounter, field by field.
#[utoipa::path(get, path = "/v1/review/encounters/{id}/diff", params(("id" = Uuid, Path, description = "Encounter id"), DiffParams),
    security(("bearer" = [])), responses(
    (status = 200, body = VersionDiff),
    (status = 400, description = "The id is not a UUID, or a version is missing or not a number", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "The server does not hold one of the two versions", body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn diff(
    State(state): State<AppState>,
    Reviewer(reader): Reviewer,
    client: ClientAddr,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<DiffParams>,
) -> Result<ApiJson<VersionDiff>, ApiError> {
    let review =
        state.store.encounter_review(id).await?.ok_or_else(|| ApiError::not_found(format!("encounter {id}")))?;
    let body = |version: u32| {
        review
            .versions
            .iter()
            .find(|v| v.version == version)
            .map(|v| &v.body)
            .ok_or_else(|| ApiError::not_found(format!("encounter {id} v{version}")))
    };
    let changes = crate::review_diff::diff(body(params.from)?, body(params.to)?);
    report_read(&state, &reader, client, id).await?;
    Ok(ApiJson(VersionDiff { encounter_id: id, from: params.from, to: params.to, changes }))
}

/// Admin: every conflict (same id and version pushed with other content), both copies.
#[utoipa::path(get, path = "/v1/admin/conflicts", security(("bearer" = [])), responses(
    (status = 200, body = Vec<ConflictPair>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn conflicts(
    State(state): State<AppState>,
    AdminCaller(reader): AdminCaller,
    client: ClientAddr,
) -> Result<ApiJson<Vec<ConflictPair>>, ApiError> {
    let pairs = state.store.conflict_pairs().await?;
    for pair in &pairs {
        report_read(&state, &reader, client, pair.encounter_id).await?;
    }
    Ok(ApiJson(pairs))
}

/// Counts to watch: conflicts held, reports waiting for review.
#[utoipa::path(get, path = "/v1/metrics", security(("bearer" = [])), responses(
    (status = 200, body = Metrics),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn metrics(State(state): State<AppState>, _reviewer: Reviewer) -> Result<ApiJson<Metrics>, ApiError> {
    Ok(ApiJson(state.store.review_metrics().await?))
}
