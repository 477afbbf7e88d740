//! The IPC surface (listed once in `ipc_commands!` in lib.rs): each command is a one-line call of
//! `Waypoint`.
//! They run off the main thread (`async`) so that key derivation never freezes the window.

use tauri::{AppHandle, State};
use uuid::Uuid;
use waypoint_core::directory::{Place, ResourceCard, ServiceHit, Suggestion, SuggestionRequest};
use waypoint_core::gps::GpsReading;
use waypoint_core::services::DirectoryStatus;
use waypoint_core::sync::{EnrollDevice, OfficerLogin, SyncStatus};
use waypoint_core::{
    AgencyConfig, AppError, AppStatus, AuditReport, Encounter, EncounterDetail, EncounterSummary, Error, ListQuery,
    SaveOutcome, Term, Waypoint,
};

type Result<T> = std::result::Result<T, Error>;

#[tauri::command(async)]
pub fn app_status(state: State<'_, Waypoint>) -> Result<AppStatus> {
    state.status()
}

#[tauri::command(async)]
pub fn setup(state: State<'_, Waypoint>, officer_id: String, passphrase: String) -> Result<AppStatus> {
    state.setup(&officer_id, &passphrase)
}

#[tauri::command(async)]
pub fn unlock(state: State<'_, Waypoint>, passphrase: String) -> Result<AppStatus> {
    state.unlock(&passphrase)
}

#[tauri::command(async)]
pub fn lock(state: State<'_, Waypoint>) -> Result<AppStatus> {
    state.lock()
}

#[tauri::command(async)]
pub fn change_passphrase(state: State<'_, Waypoint>, old: String, new: String) -> Result<()> {
    state.change_passphrase(&old, &new)
}

#[tauri::command(async)]
pub fn agency_config(state: State<'_, Waypoint>) -> Result<AgencyConfig> {
    Ok(state.config())
}

#[tauri::command(async)]
pub fn new_encounter(state: State<'_, Waypoint>) -> Result<Encounter> {
    state.new_encounter()
}

#[tauri::command(async)]
pub fn save_draft(state: State<'_, Waypoint>, encounter: Encounter) -> Result<SaveOutcome> {
    state.save_draft(encounter)
}

#[tauri::command(async)]
pub fn check_encounter(state: State<'_, Waypoint>, encounter: Encounter) -> Result<Vec<AppError>> {
    Ok(state.check(encounter))
}

#[tauri::command(async)]
pub fn submit_encounter(state: State<'_, Waypoint>, encounter: Encounter) -> Result<Encounter> {
    state.submit(encounter)
}

#[tauri::command(async)]
pub fn amend_encounter(state: State<'_, Waypoint>, id: Uuid) -> Result<Encounter> {
    state.amend(id)
}

#[tauri::command(async)]
pub fn list_encounters(state: State<'_, Waypoint>, query: ListQuery) -> Result<Vec<EncounterSummary>> {
    state.list(query)
}

#[tauri::command(async)]
pub fn get_encounter(state: State<'_, Waypoint>, id: Uuid) -> Result<EncounterDetail> {
    state.get(id)
}

#[tauri::command(async)]
pub fn get_encounter_version(state: State<'_, Waypoint>, id: Uuid, version: u32) -> Result<Encounter> {
    state.get_version(id, version)
}

#[tauri::command(async)]
pub fn verify_audit(state: State<'_, Waypoint>) -> Result<AuditReport> {
    state.verify_audit()
}

#[tauri::command(async)]
pub fn directory_status(state: State<'_, Waypoint>) -> DirectoryStatus {
    state.directory_status()
}

#[tauri::command(async)]
pub fn service_needs(state: State<'_, Waypoint>) -> Result<Vec<Term>> {
    state.service_needs()
}

#[tauri::command(async)]
pub fn suggest_services(state: State<'_, Waypoint>, request: SuggestionRequest) -> Result<Vec<Suggestion>> {
    state.suggest_services(request)
}

#[tauri::command(async)]
pub fn suggest_for_encounter(
    state: State<'_, Waypoint>,
    encounter: Encounter,
    needs: Vec<String>,
) -> Result<Vec<Suggestion>> {
    state.suggest_for_encounter(encounter, needs)
}

#[tauri::command(async)]
pub fn search_services(state: State<'_, Waypoint>, text: String, from: Option<(f64, f64)>) -> Result<Vec<ServiceHit>> {
    state.search_services_near(text, from)
}

#[tauri::command(async)]
pub fn find_places(state: State<'_, Waypoint>, text: String) -> Result<Vec<Place>> {
    state.find_places(text)
}

#[tauri::command(async)]
pub fn service_detail(state: State<'_, Waypoint>, id: String, from: Option<(f64, f64)>) -> Result<Suggestion> {
    state.service_detail(id, from)
}

#[tauri::command(async)]
pub fn resource_card(state: State<'_, Waypoint>, ids: Vec<String>) -> Result<ResourceCard> {
    state.resource_card(ids)
}

#[tauri::command(async)]
pub fn gps_reading(state: State<'_, Waypoint>) -> GpsReading {
    state.gps_reading()
}

/// The UI calls it once its first frame is painted (startup benchmark; then the directory loads).
#[tauri::command]
pub fn report_first_paint(app: AppHandle) {
    crate::on_first_paint(&app);
}

#[tauri::command(async)]
pub fn sync_status(state: State<'_, Waypoint>) -> Result<SyncStatus> {
    state.sync_status()
}

#[tauri::command(async)]
pub fn sync_now(state: State<'_, Waypoint>) -> Result<SyncStatus> {
    state.sync_now()
}

#[tauri::command(async)]
pub fn enroll_device(state: State<'_, Waypoint>, request: EnrollDevice) -> Result<SyncStatus> {
    state.enroll_device(request)
}

#[tauri::command(async)]
pub fn officer_login(state: State<'_, Waypoint>, login: OfficerLogin) -> Result<SyncStatus> {
    state.officer_login(login)
}
