//! CIT training records (admins): each officer's CIT courses, initial and refreshers. The
//! outcome figures compare them with the officers' own "CIT-certified" answers. Every change is
//! audited.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use waypoint_protocol::{ErrorBody, NewTraining, OfficerTraining, TrainingRecord};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::AdminCaller;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::store::StoreError;
use crate::AppState;

/// The longest course name kept.
const MAX_COURSE_CHARS: usize = 200;

#[derive(Debug, Deserialize, IntoParams)]
pub struct TrainingQuery {
    /// Only this officer's courses (username).
    pub username: Option<String>,
}

/// Every recorded course, by officer and day.
#[utoipa::path(get, path = "/v1/admin/training", params(TrainingQuery), security(("bearer" = [])), responses(
    (status = 200, body = Vec<TrainingRecord>),
    (status = 400, description = "A parameter is malformed", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn list(
    State(state): State<AppState>,
    _admin: AdminCaller,
    ApiQuery(query): ApiQuery<TrainingQuery>,
) -> Result<ApiJson<Vec<TrainingRecord>>, ApiError> {
    let username = query.username.as_deref().map(str::trim).filter(|u| !u.is_empty());
    Ok(ApiJson(state.store.training(username).await?))
}

/// Each officer's and supervisor's training as the coverage figures read it: trained since their
/// first initial course, refreshers; and any other user with records.
#[utoipa::path(get, path = "/v1/admin/training/summary", security(("bearer" = [])), responses(
    (status = 200, body = Vec<OfficerTraining>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn summary(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<OfficerTraining>>, ApiError> {
    let officer_ids: std::collections::HashMap<String, String> = state.store.officer_ids().await?.into_iter().collect();
    let users: Vec<(String, waypoint_protocol::Role, String)> = state
        .store
        .user_accounts()
        .await?
        .into_iter()
        .map(|account| {
            let officer_id = officer_ids.get(&account.username).cloned().unwrap_or_else(|| account.username.clone());
            (account.username, account.role, officer_id)
        })
        .collect();
    let records = state.store.training(None).await?;
    Ok(ApiJson(crate::store::training::summaries(&users, &records)))
}

/// Records a course an officer completed.
#[utoipa::path(post, path = "/v1/admin/training", request_body = NewTraining, security(("bearer" = [])), responses(
    (status = 201, body = TrainingRecord),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "No such user, no course name, or a day in the future (`field` names it)", body = ErrorBody),
))]
pub async fn add(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiJson(mut training): ApiJson<NewTraining>,
) -> Result<(StatusCode, ApiJson<TrainingRecord>), ApiError> {
    training.username = training.username.trim().to_string();
    training.course = training.course.trim().to_string();
    if training.course.is_empty() || training.course.chars().count() > MAX_COURSE_CHARS {
        return Err(
            ApiError::invalid(format!("name the course in 1 to {MAX_COURSE_CHARS} characters")).on_field("course")
        );
    }
    let earliest = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    if training.completed_on > Utc::now().date_naive() || training.completed_on < earliest {
        return Err(ApiError::invalid("completed_on: a day from 1970 to today (YYYY-MM-DD)").on_field("completed_on"));
    }
    let event = AuditEvent::new(admin.clone(), action::TRAINING_RECORDED, outcome::OK)
        .from(client)
        .target(format!("user {}", training.username))
        .detail(format!("{} {} {}", training.kind.as_str(), training.completed_on, training.course));
    let id = audit::recorded(&state.store, event, state.store.add_training(&training, &admin, Utc::now()))
        .await
        .map_err(|error| match error {
            StoreError::NotFound(what) => ApiError::invalid(format!("{what}: add the user first")).on_field("username"),
            other => other.into(),
        })?;
    let record = state
        .store
        .training(Some(&training.username))
        .await?
        .into_iter()
        .find(|record| record.id == id)
        .ok_or_else(|| ApiError::internal("the new training record is not listed"))?;
    Ok((StatusCode::CREATED, ApiJson(record)))
}

/// Removes a record entered by mistake (the audit trail keeps what it said).
#[utoipa::path(post, path = "/v1/admin/training/{id}/delete", params(("id" = u64, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Removed"),
    (status = 400, description = "The id is not a number", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "No such record", body = ErrorBody),
))]
pub async fn delete(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(id): ApiPath<u64>,
) -> Result<StatusCode, ApiError> {
    let existing = state.store.training(None).await?.into_iter().find(|record| record.id == id);
    let Some(existing) = existing else {
        return Err(ApiError::not_found(format!("no training record {id}")));
    };
    let event = AuditEvent::new(admin, action::TRAINING_REMOVED, outcome::OK)
        .from(client)
        .target(format!("user {}", existing.username))
        .detail(format!("{} {} {}", existing.kind.as_str(), existing.completed_on, existing.course));
    audit::record(&state.store, event.clone()).await?;
    if !state.store.delete_training(id).await? {
        // Removed by someone else in between: the trail says this removal did not happen.
        audit::record(&state.store, event.with_outcome(outcome::FAILED, "removed already")).await?;
        return Err(ApiError::not_found(format!("no training record {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}
