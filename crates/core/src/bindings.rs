//! The TypeScript types the UI uses, generated from these Rust types with ts-rs.
//! `ui/src/lib/bindings/` holds the committed copy; `tests/bindings.rs` fails when it is stale
//! (regenerate with `WAYPOINT_UPDATE_BINDINGS=1 cargo test -p waypoint-core --test bindings`).

use std::path::Path;

use ts_rs::TS;

use crate::api::{AppStatus, BootSnapshot, SaveOutcome};
use crate::audit::{AuditEntry, AuditReport};
use crate::directory::{Place, ResourceCard, ServiceHit, Suggestion, SuggestionRequest};
use crate::error::AppError;
use crate::gps::GpsReading;
use crate::model::{Encounter, EncounterDetail, EncounterSummary, ListQuery};
use crate::services::DirectoryStatus;
use crate::sync::{EnrollDevice, OfficerLogin, SyncStatus};
use crate::vocab::AgencyConfig;

/// Writes every type crossing the IPC boundary (and the types they use) into `dir`.
pub fn export_all(dir: &Path) -> Result<(), ts_rs::ExportError> {
    AppError::export_all_to(dir)?;
    AppStatus::export_all_to(dir)?;
    BootSnapshot::export_all_to(dir)?;
    SaveOutcome::export_all_to(dir)?;
    AgencyConfig::export_all_to(dir)?;
    Encounter::export_all_to(dir)?;
    EncounterSummary::export_all_to(dir)?;
    EncounterDetail::export_all_to(dir)?;
    ListQuery::export_all_to(dir)?;
    AuditReport::export_all_to(dir)?;
    AuditEntry::export_all_to(dir)?;
    SuggestionRequest::export_all_to(dir)?;
    Suggestion::export_all_to(dir)?;
    ServiceHit::export_all_to(dir)?;
    Place::export_all_to(dir)?;
    ResourceCard::export_all_to(dir)?;
    DirectoryStatus::export_all_to(dir)?;
    GpsReading::export_all_to(dir)?;
    SyncStatus::export_all_to(dir)?;
    EnrollDevice::export_all_to(dir)?;
    OfficerLogin::export_all_to(dir)?;
    Ok(())
}
