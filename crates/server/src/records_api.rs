//! The agency records feed (`GET /v1/records/encounters`, records-system credentials only) and
//! its admin endpoints: the records system's credentials and the webhook endpoints with their
//! deliveries. Every feed page and every admin change is audited.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use waypoint_protocol::{
    DeliveryState, ErrorBody, NewRecordsCredential, NewWebhook, RecordsCredentialCreated, RecordsCredentialInfo,
    RecordsPage, WebhookCreated, WebhookDeliveryInfo, WebhookInfo,
};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::auth::{self, AdminCaller, RecordsReader};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::store::StoreError;
use crate::{records, webhooks, AppState};

/// Page size in bytes when the request names none, and the bounds a request is clamped to.
const DEFAULT_PAGE_BYTES: usize = 1024 * 1024;
const MIN_PAGE_BYTES: usize = 1024;
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;
/// Deliveries listed at most.
const MAX_DELIVERIES: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
pub struct RecordsQuery {
    /// The `cursor` of the last page processed (0 at first).
    #[serde(default)]
    pub after: u64,
    /// Page size in bytes of JSON (clamped to 1 KiB .. 8 MiB; default 1 MiB). A page holds at
    /// least one event.
    pub max_bytes: Option<usize>,
}

/// Approved reports and their amendments since a cursor, oldest first: each event with every
/// version of its report up to the one approved, with their bodies and review history. Events
/// never change; read until `more` is false and keep the last `cursor`.
#[utoipa::path(get, path = "/v1/records/encounters", params(RecordsQuery), security(("bearer" = [])), responses(
    (status = 200, body = RecordsPage),
    (status = 400, description = "A parameter is malformed or out of range", body = ErrorBody),
    (status = 401, description = "No credential, or an unknown or revoked one", body = ErrorBody),
    (status = 403, description = "Not a records-system credential", body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn encounters(
    State(state): State<AppState>,
    RecordsReader(reader): RecordsReader,
    client: ClientAddr,
    ApiQuery(query): ApiQuery<RecordsQuery>,
) -> Result<ApiJson<RecordsPage>, ApiError> {
    // Feed positions are stored as signed 64-bit integers.
    if query.after > i64::MAX as u64 {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "after is out of range"));
    }
    let max_bytes = query.max_bytes.unwrap_or(DEFAULT_PAGE_BYTES).clamp(MIN_PAGE_BYTES, MAX_PAGE_BYTES);
    let page = records::page(&state.store, query.after, max_bytes).await?;
    let encounters: Vec<String> =
        page.events.iter().map(|event| format!("{} v{}", event.encounter_id, event.version)).collect();
    // In the trail before it is sent: which reports went to the records system.
    let event = AuditEvent::new(reader, action::RECORDS_READ, outcome::OK)
        .from(client)
        .target(format!("records after {}", query.after))
        .detail(format!("{} events: {}", page.events.len(), encounters.join(", ")));
    audit::record(&state.store, event).await?;
    Ok(ApiJson(page))
}

/// A credential name: what the trail and the list show.
fn check_name(name: &str) -> Result<(), ApiError> {
    let good =
        (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if good {
        Ok(())
    } else {
        Err(ApiError::invalid("name: use 1 to 64 letters, digits, `-` or `_`").on_field("name"))
    }
}

/// The records system's credentials.
#[utoipa::path(get, path = "/v1/admin/records/credentials", security(("bearer" = [])), responses(
    (status = 200, body = Vec<RecordsCredentialInfo>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn list_credentials(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<RecordsCredentialInfo>>, ApiError> {
    Ok(ApiJson(state.store.api_credentials().await?))
}

/// Issues a credential for the agency's records system: it reads `GET /v1/records/encounters`
/// and nothing else. The token is in this answer only.
#[utoipa::path(post, path = "/v1/admin/records/credentials", request_body = NewRecordsCredential, security(("bearer" = [])), responses(
    (status = 201, body = RecordsCredentialCreated),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 409, description = "A credential of that name exists (revoked ones too)", body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The name is not 1 to 64 letters, digits, `-` or `_`", body = ErrorBody),
))]
pub async fn create_credential(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiJson(request): ApiJson<NewRecordsCredential>,
) -> Result<(StatusCode, ApiJson<RecordsCredentialCreated>), ApiError> {
    check_name(&request.name)?;
    let token = auth::new_records_token();
    let event = AuditEvent::new(admin.clone(), action::RECORDS_CREDENTIAL_ISSUED, outcome::OK)
        .from(client)
        .target(format!("records credential {}", request.name));
    audit::recorded(
        &state.store,
        event,
        state.store.add_api_credential(&request.name, &auth::token_hash(&token), &admin, Utc::now()),
    )
    .await
    .map_err(|error| match error {
        StoreError::AlreadyExists(what) => {
            ApiError::new(StatusCode::CONFLICT, "already_exists", format!("{what}: choose another name"))
                .on_field("name")
        }
        other => other.into(),
    })?;
    Ok((StatusCode::CREATED, ApiJson(RecordsCredentialCreated { name: request.name, token })))
}

/// Revokes a records-system credential: it stops working at once.
#[utoipa::path(post, path = "/v1/admin/records/credentials/{name}/revoke", params(("name" = String, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Revoked"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "No such credential, or revoked already", body = ErrorBody),
))]
pub async fn revoke_credential(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let event = AuditEvent::new(admin, action::RECORDS_CREDENTIAL_REVOKED, outcome::OK)
        .from(client)
        .target(format!("records credential {name}"));
    audit::record(&state.store, event.clone()).await?;
    if !state.store.revoke_api_credential(&name, Utc::now()).await? {
        audit::record(&state.store, event.with_outcome(outcome::FAILED, "no such live credential")).await?;
        return Err(ApiError::not_found(format!("no live records credential named `{name}`")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The webhook endpoints with their deliveries by state.
#[utoipa::path(get, path = "/v1/admin/webhooks", security(("bearer" = [])), responses(
    (status = 200, body = Vec<WebhookInfo>),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    _admin: AdminCaller,
) -> Result<ApiJson<Vec<WebhookInfo>>, ApiError> {
    Ok(ApiJson(state.store.webhooks().await?))
}

/// Registers an endpoint: every record event from now on is sent to it, signed with its secret
/// (Standard Webhooks). The secret is in this answer only.
#[utoipa::path(post, path = "/v1/admin/webhooks", request_body = NewWebhook, security(("bearer" = [])), responses(
    (status = 201, body = WebhookCreated),
    (status = 400, description = "The body is not JSON", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 413, description = "The body is larger than the server's limit", body = ErrorBody),
    (status = 415, description = "The body is not `Content-Type: application/json`", body = ErrorBody),
    (status = 422, description = "The URL is not https (or http to this machine), or the secret is malformed", body = ErrorBody),
))]
pub async fn create_webhook(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiJson(request): ApiJson<NewWebhook>,
) -> Result<(StatusCode, ApiJson<WebhookCreated>), ApiError> {
    let url = webhooks::check_url(request.url.trim()).map_err(|why| ApiError::invalid(why).on_field("url"))?;
    let secret = match request.secret.filter(|secret| !secret.trim().is_empty()) {
        Some(secret) => {
            webhooks::check_secret(secret.trim()).map_err(|why| ApiError::invalid(why).on_field("secret"))?;
            secret.trim().to_string()
        }
        None => webhooks::new_secret(),
    };
    let event = AuditEvent::new(admin.clone(), action::WEBHOOK_ADDED, outcome::OK)
        .from(client)
        .target(format!("webhook {url}"));
    let id = audit::recorded(&state.store, event, state.store.add_webhook(url.as_str(), &secret, &admin, Utc::now()))
        .await?;
    let webhook = state
        .store
        .webhooks()
        .await?
        .into_iter()
        .find(|webhook| webhook.id == id)
        .ok_or_else(|| ApiError::internal("the new webhook is not listed"))?;
    Ok((StatusCode::CREATED, ApiJson(WebhookCreated { webhook, secret })))
}

/// Stops sending to an endpoint: its waiting deliveries wait, and new events are not queued for
/// it (they are in the records feed).
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/disable", params(("id" = u64, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Disabled"),
    (status = 400, description = "The id is not a number", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "No such endpoint", body = ErrorBody),
))]
pub async fn disable_webhook(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(id): ApiPath<u64>,
) -> Result<StatusCode, ApiError> {
    set_webhook_enabled(&state, admin, client, id, false).await
}

/// Resumes sending to an endpoint: its waiting deliveries go out.
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/enable", params(("id" = u64, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Enabled"),
    (status = 400, description = "The id is not a number", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "No such endpoint", body = ErrorBody),
))]
pub async fn enable_webhook(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(id): ApiPath<u64>,
) -> Result<StatusCode, ApiError> {
    set_webhook_enabled(&state, admin, client, id, true).await
}

async fn set_webhook_enabled(
    state: &AppState,
    admin: String,
    client: ClientAddr,
    id: u64,
    enabled: bool,
) -> Result<StatusCode, ApiError> {
    let event = AuditEvent::new(admin, action::WEBHOOK_CHANGED, outcome::OK)
        .from(client)
        .target(format!("webhook {id}"))
        .detail(if enabled { "enabled" } else { "disabled" });
    audit::record(&state.store, event.clone()).await?;
    if id > i64::MAX as u64 || !state.store.set_webhook_enabled(id, enabled).await? {
        audit::record(&state.store, event.with_outcome(outcome::FAILED, "no such webhook")).await?;
        return Err(ApiError::not_found(format!("no webhook {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveriesQuery {
    /// Only deliveries in this state.
    pub state: Option<DeliveryState>,
    /// At most this many, newest first (default 100, at most 500).
    pub limit: Option<usize>,
}

/// Webhook deliveries, newest first: attempts, the last answer, the next try.
#[utoipa::path(get, path = "/v1/admin/webhooks/deliveries", params(DeliveriesQuery), security(("bearer" = [])), responses(
    (status = 200, body = Vec<WebhookDeliveryInfo>),
    (status = 400, description = "A parameter is malformed", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn deliveries(
    State(state): State<AppState>,
    _admin: AdminCaller,
    ApiQuery(query): ApiQuery<DeliveriesQuery>,
) -> Result<ApiJson<Vec<WebhookDeliveryInfo>>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_DELIVERIES);
    Ok(ApiJson(state.store.webhook_deliveries(query.state, limit).await?))
}

/// Sends a delivery again now, with a new retry window: a parked (failed) one after the
/// endpoint is fixed, or a delivered one the receiver lost.
#[utoipa::path(post, path = "/v1/admin/webhooks/deliveries/{id}/replay", params(("id" = u64, Path)), security(("bearer" = [])), responses(
    (status = 204, description = "Queued to be sent now"),
    (status = 400, description = "The id is not a number", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "No such delivery", body = ErrorBody),
))]
pub async fn replay_delivery(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiPath(id): ApiPath<u64>,
) -> Result<StatusCode, ApiError> {
    let event = AuditEvent::new(admin, action::WEBHOOK_REPLAYED, outcome::OK)
        .from(client)
        .target(format!("webhook delivery {id}"));
    audit::record(&state.store, event.clone()).await?;
    if id > i64::MAX as u64 || !state.store.replay_delivery(id, Utc::now()).await? {
        audit::record(&state.store, event.with_outcome(outcome::FAILED, "no such delivery")).await?;
        return Err(ApiError::not_found(format!("no webhook delivery {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}
