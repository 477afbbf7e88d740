//! The directory's admin endpoints: the imports and their reports, a search over the services
//! with their local facts, setting or clearing a service's local facts (audited, published to
//! devices at once), and where local facts and the listing disagree. Capacity updates stay at
//! `POST /v1/directory/capacity`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use waypoint_directory::local_facts;
use waypoint_protocol::{
    DirectoryConflict, DirectoryImportInfo, DirectoryServiceInfo, ErrorBody, LocalFacts, LocalFactsRecord,
    LocalFactsSaved,
};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::AdminCaller;
use crate::directory_local::{self, listed_document, with_directory};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::AppState;

const NO_DIRECTORY: &str = "the server has no directory yet: import one with `waypoint-server directory import`";

/// The local fact a refusal's dotted path (`hours.periods.0.days`) is about, for [`ApiError::on_field`]
/// (the message keeps the whole path).
fn fact_field(path: &str) -> &'static str {
    match path.split('.').next().unwrap_or("") {
        "accepts_dropoffs" => "accepts_dropoffs",
        "hours" => "hours",
        "intake_phone" => "intake_phone",
        "officer_note" => "officer_note",
        _ => "facts",
    }
}

fn internal(error: anyhow::Error) -> ApiError {
    tracing::error!("directory: {error:#}");
    ApiError::internal("directory error")
}

/// A service id as a path segment: what import ids look like, nothing else.
fn checked_service_id(id: &str) -> Result<&str, ApiError> {
    let ok = !id.is_empty() && id.len() <= 100 && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    ok.then_some(id).ok_or_else(|| ApiError::not_found("no such service"))
}

/// The last 50 directory imports, newest first: what was imported, when, and the report.
#[utoipa::path(get, path = "/v1/admin/directory/imports", security(("bearer" = [])), responses(
    (status = 200, body = Vec<DirectoryImportInfo>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn imports(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<DirectoryImportInfo>>, ApiError> {
    Ok(ApiJson(state.store.directory_imports(50).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ServiceSearch {
    /// Words of the name, organization or city.
    pub q: String,
    /// At most this many services (1 to 100, default 25).
    pub limit: Option<u32>,
}

/// Services whose name, organization or city matches, with their local facts.
#[utoipa::path(get, path = "/v1/admin/directory/services", params(ServiceSearch), security(("bearer" = [])), responses(
    (status = 200, body = Vec<DirectoryServiceInfo>),
    (status = 400, description = "A query parameter is missing or out of range", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn search_services(
    State(state): State<AppState>,
    _admin: AdminCaller,
    ApiQuery(query): ApiQuery<ServiceSearch>,
) -> Result<ApiJson<Vec<DirectoryServiceInfo>>, ApiError> {
    let limit = query.limit.unwrap_or(25).clamp(1, 100);
    let text: String = query.q.chars().take(200).collect();
    let found = with_directory(directory_local::data_dir(&state.settings), move |directory| {
        Ok(directory
            .find_services(&text, limit)?
            .into_iter()
            .map(|found| DirectoryServiceInfo {
                service_id: found.service_id,
                name: found.name,
                organization: found.organization,
                address: found.city,
                listed_dropoffs: found.law_enforcement_dropoff,
                local: None,
            })
            .collect::<Vec<_>>())
    })
    .await
    .map_err(internal)?
    .unwrap_or_default();
    let mut found = found;
    for service in &mut found {
        service.local = state.store.local_facts(&service.service_id).await?;
    }
    Ok(ApiJson(found))
}

/// One service's local facts (404 when it has none).
#[utoipa::path(get, path = "/v1/admin/directory/services/{service_id}/local-facts", params(("service_id" = String, Path)), security(("bearer" = [])), responses(
    (status = 200, body = LocalFactsRecord),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
pub async fn get_local_facts(
    State(state): State<AppState>,
    _admin: AdminCaller,
    ApiPath(service_id): ApiPath<String>,
) -> Result<ApiJson<LocalFactsRecord>, ApiError> {
    let service_id = checked_service_id(&service_id)?;
    state
        .store
        .local_facts(service_id)
        .await?
        .map(ApiJson)
        .ok_or_else(|| ApiError::not_found("no local facts for this service"))
}

/// Sets a service's local facts (all of them: a field left out is not known locally) and
/// publishes the service's new document to every device. Kept apart from the national data:
/// a re-import keeps them. An empty body (`{}`) clears them.
#[utoipa::path(put, path = "/v1/admin/directory/services/{service_id}/local-facts", params(("service_id" = String, Path)), request_body = LocalFacts, security(("bearer" = [])), responses(
    (status = 200, body = LocalFactsSaved),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "The directory has no such service", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit (after decompression)", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "A fact is not valid (the message names it)", body = ErrorBody),
))]
pub async fn put_local_facts(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(service_id): ApiPath<String>,
    ApiJson(facts): ApiJson<LocalFacts>,
) -> Result<ApiJson<LocalFactsSaved>, ApiError> {
    let service_id = checked_service_id(&service_id)?.to_string();
    let event = AuditEvent::new(admin.clone(), action::DIRECTORY_LOCAL_FACTS, outcome::OK)
        .from(client)
        .target(format!("service {service_id}"));
    let facts = match local_facts::check(&facts) {
        Ok(facts) => facts,
        Err(problem) => {
            let message = format!("{}: {}", problem.field, problem.message);
            audit::record(&state.store, event.with_outcome(outcome::FAILED, message.clone())).await?;
            return Err(ApiError::invalid(message).on_field(fact_field(&problem.field)));
        }
    };
    let id = service_id.clone();
    let listed = with_directory(directory_local::data_dir(&state.settings), move |d| listed_document(d, &id))
        .await
        .map_err(internal)?
        .flatten();
    let Some(mut document) = listed else {
        audit::record(&state.store, event.with_outcome(outcome::FAILED, "no such service in the directory")).await?;
        return Err(ApiError::not_found("the directory has no such service"));
    };
    let detail = describe(&facts);
    if facts.is_empty() {
        audit::recorded(&state.store, event.detail("cleared"), state.store.clear_local_facts(&service_id)).await?;
    } else {
        let record = LocalFactsRecord {
            service_id: service_id.clone(),
            facts: facts.clone(),
            updated_at: Utc::now(),
            updated_by: admin,
        };
        audit::recorded(&state.store, event.detail(detail), state.store.put_local_facts(record)).await?;
        local_facts::overlay(&mut document, &facts);
    }
    let feed_seq = crate::directory_feed::publish_upserts(&state.store, vec![document]).await.map_err(internal)?;
    Ok(ApiJson(LocalFactsSaved { feed_seq }))
}

/// What the trail says of a set of facts (which are set, not their words).
fn describe(facts: &LocalFacts) -> String {
    let mut parts = Vec::new();
    if let Some(yes) = facts.accepts_dropoffs {
        parts.push(format!("drop-offs {}", if yes { "yes" } else { "no" }));
    }
    match &facts.hours {
        Some(waypoint_protocol::LocalHours::AlwaysOpen) => parts.push("open 24/7".into()),
        Some(waypoint_protocol::LocalHours::Weekly { periods, .. }) => {
            parts.push(format!("{} weekly periods", periods.len()))
        }
        None => {}
    }
    if facts.intake_phone.is_some() {
        parts.push("intake phone".into());
    }
    if facts.officer_note.is_some() {
        parts.push("note for officers".into());
    }
    if parts.is_empty() {
        "cleared".into()
    } else {
        parts.join(", ")
    }
}

/// Services whose local facts and listing disagree, or whose listing the last import withdrew.
#[utoipa::path(get, path = "/v1/admin/directory/conflicts", security(("bearer" = [])), responses(
    (status = 200, body = Vec<DirectoryConflict>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "The server has no directory yet", body = ErrorBody),
))]
pub async fn conflicts(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<DirectoryConflict>>, ApiError> {
    let facts = state.store.all_local_facts().await?;
    if facts.is_empty() {
        return Ok(ApiJson(Vec::new()));
    }
    let found =
        with_directory(directory_local::data_dir(&state.settings), move |d| directory_local::conflicts(d, &facts))
            .await
            .map_err(internal)?;
    found.map(ApiJson).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", NO_DIRECTORY))
}
