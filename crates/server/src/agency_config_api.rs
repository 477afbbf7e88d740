//! The agency configuration's endpoints: the newest version for every signed-in user and device,
//! and, for admins, saving a new version and the history.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use waypoint_core::vocab::{self, AgencyConfig};
use waypoint_protocol::{
    AgencyConfigCheck, AgencyConfigRecord, AgencyConfigSaved, AgencyConfigVersion, CodesInUse, ErrorBody,
    SaveAgencyConfig, VocabularyCode, ERROR_CODES_IN_USE, ERROR_STALE_CONFIG,
};

use crate::agency_config::{self as config_store, codes_in_use, distinct_codes, unused_mapping};
use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::{AdminCaller, Caller};
use crate::error::{ApiError, ApiJson};
use crate::AppState;

/// Longest note kept with a version.
const MAX_NOTE_CHARS: usize = 500;

/// The agency configuration in force: its version and the whole document (the core's
/// `AgencyConfig`). For any signed-in user or enrolled device.
#[utoipa::path(get, path = "/v1/agency/config", security(("bearer" = [])), responses(
    (status = 200, body = AgencyConfigVersion),
    (status = 401, body = ErrorBody),
))]
pub async fn current(State(state): State<AppState>, _caller: Caller) -> Result<ApiJson<AgencyConfigVersion>, ApiError> {
    let (record, _) = config_store::newest(&state.store).await?;
    Ok(ApiJson(AgencyConfigVersion { version: record.version, config: record.config }))
}

/// Every saved version, newest first, with who saved it, when, and the mapping it carried.
#[utoipa::path(get, path = "/v1/admin/config/versions", security(("bearer" = [])), responses(
    (status = 200, body = Vec<AgencyConfigRecord>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn versions(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<AgencyConfigRecord>>, ApiError> {
    config_store::newest(&state.store).await?; // version 1 is listed even before anything was saved
    Ok(ApiJson(state.store.agency_config_history().await?))
}

/// Saves a new version of the agency configuration and broadcasts it to every device. Checked
/// by the core's rules; refused (409 `codes_in_use`, with the reports) while stored reports use a
/// code the change takes away, unless `mapping` maps each such code to a current one. Reports are
/// never rewritten: a mapped code keeps its place in them and reads with its new code's label.
#[utoipa::path(put, path = "/v1/admin/config", request_body = SaveAgencyConfig, security(("bearer" = [])), responses(
    (status = 200, body = AgencyConfigSaved),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 409, description = "`codes_in_use`: stored reports use codes the change removes, listed", body = CodesInUse),
    (status = 412, description = "`stale_config`: another version was saved since `base_version`", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "Not a valid configuration, or a mapping that names codes the change does not remove", body = ErrorBody),
))]
pub async fn save(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiJson(request): ApiJson<SaveAgencyConfig>,
) -> Result<Response, ApiError> {
    let event = AuditEvent::new(admin.clone(), action::AGENCY_CONFIG_SAVED, outcome::OK).from(client);
    let judged = match judge(&state, &request).await? {
        Ok(judged) => judged,
        Err(error) => {
            audit::record(&state.store, event.with_outcome(outcome::FAILED, error.message.clone())).await?;
            return Err(error);
        }
    };
    let event = event.target(format!("agency configuration version {}", judged.next.config_version));
    if let Some(in_use) = judged.in_use {
        audit::record(&state.store, event.with_outcome(outcome::FAILED, in_use.message.clone())).await?;
        return Ok((StatusCode::CONFLICT, axum::Json(in_use)).into_response());
    }
    let next = judged.next;
    let record = AgencyConfigRecord {
        version: next.config_version,
        saved_at: Utc::now(),
        saved_by: admin.clone(),
        mapping: request.mapping.clone(),
        note: request.note.clone(),
        config: serde_json::to_value(&next).map_err(|e| ApiError::internal(e.to_string()))?,
    };
    let detail = describe_change(&judged.previous_config, &next, &request);
    let saved = audit::recorded(
        &state.store,
        event.clone().detail(detail),
        state.store.save_agency_config(judged.previous.version, record),
    )
    .await?;
    let Some(feed_seq) = saved else {
        let error = ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            ERROR_STALE_CONFIG,
            "another version was saved at the same time: reload it and make the change again",
        );
        audit::record(&state.store, event.with_outcome(outcome::FAILED, error.message.clone())).await?;
        return Err(error);
    };
    tracing::info!(version = next.config_version, admin, "agency configuration saved");
    Ok(ApiJson(AgencyConfigSaved { version: next.config_version, feed_seq }).into_response())
}

/// What saving would do, without saving: the version it would make, the codes it takes away,
/// and the stored reports that use them (a non-empty list means the save would be refused). The
/// console shows this before saving, with a mapping form for each code in use.
#[utoipa::path(post, path = "/v1/admin/config/check", request_body = SaveAgencyConfig, security(("bearer" = [])), responses(
    (status = 200, body = AgencyConfigCheck),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 412, description = "`stale_config`: another version was saved since `base_version`", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "Not a valid configuration, or a mapping that names codes the change does not remove", body = ErrorBody),
))]
pub async fn check(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiJson(request): ApiJson<SaveAgencyConfig>,
) -> Result<ApiJson<AgencyConfigCheck>, ApiError> {
    let judged = judge(&state, &request).await??;
    let (codes_in_use, reports, total) = match judged.in_use {
        Some(in_use) => (in_use.codes, in_use.reports, in_use.total),
        None => (Vec::new(), Vec::new(), 0),
    };
    // The listing names reports (ids and codes, no content): in the trail like a read.
    audit::record(
        &state.store,
        AuditEvent::new(admin, action::AGENCY_CONFIG_CHECKED, outcome::OK)
            .from(client)
            .target(format!("agency configuration version {}", judged.next.config_version))
            .detail(format!("{} codes removed, {total} uses in stored reports", judged.removed.len())),
    )
    .await?;
    Ok(ApiJson(AgencyConfigCheck {
        version: judged.next.config_version,
        removed: judged.removed,
        codes_in_use,
        reports,
        total,
    }))
}

/// A change judged: the version it builds on and the one it would make, and, when stored
/// reports use codes it takes away, the refusal.
struct Judged {
    previous: AgencyConfigRecord,
    previous_config: AgencyConfig,
    next: AgencyConfig,
    removed: Vec<VocabularyCode>,
    in_use: Option<CodesInUse>,
}

/// Checks a requested change (the outer error is the server's; the inner, the request's).
async fn judge(state: &AppState, request: &SaveAgencyConfig) -> Result<Result<Judged, ApiError>, ApiError> {
    let (previous, previous_config) = config_store::newest(&state.store).await?;
    if let Some(base) = request.base_version.filter(|base| *base != previous.version) {
        return Ok(Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            ERROR_STALE_CONFIG,
            format!("version {} was saved since version {base}: reload it and make the change again", previous.version),
        )));
    }
    if request.note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS || n.chars().any(char::is_control)) {
        return Ok(Err(
            ApiError::invalid(format!("note: at most {MAX_NOTE_CHARS} printable characters")).on_field("note")
        ));
    }
    let edited: AgencyConfig = match serde_json::from_value(request.config.clone()) {
        Ok(config) => config,
        Err(error) => {
            return Ok(Err(ApiError::invalid(format!("not a valid configuration: {error}")).on_field("config")))
        }
    };
    let unused = unused_mapping(&previous_config, &request.mapping);
    if !unused.is_empty() {
        return Ok(Err(ApiError::invalid(format!(
            "mapping names codes the configuration does not have: {}",
            unused.join(", ")
        ))
        .on_field("mapping")));
    }
    let next = match previous_config.successor(edited, previous.version + 1, &request.mapping) {
        Ok(next) => next,
        // The device policy names its own field (`device_policy.auto_lock_minutes`).
        Err(error) => {
            let field = vocab::refused_field(&error).unwrap_or("config");
            return Ok(Err(ApiError::invalid(error.to_string()).on_field(field)));
        }
    };
    let orphaned = vocab::orphaned_codes(&previous_config, &next);
    let removed = orphaned.iter().map(|(v, c)| VocabularyCode { vocabulary: v.clone(), code: c.clone() }).collect();
    let mut in_use = None;
    if !orphaned.is_empty() {
        let (reports, total) = codes_in_use(&state.store, &orphaned).await?;
        if total > 0 {
            let codes = distinct_codes(&reports);
            let named: Vec<String> = codes.iter().map(|c| format!("{}.{}", c.vocabulary, c.code)).collect();
            let message = format!(
                "{total} uses in stored reports of codes this change removes ({}): keep the codes, or map each to a current code",
                named.join(", ")
            );
            in_use = Some(CodesInUse { error: ERROR_CODES_IN_USE.into(), message, codes, reports, total });
        }
    }
    Ok(Ok(Judged { previous, previous_config, next, removed, in_use }))
}

/// One line for the trail: what the change does, counted.
fn describe_change(previous: &AgencyConfig, next: &AgencyConfig, request: &SaveAgencyConfig) -> String {
    let mut added = 0;
    let mut relabelled = 0;
    for name in vocab::VOCABULARIES {
        for term in next.terms(name) {
            match previous.terms(name).iter().find(|t| t.code == term.code) {
                None => added += 1,
                Some(old) if old.label != term.label => relabelled += 1,
                Some(_) => {}
            }
        }
    }
    let removed = vocab::orphaned_codes(previous, next).len();
    let mapped: usize = request.mapping.values().map(|m| m.len()).sum();
    let required =
        if previous.required_on_submit == next.required_on_submit { "" } else { "; required fields changed" };
    let policy = if previous.device_policy == next.device_policy { "" } else { "; device policy changed" };
    format!("{added} codes added, {relabelled} relabelled, {removed} removed, {mapped} mapped{required}{policy}")
}
