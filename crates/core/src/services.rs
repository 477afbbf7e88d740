//! The service directory and location as the app sees them: suggestions for the encounter at
//! hand, "Find services", typed-address places, resource cards and GPS. All of it works offline.

use std::sync::MutexGuard;
use std::time::Instant;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::api::Waypoint;
use crate::directory::{Directory, Place, ResourceCard, ServiceHit, Suggestion, SuggestionRequest};
use crate::error::{Error, Result};
use crate::gps::{GpsReading, GpsWatcher};
use crate::model::Encounter;
use crate::suggestion_request;
use crate::vocab::Term;

/// The directory's file in the data folder: public data, so not encrypted.
pub const DIRECTORY_FILE: &str = "directory.sqlite";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DirectoryStatus {
    /// False while the first start loads the bundled national directory.
    pub ready: bool,
    #[ts(type = "number")]
    pub services: u64,
    #[ts(type = "number")]
    pub locations: u64,
    /// Seconds the first-start load of the bundled directory took (None when it was there already).
    pub loaded_in_s: Option<f64>,
}

impl Waypoint {
    /// Opens the directory, loading the bundled national directory on a fresh install. The shell
    /// calls it on a background thread at start; other directory calls wait for it.
    pub fn prepare_directory(&self) -> Result<DirectoryStatus> {
        let guard = self.directory_guard()?;
        let status = self.directory_load.lock().unwrap_or_else(|p| p.into_inner()).clone();
        drop(guard);
        status.ok_or_else(|| Error::InvalidState("The service directory did not open.".into()))
    }

    /// The directory's state without waiting for a load in progress.
    pub fn directory_status(&self) -> DirectoryStatus {
        match self.directory.try_lock() {
            Ok(guard) if guard.is_some() => self
                .directory_load
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or(DirectoryStatus { ready: true, services: 0, locations: 0, loaded_in_s: None }),
            _ => DirectoryStatus { ready: false, services: 0, locations: 0, loaded_in_s: None },
        }
    }

    /// The needs an officer can ask for ("crisis stabilization", "detox", ...), from the rules file.
    pub fn service_needs(&self) -> Result<Vec<Term>> {
        self.with_directory(|d| {
            Ok(d.rules()
                .needs
                .keys()
                .map(|code| Term { code: code.clone(), label: d.rules().label(code).to_string() })
                .collect())
        })
    }

    /// "Find services": the top services for this request, now.
    pub fn suggest_services(&self, request: SuggestionRequest) -> Result<Vec<Suggestion>> {
        self.with_directory(|d| d.suggest(&request, Utc::now()))
    }

    /// The suggestions panel of the encounter form: what this encounter so far calls for, near
    /// its location. Without a location there is nothing to measure distance from.
    pub fn suggest_for_encounter(&self, encounter: Encounter, needs: Vec<String>) -> Result<Vec<Suggestion>> {
        let request = suggestion_request::for_encounter(&encounter, needs).ok_or_else(|| {
            Error::validation("location", "Set the location (GPS, map or address) to see services near it.")
        })?;
        self.suggest_services(request)
    }

    pub fn search_services(&self, text: String) -> Result<Vec<ServiceHit>> {
        self.with_directory(|d| d.search_by_name(&text, 20))
    }

    /// Name search ranked by distance from `from` when there is a position.
    pub fn search_services_near(&self, text: String, from: Option<(f64, f64)>) -> Result<Vec<ServiceHit>> {
        self.with_directory(|d| d.search_by_name_near(&text, from, 20))
    }

    /// Places for a typed address, ZIP or city, from the directory's own addresses.
    pub fn find_places(&self, text: String) -> Result<Vec<Place>> {
        self.with_directory(|d| d.find_places(&text, 10))
    }

    /// One service as the suggestion list shows it, with distance from `from` when given.
    pub fn service_detail(&self, service_at_location_id: String, from: Option<(f64, f64)>) -> Result<Suggestion> {
        self.with_directory(|d| d.service_detail(&service_at_location_id, from, Utc::now()))
    }

    /// The card handed to the person in crisis: the chosen services as text, QR code and page.
    pub fn resource_card(&self, service_at_location_ids: Vec<String>) -> Result<ResourceCard> {
        self.with_directory(|d| d.resource_card(&service_at_location_ids, Utc::now()))
    }

    /// Starts watching gpsd at `addr` (replacing an earlier watcher).
    pub fn start_gps(&self, addr: &str) {
        *self.gps.lock().unwrap_or_else(|p| p.into_inner()) = Some(GpsWatcher::start(addr));
    }

    /// The latest GPS reading; "unavailable" when GPS was never started.
    pub fn gps_reading(&self) -> GpsReading {
        match self.gps.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(watcher) => watcher.reading(),
            None => GpsReading { state: crate::gps::GpsState::Unavailable, fix: None, message: "GPS is off".into() },
        }
    }

    /// Directory changes pulled from the agency server (services added, changed, removed;
    /// capacity), applied to the device's directory in one transaction. A change that could not
    /// be applied is skipped and written to the audit log with its reason (the feed goes on).
    pub fn apply_directory_changes(&self, changes: &[waypoint_protocol::Change]) -> Result<()> {
        let report = {
            let mut guard = self.directory_guard()?;
            guard.as_mut().expect("directory_guard opens the directory").apply_feed_changes(changes)?
        };
        for rejection in &report.rejected {
            tracing::warn!(seq = rejection.row, reason = %rejection.reason, "skipped a directory change");
            self.with_store(|s| s.audit("sync", None, &format!("directory change skipped: {}", rejection.reason)))?;
        }
        Ok(())
    }

    fn with_directory<T>(&self, action: impl FnOnce(&Directory) -> waypoint_directory::Result<T>) -> Result<T> {
        let guard = self.directory_guard()?;
        Ok(action(guard.as_ref().expect("directory_guard opens the directory"))?)
    }

    /// The directory, opened (and on a fresh install loaded) under its lock, so a second caller
    /// waits for the first load instead of starting another.
    pub(crate) fn directory_guard(&self) -> Result<MutexGuard<'_, Option<Directory>>> {
        let mut guard = self.directory.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let started = Instant::now();
            let mut directory = Directory::open(&self.data_dir().join(DIRECTORY_FILE))?;
            let loaded = directory.ensure_national_directory()?;
            let stats = directory.stats()?;
            if let Some(report) = &loaded {
                tracing::info!(services = stats.services, seconds = report.seconds, "loaded the bundled directory");
            }
            *self.directory_load.lock().unwrap_or_else(|p| p.into_inner()) = Some(DirectoryStatus {
                ready: true,
                services: stats.services,
                locations: stats.locations,
                loaded_in_s: loaded.map(|_| started.elapsed().as_secs_f64()),
            });
            *guard = Some(directory);
        }
        Ok(guard)
    }
}
