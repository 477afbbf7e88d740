//! `GET /v1/admin/export`: the encounter export of `waypoint-server export encounters` (same
//! records, same CSV with formula cells neutralised) with the console's filters, as a download.
//! Recorded in the audit trail, with its filters and counts, before a byte is sent.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use waypoint_protocol::ErrorBody;

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::audit_admin_api::{attachment, parse_bound, ExportFormat};
use crate::auth::AdminCaller;
use crate::error::{ApiError, ApiQuery};
use crate::export::{self, Format};
use crate::store::admin::ExportFilter;
use crate::AppState;

/// Review states an export can be narrowed to.
const STATES: [&str; 3] = ["submitted", "approved", "returned"];

#[derive(Debug, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// `json` (default) or `csv`.
    #[serde(default)]
    #[param(inline)]
    pub format: ExportFormat,
    /// Versions received at or after this date or RFC 3339 time.
    pub from: Option<String>,
    /// Versions received before this RFC 3339 time, or up to the end of this date.
    pub to: Option<String>,
    /// The officer (username or officer id) who pushed the version.
    pub officer: Option<String>,
    /// Encounters whose review state is now `submitted`, `approved` or `returned`.
    pub state: Option<String>,
}

fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Encounter versions with the filters given, as a CSV or JSON download (every version of the
/// matching encounters, conflicting copies marked as in the CLI export).
#[utoipa::path(get, path = "/v1/admin/export", params(ExportQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The export (`Content-Disposition: attachment`)", content(
        ("application/json"), (String = "text/csv"),
    )),
    (status = 400, description = "A query parameter is not a date, a time, a format or a review state", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
))]
pub async fn export(
    State(state): State<AppState>,
    AdminCaller(admin): AdminCaller,
    client: ClientAddr,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let review_state = given(query.state);
    if review_state.as_deref().is_some_and(|s| !STATES.contains(&s)) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "state must be submitted, approved or returned",
        ));
    }
    let filter = ExportFilter {
        from: given(query.from).map(|t| parse_bound("from", &t, false)).transpose()?,
        to: given(query.to).map(|t| parse_bound("to", &t, true)).transpose()?,
        officer: given(query.officer),
        state: review_state,
    };
    let versions = state.store.export_versions(&filter).await?;
    let conflicts = state.store.conflicts().await?;
    let format = match query.format {
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Json => Format::Json,
    };
    let event = AuditEvent::new(admin, action::EXPORT, outcome::OK).from(client).target("encounters").detail(format!(
        "{} versions, {format:?}, filters {}",
        versions.len(),
        serde_json::json!({
            "from": filter.from, "to": filter.to, "officer": filter.officer, "state": filter.state,
        })
    ));
    audit::record(&state.store, event).await?;
    let mut body = Vec::new();
    export::write(&versions, &conflicts, format, &mut body).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(attachment(query.format, "waypoint-encounters", body))
}
