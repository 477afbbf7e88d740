//! The TypeScript types the UI uses, generated from these Rust types with ts-rs.
//! `ui/src/lib/bindings/` holds the committed copy; `tests/bindings.rs` fails when it is stale
//! (regenerate with `WAYPOINT_UPDATE_BINDINGS=1 cargo test -p waypoint-core --test bindings`).
//! Besides the types, `constants.ts` carries the values the UI must not restate (the error kinds,
//! the passphrase minimum).

use std::path::Path;

use ts_rs::TS;

use crate::api::{AppStatus, BootSnapshot, SaveOutcome, MIN_PASSPHRASE_CHARS};
use crate::audit::{AuditEntry, AuditReport};
use crate::device_policy::{
    MAX_AUTO_LOCK_MINUTES, MAX_FAILED_UNLOCKS, MAX_SECRET_LENGTH, MIN_FAILED_UNLOCKS, MIN_PASSPHRASE_LENGTH,
};
use crate::directory::{Place, ResourceCard, ServiceHit, Suggestion, SuggestionRequest};
use crate::error::{AppError, ErrorKind};
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
    std::fs::write(dir.join(CONSTANTS_FILE), constants_ts())?;
    Ok(())
}

/// The generated file of constants, beside the generated types.
pub const CONSTANTS_FILE: &str = "constants.ts";

/// Every `ErrorKind` as it travels, read from ts-rs's own union so that a new kind is listed too.
pub fn error_kinds() -> Vec<String> {
    ErrorKind::inline().split('|').map(|kind| kind.trim().trim_matches('"').to_string()).collect()
}

fn constants_ts() -> String {
    let kinds: Vec<String> = error_kinds().iter().map(|kind| format!("\"{kind}\"")).collect();
    format!(
        "// Generated from Rust by crates/core/src/bindings.rs: do not edit.\n\
         import type {{ ErrorKind }} from \"./ErrorKind\";\n\n\
         /** Every kind of error a command can fail with. */\n\
         export const ERROR_KINDS: readonly ErrorKind[] = [{}];\n\n\
         /** The shortest passphrase or PIN the core accepts, in characters. */\n\
         export const MIN_PASSPHRASE_CHARS = {MIN_PASSPHRASE_CHARS};\n\n\
         /** The bounds of an agency's device policy (the core checks them). */\n\
         export const MAX_AUTO_LOCK_MINUTES = {MAX_AUTO_LOCK_MINUTES};\n\
         export const MIN_PASSPHRASE_LENGTH = {MIN_PASSPHRASE_LENGTH};\n\
         export const MAX_SECRET_LENGTH = {MAX_SECRET_LENGTH};\n\
         export const MIN_FAILED_UNLOCKS = {MIN_FAILED_UNLOCKS};\n\
         export const MAX_FAILED_UNLOCKS = {MAX_FAILED_UNLOCKS};\n",
        kinds.join(", ")
    )
}
