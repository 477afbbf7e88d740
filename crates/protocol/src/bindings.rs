//! The TypeScript types the console reads, generated from these Rust types with ts-rs.
//! `ui/src/console/bindings/` holds the committed copy; `tests/bindings.rs` fails when it is stale
//! (regenerate with `WAYPOINT_UPDATE_BINDINGS=1 cargo test -p waypoint-protocol --test bindings`).

use std::path::Path;

use ts_rs::TS;

use crate::*;

/// Writes every type the console reads (and the types they use) into `dir`, and `constants.ts`.
pub fn export_all(dir: &Path) -> Result<(), ts_rs::ExportError> {
    ConsoleSession::export_all_to(dir)?;
    AgencyConfigVersion::export_all_to(dir)?;
    LoginRequest::export_all_to(dir)?;
    LoginResponse::export_all_to(dir)?;
    ErrorBody::export_all_to(dir)?;
    MfaEnrolmentRequired::export_all_to(dir)?;
    MfaEnrolmentStart::export_all_to(dir)?;
    MfaConfirmRequest::export_all_to(dir)?;
    MfaConfirmResponse::export_all_to(dir)?;
    ReviewRequest::export_all_to(dir)?;
    FeedPosition::export_all_to(dir)?;
    EnrollmentCode::export_all_to(dir)?;
    // The admin console's pages.
    UserInfo::export_all_to(dir)?;
    NewUser::export_all_to(dir)?;
    RoleChange::export_all_to(dir)?;
    DeviceInfo::export_all_to(dir)?;
    AuditPage::export_all_to(dir)?;
    AuditVerification::export_all_to(dir)?;
    CapacityUpdate::export_all_to(dir)?;
    OutcomeReport::export_all_to(dir)?;
    DeidentifiedRows::export_all_to(dir)?;
    QueuePage::export_all_to(dir)?;
    ReviewCounts::export_all_to(dir)?;
    EncounterReview::export_all_to(dir)?;
    VersionDiff::export_all_to(dir)?;
    ConflictPair::export_all_to(dir)?;
    Metrics::export_all_to(dir)?;
    // The agency configuration and directory pages.
    SaveAgencyConfig::export_all_to(dir)?;
    AgencyConfigSaved::export_all_to(dir)?;
    AgencyConfigCheck::export_all_to(dir)?;
    AgencyConfigRecord::export_all_to(dir)?;
    CodesInUse::export_all_to(dir)?;
    LocalFacts::export_all_to(dir)?;
    LocalFactsRecord::export_all_to(dir)?;
    LocalFactsSaved::export_all_to(dir)?;
    DirectoryServiceInfo::export_all_to(dir)?;
    DirectoryImportInfo::export_all_to(dir)?;
    DirectoryConflict::export_all_to(dir)?;
    // The records feed and webhooks page.
    RecordsPage::export_all_to(dir)?;
    RecordsCredentialInfo::export_all_to(dir)?;
    NewRecordsCredential::export_all_to(dir)?;
    RecordsCredentialCreated::export_all_to(dir)?;
    NewWebhook::export_all_to(dir)?;
    WebhookCreated::export_all_to(dir)?;
    WebhookDeliveryInfo::export_all_to(dir)?;
    // The CIT training page.
    NewTraining::export_all_to(dir)?;
    TrainingRecord::export_all_to(dir)?;
    OfficerTraining::export_all_to(dir)?;
    std::fs::write(dir.join(CONSTANTS_FILE), constants_ts())?;
    Ok(())
}

/// The generated file of constants, beside the generated types.
pub const CONSTANTS_FILE: &str = "constants.ts";

fn constants_ts() -> String {
    format!(
        "// Generated from Rust by crates/protocol/src/bindings.rs: do not edit.\n\n\
         export const CSRF_HEADER = {CSRF_HEADER:?};\n\
         export const ERROR_CSRF = {ERROR_CSRF:?};\n\
         export const ERROR_MFA_REQUIRED = {ERROR_MFA_REQUIRED:?};\n\
         export const ERROR_RATE_LIMITED = {ERROR_RATE_LIMITED:?};\n\
         export const ERROR_CODES_IN_USE = {ERROR_CODES_IN_USE:?};\n\
         export const ERROR_STALE_CONFIG = {ERROR_STALE_CONFIG:?};\n"
    )
}
