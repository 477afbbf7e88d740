//! What a device says about itself on each sync request (its app version, the records its
//! outbox still holds and the agency configuration version it uses, in [`APP_VERSION_HEADER`],
//! [`PENDING_RECORDS_HEADER`] and [`CONFIG_VERSION_HEADER`]), kept for the admin console's device
//! list.
//!
//! Written only when it changed since this server last wrote it for that device, or a minute
//! later: a round's many pull pages carry the same report and cost no write.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::Utc;
use waypoint_protocol::{APP_VERSION_HEADER, CONFIG_VERSION_HEADER, PENDING_RECORDS_HEADER};

use crate::store::admin::DeviceReport;
use crate::AppState;

/// Longest app version kept.
const MAX_VERSION_CHARS: usize = 64;
/// A report unchanged for this long is written again (so "reported at" stays near the truth).
const REWRITE_AFTER: Duration = Duration::from_secs(60);

/// The report headers of a request (absent or unreadable ones are `None`); never fails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportHeaders(pub DeviceReport);

impl<S: Send + Sync> FromRequestParts<S> for ReportHeaders {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let app_version = header(APP_VERSION_HEADER)
            .filter(|v| !v.is_empty() && v.chars().count() <= MAX_VERSION_CHARS && !v.chars().any(char::is_control))
            .map(str::to_string);
        let pending_records = header(PENDING_RECORDS_HEADER).and_then(|v| v.parse::<u64>().ok());
        // Stored as a signed 32-bit integer: a larger one is not a version this server wrote.
        let config_version =
            header(CONFIG_VERSION_HEADER).and_then(|v| v.parse::<u32>().ok()).filter(|v| *v <= i32::MAX as u32);
        Ok(ReportHeaders(DeviceReport { app_version, pending_records, config_version }))
    }
}

/// The last report this server wrote per device, and when.
#[derive(Debug, Default)]
pub struct RecentReports(Mutex<HashMap<String, (DeviceReport, Instant)>>);

impl RecentReports {
    /// Whether `report` must be written for `device_id` now (and, if so, notes it as written).
    fn take_if_new(&self, device_id: &str, report: &DeviceReport) -> bool {
        let mut recent = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match recent.get(device_id) {
            Some((last, at)) if last == report && now.duration_since(*at) < REWRITE_AFTER => false,
            _ => {
                recent.insert(device_id.to_string(), (report.clone(), now));
                true
            }
        }
    }

    fn forget(&self, device_id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(device_id);
    }
}

/// Stores the device's report when it says something new. Best effort: a failed write is logged,
/// never a reason to fail the sync.
pub async fn note(state: &AppState, device_id: &str, ReportHeaders(report): ReportHeaders) {
    if report == DeviceReport::default() || !state.device_reports.take_if_new(device_id, &report) {
        return;
    }
    let now = Utc::now();
    let mut written = state.store.record_device_report(device_id, &report, now).await;
    if let (Ok(()), Some(version)) = (&written, report.config_version) {
        written = state.store.note_device_config_version(device_id, version, now).await;
    }
    if let Err(error) = written {
        state.device_reports.forget(device_id);
        tracing::warn!(device_id, %error, "could not store the device's report");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_report_is_not_written_again() {
        let recent = RecentReports::default();
        let report =
            DeviceReport { app_version: Some("1.2.0".into()), pending_records: Some(3), config_version: Some(1) };
        assert!(recent.take_if_new("d1", &report));
        assert!(!recent.take_if_new("d1", &report));
        assert!(recent.take_if_new("d2", &report));
        let fewer = DeviceReport { pending_records: Some(0), ..report };
        assert!(recent.take_if_new("d1", &fewer));
        let newer_config = DeviceReport { config_version: Some(2), ..fewer };
        assert!(recent.take_if_new("d1", &newer_config));
    }
}
