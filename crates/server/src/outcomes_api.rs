//! `GET /v1/outcomes`: the outcome figures for a period beside the period before it, for
//! supervisors, admins and analysts (whose role reads nothing else); as JSON, or as a CSV download. Every read is in the audit trail, with
//! its filters, before a figure is sent.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use waypoint_protocol::{DeidentifiedRows, ErrorBody, OutcomeArea, OutcomeInclusion, OutcomeReport, OutcomeSource};

use crate::audit::{self, action, outcome, AuditEvent, ClientAddr};
use crate::audit_admin_api::{attachment, ExportFormat};
use crate::auth::FigureReader;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::outcomes::{self, OutcomeRequest, Period};
use crate::store::outcomes::OutcomeRange;
use crate::AppState;

/// The period when the request names none: the last 90 days, today included.
const DEFAULT_DAYS: i64 = 90;
/// The longest period one request may ask for (ten years and a few leap days).
const MAX_DAYS: i64 = 3660;
/// Years a period may name (reports are not older; the date arithmetic stays far from its limits).
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

#[derive(Debug, Deserialize, IntoParams)]
pub struct OutcomeQuery {
    /// The period's first day (`YYYY-MM-DD`, UTC). Default: 89 days before `to`.
    pub from: Option<String>,
    /// The period's last day, included (`YYYY-MM-DD`, UTC). Default: today.
    pub to: Option<String>,
    /// `approved` (default) or `approved_and_submitted`.
    #[serde(default)]
    #[param(inline)]
    pub include: OutcomeInclusion,
    /// Only the reports of this officer: officer id (badge) or username.
    pub officer: Option<String>,
    /// `all` (default): devices' reports and imported history; `waypoint`: devices' reports
    /// only; `imported`: imported history only.
    #[serde(default)]
    #[param(inline)]
    pub source: OutcomeSource,
    /// Only the calls inside this rectangle of the map: `south,west,north,east` in decimal
    /// degrees (a square of the map grid is `lat,lon,lat+0.01,lon+0.01`).
    pub area: Option<String>,
    /// `json` (default) or `csv` (a download of the figures and breakdowns).
    #[serde(default)]
    #[param(inline)]
    pub format: ExportFormat,
}

fn bad_request(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn day(name: &str, text: Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    match text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(day) if YEARS.contains(&day.year()) => Ok(Some(day)),
            Ok(_) => Err(bad_request(format!(
                "{name} must be a date between the years {} and {}",
                YEARS.start(),
                YEARS.end()
            ))),
            Err(_) => Err(bad_request(format!("{name} must be a date (YYYY-MM-DD), not `{text}`"))),
        },
    }
}

/// The period a query names, checked.
pub fn period_of(from: Option<String>, to: Option<String>) -> Result<Period, ApiError> {
    let last = day("to", to)?.unwrap_or_else(|| Utc::now().date_naive());
    let first = day("from", from)?.unwrap_or(last - Duration::days(DEFAULT_DAYS - 1));
    if first > last {
        return Err(bad_request(format!("from ({first}) is after to ({last})")));
    }
    let period = Period { first, last };
    if period.days() > MAX_DAYS {
        return Err(bad_request(format!(
            "the period is {} days long; at most {MAX_DAYS} may be asked for",
            period.days()
        )));
    }
    Ok(period)
}

/// The request a query makes, checked.
fn request_of(query: &OutcomeQuery) -> Result<OutcomeRequest, ApiError> {
    let period = period_of(query.from.clone(), query.to.clone())?;
    let officer = query.officer.as_deref().map(str::trim).filter(|o| !o.is_empty()).map(str::to_string);
    let area = area_of(query.area.clone())?;
    Ok(OutcomeRequest { period, include: query.include, officer, source: query.source, area })
}

/// `south,west,north,east`, checked.
fn area_of(text: Option<String>) -> Result<Option<OutcomeArea>, ApiError> {
    let Some(text) = text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) else { return Ok(None) };
    let bad = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("area must be south,west,north,east in degrees (such as 30.26,-97.75,30.27,-97.74), not `{text}`"),
        )
        .on_field("area")
    };
    let numbers: Vec<f64> =
        text.split(',').map(|n| n.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| bad())?;
    let [south, west, north, east] = numbers[..] else { return Err(bad()) };
    let on_earth = [south, north].iter().all(|v| (-90.0..=90.0).contains(v))
        && [west, east].iter().all(|v| (-180.0..=180.0).contains(v));
    if !on_earth || south >= north || west >= east {
        return Err(bad());
    }
    Ok(Some(OutcomeArea { south, west, north, east }))
}

/// The latest versions the request counts, from `since` to the period's end, and the officers'
/// training.
async fn read(
    state: &AppState,
    request: &OutcomeRequest,
    since: chrono::DateTime<Utc>,
) -> Result<(Vec<crate::store::outcomes::OutcomeRow>, crate::store::training::TrainedSince), ApiError> {
    let range = OutcomeRange {
        from: since,
        to: request.period.end(),
        states: outcomes::states_of(request.include),
        officer: request.officer.clone(),
        source: request.source,
    };
    let mut rows = state.store.outcome_rows(range).await?;
    outcomes::keep_area(&mut rows, request.area);
    let trained_since = crate::store::training::trained_since(&state.store.training(None).await?);
    Ok((rows, trained_since))
}

/// The types of the referred services, from the server's directory (none without one).
async fn service_types(state: &AppState, ids: Vec<String>) -> Result<outcomes::ServiceTypes, ApiError> {
    let data_dir = crate::directory_local::data_dir(&state.settings);
    let found = crate::directory_local::with_directory(data_dir, move |directory| {
        let of_service = directory.service_types_of(&ids)?;
        let labels = directory.rules().service_types.clone().into_iter().collect();
        Ok(outcomes::ServiceTypes { of_service, labels })
    })
    .await
    .map_err(|e| ApiError::internal(format!("reading the directory: {e:#}")))?;
    Ok(found.unwrap_or_default())
}

/// The outcome figures for a period and the one of the same length before it: crisis calls,
/// CIT coverage, time on scene, dispositions, arrests and diversion, emergency detentions,
/// transports, force, injuries, weapons, naloxone, referrals and repeat contacts, with trends,
/// a day-by-hour breakdown and a map grid. Each figure carries its definition.
#[utoipa::path(get, path = "/v1/outcomes", params(OutcomeQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The figures (JSON), or the figures and breakdowns as a CSV download", content(
        (OutcomeReport = "application/json"), (String = "text/csv"),
    )),
    (status = 400, description = "A date is not `YYYY-MM-DD`, `from` is after `to`, the period is too long, `area` is not a rectangle, or `include`/`source`/`format` is unknown", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn outcomes(
    State(state): State<AppState>,
    FigureReader(reader): FigureReader,
    client: ClientAddr,
    ApiQuery(query): ApiQuery<OutcomeQuery>,
) -> Result<Response, ApiError> {
    let request = request_of(&query)?;
    let (rows, trained_since) = read(&state, &request, outcomes::reads_from(request.period)).await?;
    let (_, config) = crate::agency_config::newest(&state.store).await?;
    let service_types = service_types(&state, outcomes::referred_services(&rows)).await?;
    let report = outcomes::report(&request, rows, &config, &trained_since, &service_types);
    let event = AuditEvent::new(reader, action::OUTCOMES_READ, outcome::OK).from(client).target("outcomes").detail(
        serde_json::json!({
            "from": report.from, "to": report.to, "include": report.include, "officer": report.officer, "source": report.source, "area": report.area,
            "format": query.format.extension(),
        })
        .to_string(),
    );
    audit::record(&state.store, event).await?;
    match query.format {
        ExportFormat::Json => Ok(ApiJson(report).into_response()),
        ExportFormat::Csv => {
            let body = outcomes::csv(&report).map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(attachment(ExportFormat::Csv, "waypoint-outcomes", body.into_bytes()))
        }
    }
}

/// The period's reports de-identified, one row each (for analyses the figures do not make):
/// codes, flags and counts; no name, narrative, free text, address, officer or device; the time
/// to the hour, the place as a map square shown only where enough calls share it, the person a
/// number that holds within this answer only.
#[utoipa::path(get, path = "/v1/outcomes/rows", params(OutcomeQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The rows (JSON), or a CSV download", content(
        (DeidentifiedRows = "application/json"), (String = "text/csv"),
    )),
    (status = 400, description = "A date is not `YYYY-MM-DD`, `from` is after `to`, the period is too long, `area` is not a rectangle, or `include`/`source`/`format` is unknown", body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 503, description = "The database is saturated: retry after `Retry-After` seconds", body = ErrorBody),
))]
pub async fn rows(
    State(state): State<AppState>,
    FigureReader(reader): FigureReader,
    client: ClientAddr,
    ApiQuery(query): ApiQuery<OutcomeQuery>,
) -> Result<Response, ApiError> {
    let request = request_of(&query)?;
    // From the repeat window before the period: a row's repeat flag looks back 90 days.
    let since = request.period.start() - Duration::days(outcomes::REPEAT_WINDOW_DAYS);
    let (stored, trained_since) = read(&state, &request, since).await?;
    let rows = crate::outcome_rows::deidentified(&request, stored, &trained_since);
    let event =
        AuditEvent::new(reader, action::OUTCOME_ROWS_READ, outcome::OK).from(client).target("outcome rows").detail(
            serde_json::json!({
                "from": rows.from, "to": rows.to, "include": rows.include, "officer": request.officer, "source": rows.source, "area": request.area,
                "format": query.format.extension(), "rows": rows.rows.len(),
            })
            .to_string(),
        );
    audit::record(&state.store, event).await?;
    match query.format {
        ExportFormat::Json => Ok(ApiJson(rows).into_response()),
        ExportFormat::Csv => {
            let body = crate::outcome_rows::csv(&rows).map_err(|e| ApiError::internal(e.to_string()))?;
            Ok(attachment(ExportFormat::Csv, "waypoint-outcome-rows", body.into_bytes()))
        }
    }
}
