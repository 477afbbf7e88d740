//! The audit trail in the admin console: browse with filters (newest first, cursor paging),
//! verify the chain (what `waypoint-server audit verify` does), export. Each of these is itself
//! recorded in the trail, before it reads.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use waypoint_protocol::{AuditEntry, AuditPage, AuditVerification, ErrorBody};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr, Verdict};
use crate::auth::AdminCaller;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::export::spreadsheet_safe;
use crate::store::admin::AuditFilter;
use crate::store::audit::AuditRow;
use crate::AppState;

/// Rows a page holds unless `limit` says fewer.
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 500;

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// A date (`2026-12-01`) or an RFC 3339 time. A date as an upper bound means the end of that day.
pub fn parse_bound(name: &str, text: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| bad_request(format!("{name} must be a date (YYYY-MM-DD) or an RFC 3339 time")))?;
    let date = if end_of_day { date.succ_opt().unwrap_or(date) } else { date };
    Ok(date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
}

/// A filter's value, when it says something (the console sends empty fields).
fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// As the trail stores times, so text comparison orders them.
fn stored_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn entry(row: AuditRow) -> AuditEntry {
    let AuditRow { seq, at, actor, client, action, target, outcome, detail, prev_hash, hash } = row;
    AuditEntry { seq, at, actor, client, action, target, outcome, detail, prev_hash, hash }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Exactly this actor (a username, a device id, `cli`, `anonymous`).
    pub actor: Option<String>,
    /// Exactly this action (`sign_in`, `review_decision`, ...).
    pub action: Option<String>,
    /// `ok`, `failed`, `error` or `flagged`.
    pub outcome: Option<String>,
    /// Text anywhere in the target, any case.
    pub target: Option<String>,
    /// At or after this date or RFC 3339 time.
    pub from: Option<String>,
    /// Before this RFC 3339 time, or up to the end of this date.
    pub to: Option<String>,
    /// Rows older than this seq: the `next_before` of the page before.
    pub before: Option<u64>,
    /// Rows per page (default 100, at most 500).
    pub limit: Option<usize>,
}

/// Browse the audit trail, newest first (the read itself is recorded first).
#[utoipa::path(get, path = "/v1/admin/audit", params(AuditQuery), security(("bearer" = [])), responses(
    (status = 200, body = AuditPage),
    (status = 400, description = "A query parameter is not a number, date or time", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn browse(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<ApiJson<AuditPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let from = given(query.from).map(|t| parse_bound("from", &t, false)).transpose()?;
    let to = given(query.to).map(|t| parse_bound("to", &t, true)).transpose()?;
    let filter = AuditFilter {
        actor: given(query.actor),
        action: given(query.action),
        outcome: given(query.outcome),
        target: given(query.target),
        from: from.map(stored_time),
        to: to.map(stored_time),
        before: query.before,
        limit: limit + 1,
    };
    let event = AuditEvent::new(admin, action::AUDIT_READ, outcome::OK)
        .from(client)
        .target("audit trail")
        .detail(describe(&filter, limit));
    audit::record(&state.store, event).await?;
    let mut rows = state.store.search_audit(&filter).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_before = if more { rows.last().map(|r| r.seq) } else { None };
    Ok(ApiJson(AuditPage { entries: rows.into_iter().map(entry).collect(), next_before }))
}

/// The filters of a read, as its audit row's detail: `action=sign_in, before 120, 100 rows`.
fn describe(filter: &AuditFilter, limit: usize) -> String {
    let mut parts: Vec<String> = [
        ("actor", &filter.actor),
        ("action", &filter.action),
        ("outcome", &filter.outcome),
        ("target", &filter.target),
        ("from", &filter.from),
        ("to", &filter.to),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={v}")))
    .collect();
    if let Some(before) = filter.before {
        parts.push(format!("before {before}"));
    }
    parts.push(format!("{limit} rows"));
    parts.join(", ")
}

/// Walks the whole chain, as `waypoint-server audit verify` does.
#[utoipa::path(get, path = "/v1/admin/audit/verify", security(("bearer" = [])), responses(
    (status = 200, description = "The verdict (a broken chain is a 200 with `intact: false`)", body = AuditVerification),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn verify(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
) -> Result<ApiJson<AuditVerification>, ApiError> {
    let event = AuditEvent::new(admin, action::AUDIT_VERIFY, outcome::OK).from(client).target("audit trail");
    audit::record(&state.store, event).await?;
    Ok(ApiJson(match audit::verify(&state.store).await? {
        Verdict::Intact { rows, head_hash } => {
            AuditVerification { intact: true, rows, head_hash: Some(head_hash), broken_at: None, reason: None }
        }
        Verdict::Broken { seq, reason } => {
            tracing::error!(seq, %reason, "audit trail broken");
            AuditVerification { intact: false, rows: 0, head_hash: None, broken_at: Some(seq), reason: Some(reason) }
        }
    }))
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    #[default]
    Json,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
        }
    }
}

/// A download: the body with its type and a file name.
pub fn attachment(format: ExportFormat, name: &str, body: Vec<u8>) -> Response {
    let disposition =
        format!("attachment; filename=\"{name}-{}.{}\"", Utc::now().format("%Y%m%dT%H%M%SZ"), format.extension());
    ([(header::CONTENT_TYPE, format.content_type().to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditExportQuery {
    /// Rows at or after this date or RFC 3339 time (default: all).
    pub since: Option<String>,
    /// `json` (default: an array of rows) or `csv`.
    #[serde(default)]
    #[param(inline)]
    pub format: ExportFormat,
}

/// Every row of the trail since a time, as a download (recorded before a byte is read).
#[utoipa::path(get, path = "/v1/admin/audit/export", params(AuditExportQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The rows, oldest first (`Content-Disposition: attachment`)", content(
        (Vec<AuditEntry> = "application/json"), (String = "text/csv"),
    )),
    (status = 400, description = "A query parameter is not a date, a time or a format", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn export(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiQuery(query): ApiQuery<AuditExportQuery>,
) -> Result<Response, ApiError> {
    const PAGE: usize = 2000;
    let since = given(query.since).map(|t| parse_bound("since", &t, false)).transpose()?;
    let since_text = since.map(stored_time).unwrap_or_default();
    let event = AuditEvent::new(admin, action::AUDIT_EXPORT, outcome::OK)
        .from(client)
        .target("audit trail")
        .detail(format!("{:?}, since {}", query.format, if since_text.is_empty() { "the start" } else { &since_text }));
    audit::record(&state.store, event).await?;
    let mut rows = Vec::new();
    let mut after = 0;
    loop {
        let page = state.store.audit_rows(after, PAGE).await?;
        let full = page.len() == PAGE;
        after = page.last().map_or(after, |r| r.seq);
        rows.extend(page.into_iter().filter(|r| r.at >= since_text).map(entry));
        if !full {
            break;
        }
    }
    let body = match query.format {
        ExportFormat::Json => serde_json::to_vec(&rows).map_err(|e| ApiError::internal(e.to_string()))?,
        ExportFormat::Csv => audit_csv(&rows).map_err(|e| ApiError::internal(e.to_string()))?,
    };
    Ok(attachment(query.format, "waypoint-audit", body))
}

fn audit_csv(rows: &[AuditEntry]) -> anyhow::Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["seq", "at", "actor", "client", "action", "target", "outcome", "detail", "prev_hash", "hash"])?;
    for r in rows {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let row = [
            r.seq.to_string(),
            r.at.clone(),
            r.actor.clone(),
            opt(&r.client),
            r.action.clone(),
            opt(&r.target),
            r.outcome.clone(),
            opt(&r.detail),
            r.prev_hash.clone(),
            r.hash.clone(),
        ];
        // Actors and targets come from what users type (a username at sign-in).
        csv.write_record(row.map(spreadsheet_safe))?;
    }
    Ok(csv.into_inner()?)
}
