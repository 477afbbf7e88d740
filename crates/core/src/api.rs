//! `Waypoint`: the one surface of the core for every caller (Tauri commands, benchmarks, tests).
//! Each Tauri command is a one-line call of one method here.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::Utc;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::error::{AppError, Error, Result};
use crate::keys::{KdfParams, KeyFile};
use crate::model::{Encounter, EncounterDetail, EncounterSummary, ListQuery};
use crate::store::Store;
use crate::sync;
use crate::validate;
use crate::vocab::AgencyConfig;

pub use crate::audit::AuditReport;

/// What the unlock screen and the header need to know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct AppStatus {
    /// A passphrase has been chosen on this device.
    pub initialized: bool,
    pub unlocked: bool,
    pub officer_id: Option<String>,
    pub device_id: Option<String>,
    pub agency_name: String,
    /// Submitted versions not yet acknowledged by the server.
    pub pending_sync: u32,
}

/// What the first screen needs, handed to the page when its window is created so the unlock
/// screen is drawn in the very first frame instead of after two IPC round trips. The page checks
/// it against `status` right after that frame (a reload must not trust an old snapshot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BootSnapshot {
    pub status: AppStatus,
    pub config: AgencyConfig,
}

/// The result of an autosave: the stored draft and what would still stop it being submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SaveOutcome {
    pub encounter: Encounter,
    pub issues: Vec<AppError>,
}

/// The shortest passphrase or PIN accepted.
pub const MIN_PASSPHRASE_CHARS: usize = 6;

pub struct Waypoint {
    data_dir: PathBuf,
    config: AgencyConfig,
    kdf: KdfParams,
    store: Mutex<Option<Store>>,
    /// The service directory (public data, its own unencrypted file), opened on first use.
    pub(crate) directory: Mutex<Option<crate::directory::Directory>>,
    pub(crate) directory_load: Mutex<Option<crate::services::DirectoryStatus>>,
    pub(crate) gps: Mutex<Option<crate::gps::GpsWatcher>>,
    pub(crate) sync_runtime: Mutex<crate::sync_client::SyncRuntime>,
    pub(crate) sync_channel: Mutex<crate::sync_client::SyncChannel>,
}

impl Waypoint {
    /// Opens the data folder (created if missing) with the given agency configuration. The store
    /// stays locked until `setup` (first run) or `unlock`.
    pub fn open(data_dir: impl Into<PathBuf>, config: AgencyConfig) -> Result<Self> {
        Self::open_with_kdf(data_dir, config, KdfParams::default())
    }

    /// As `open`, with explicit key-derivation cost (tests use a cheap one).
    pub fn open_with_kdf(data_dir: impl Into<PathBuf>, config: AgencyConfig, kdf: KdfParams) -> Result<Self> {
        let data_dir = data_dir.into();
        std::fs::create_dir_all(&data_dir)?;
        restrict_dir(&data_dir)?;
        Ok(Waypoint {
            data_dir,
            config,
            kdf,
            store: Mutex::new(None),
            directory: Mutex::new(None),
            directory_load: Mutex::new(None),
            gps: Mutex::new(None),
            sync_runtime: Mutex::new(Default::default()),
            sync_channel: Mutex::new(crate::sync_client::SyncChannel::new()),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn config(&self) -> AgencyConfig {
        self.config.clone()
    }

    pub fn status(&self) -> Result<AppStatus> {
        let guard = self.lock_store();
        let key_file = KeyFile::read(&self.data_dir).ok().flatten();
        let pending_sync = match guard.as_ref() {
            Some(store) => store.pending_outbox()?,
            None => 0,
        };
        Ok(AppStatus {
            initialized: key_file.is_some(),
            unlocked: guard.is_some(),
            officer_id: key_file.as_ref().map(|k| k.officer_id.clone()),
            device_id: key_file.as_ref().map(|k| k.device_id.clone()),
            agency_name: self.config.agency_name.clone(),
            pending_sync,
        })
    }

    pub fn boot_snapshot(&self) -> Result<BootSnapshot> {
        Ok(BootSnapshot { status: self.status()?, config: self.config() })
    }

    /// First run: choose the officer id and passphrase/PIN, create the encrypted store, unlock it.
    pub fn setup(&self, officer_id: &str, passphrase: &str) -> Result<AppStatus> {
        let officer_id = officer_id.trim();
        if officer_id.is_empty() {
            return Err(Error::validation("officer_id", "Enter your officer ID or badge number."));
        }
        check_passphrase_strength(passphrase)?;
        if KeyFile::read(&self.data_dir)?.is_some() {
            return Err(Error::AlreadyInitialized(
                "Waypoint is already set up on this device: unlock it instead.".into(),
            ));
        }
        let device_id = Uuid::now_v7().to_string();
        let (key_file, data_key) = KeyFile::create(officer_id, &device_id, passphrase, &self.kdf)?;
        key_file.write(&self.data_dir)?;
        let store = Store::open(&self.data_dir, &data_key, &key_file, &self.config)?;
        store.audit("setup", None, "ok")?;
        *self.lock_store() = Some(store);
        self.status()
    }

    /// Unlocks the store. A wrong passphrase leaves it closed and is written to the audit log
    /// at the next successful unlock (the log is inside the encrypted store).
    pub fn unlock(&self, passphrase: &str) -> Result<AppStatus> {
        let key_file = KeyFile::read(&self.data_dir)?
            .ok_or_else(|| Error::InvalidState("Waypoint is not set up on this device yet.".into()))?;
        let data_key = match key_file.unwrap_data_key(passphrase) {
            Ok(key) => key,
            Err(error) => {
                if matches!(error, Error::WrongPassphrase) {
                    crate::keys::record_failed_unlock(&self.data_dir, Utc::now())?;
                }
                return Err(error);
            }
        };
        let store = Store::open(&self.data_dir, &data_key, &key_file, &self.config)?;
        for at in crate::keys::read_failed_unlocks(&self.data_dir)? {
            store.audit_at(at, "unlock", None, "failed: wrong passphrase")?;
        }
        crate::keys::clear_failed_unlocks(&self.data_dir)?;
        store.audit("unlock", None, "ok")?;
        *self.lock_store() = Some(store);
        self.request_sync(crate::sync_client::Trigger::Now);
        self.status()
    }

    pub fn lock(&self) -> Result<AppStatus> {
        *self.lock_store() = None;
        self.status()
    }

    /// Re-wraps the data key: the database is not re-encrypted.
    pub fn change_passphrase(&self, old: &str, new: &str) -> Result<()> {
        check_passphrase_strength(new)?;
        let key_file = KeyFile::read(&self.data_dir)?
            .ok_or_else(|| Error::InvalidState("Waypoint is not set up on this device yet.".into()))?;
        let data_key = key_file.unwrap_data_key(old)?;
        key_file.rewrap(&data_key, new, &self.kdf)?.write(&self.data_dir)?;
        self.with_store(|s| s.audit("change_passphrase", None, "ok"))
    }

    /// A new draft, saved at once so that nothing typed into it can be lost.
    pub fn new_encounter(&self) -> Result<Encounter> {
        self.with_store(|s| s.create_draft(Utc::now()))
    }

    /// Autosave: stores the draft whatever its state and says what would still block submit.
    pub fn save_draft(&self, encounter: Encounter) -> Result<SaveOutcome> {
        self.with_store(|s| {
            let encounter = s.save_draft(&encounter, Utc::now())?;
            let issues = validate::check(&encounter, &self.config, Utc::now()).iter().map(AppError::from).collect();
            Ok(SaveOutcome { encounter, issues })
        })
    }

    /// What would still block submit, without saving.
    pub fn check(&self, encounter: Encounter) -> Vec<AppError> {
        validate::check(&encounter, &self.config, Utc::now()).iter().map(AppError::from).collect()
    }

    /// Saves the draft, then submits it if it is complete. On a validation error the draft is
    /// kept as saved and the first problem is returned, naming its field.
    pub fn submit(&self, encounter: Encounter) -> Result<Encounter> {
        self.with_store(|s| {
            let saved = s.save_draft(&encounter, Utc::now())?;
            if let Some(problem) = validate::check(&saved, &self.config, Utc::now()).into_iter().next() {
                return Err(problem);
            }
            s.submit(saved.id, saved.version, Utc::now())
        })
        .inspect(|_| self.request_sync(crate::sync_client::Trigger::Soon))
    }

    /// Starts an amendment: a new draft version that supersedes the newest submitted one.
    pub fn amend(&self, id: Uuid) -> Result<Encounter> {
        self.with_store(|s| s.amend(id, Utc::now()))
    }

    pub fn list(&self, query: ListQuery) -> Result<Vec<EncounterSummary>> {
        self.with_store(|s| s.list(&query))
    }

    /// The newest version and the history of one encounter (a "view" in the audit log).
    pub fn get(&self, id: Uuid) -> Result<EncounterDetail> {
        self.with_store(|s| {
            let detail = s.detail(id)?;
            s.audit("view", Some(&id.to_string()), "ok")?;
            Ok(detail)
        })
    }

    pub fn get_version(&self, id: Uuid, version: u32) -> Result<Encounter> {
        self.with_store(|s| {
            let encounter = s.version(id, version)?;
            s.audit("view", Some(&format!("{id} v{version}")), "ok")?;
            Ok(encounter)
        })
    }

    /// Every version of the encounters the query finds, for a hand-over file (an "export" in the audit log).
    pub fn export(&self, query: ListQuery) -> Result<Vec<Encounter>> {
        self.with_store(|s| {
            let mut out = Vec::new();
            for summary in s.list(&query)? {
                let detail = s.detail(summary.id)?;
                for info in &detail.versions {
                    out.push(s.version(summary.id, info.version)?);
                }
            }
            s.audit("export", None, &format!("ok: {} versions", out.len()))?;
            Ok(out)
        })
    }

    /// One sync round: push the whole outbox, then pull until the feed is drained. The store is
    /// locked only between network calls, so saving never waits for the network. A transport
    /// error ends the round with the outbox as it was; the caller retries with backoff.
    ///
    /// The network calls run on a thread of their own, one request ahead of the store work: while
    /// the server stores batch k, this thread settles batch k-1 and reads batch k+1 (and while the
    /// device applies page k, page k+1 is already on its way). Round trips, not bytes, bound a
    /// sync on a good connection.
    pub fn sync_once(
        &self,
        transport: &mut (dyn sync::Transport + Send),
        max_bytes: usize,
        directory: &mut dyn FnMut(&[waypoint_protocol::Change]) -> Result<()>,
    ) -> std::result::Result<sync::SyncReport, sync::SyncError> {
        let mut report = sync::SyncReport::default();
        self.push_outbox(&mut *transport, max_bytes, &mut report)?;
        self.pull_feed(transport, max_bytes, directory, &mut report)?;
        self.with_store(sync::mark_synced)?;
        Ok(report)
    }

    fn push_outbox(
        &self,
        transport: &mut (dyn sync::Transport + Send),
        max_bytes: usize,
        report: &mut sync::SyncReport,
    ) -> std::result::Result<(), sync::SyncError> {
        use std::sync::mpsc;
        /// Batches sent and not yet answered: one on the wire, one queued behind it.
        const AHEAD: usize = 2;
        std::thread::scope(|scope| {
            let (to_network, batches) = mpsc::sync_channel::<waypoint_protocol::RawPushRequest>(1);
            let (replies_out, replies) = mpsc::channel();
            scope.spawn(move || {
                for request in batches {
                    let reply = transport.push(&request);
                    let failed = reply.is_err();
                    // After a failure nothing more is sent: the next round starts over.
                    if replies_out.send(reply).is_err() || failed {
                        break;
                    }
                }
            });
            let mut outcome = Ok(());
            let settle = |reply: std::result::Result<_, sync::TransportError>,
                          report: &mut sync::SyncReport|
             -> std::result::Result<(), sync::SyncError> {
                let response: waypoint_protocol::PushResponse = reply?;
                let settled = |r: &sync::SyncReport| r.stored + r.duplicates + r.conflicts + r.rejected;
                let before = settled(report);
                self.with_store(|s| sync::apply_acks(s, &response.acks, report))?;
                if settled(report) == before {
                    // The server answered without settling anything: stop rather than loop.
                    return Err(
                        sync::TransportError::Server("the server acknowledged none of the records".into()).into()
                    );
                }
                Ok(())
            };
            let mut sent_up_to = 0u64;
            let mut in_flight = 0usize;
            loop {
                let batch = match self.with_store(|s| sync::outbox_batch(s, sent_up_to, max_bytes)) {
                    Ok(batch) if batch.is_empty() => break,
                    Ok(batch) => batch,
                    Err(error) => {
                        outcome = Err(error.into());
                        break;
                    }
                };
                sent_up_to = batch.last().map_or(sent_up_to, |r| r.seq);
                report.pushed += batch.len() as u32;
                report.requests += 1;
                if to_network.send(waypoint_protocol::RawPushRequest { records: batch }).is_err() {
                    break; // the network thread stopped on a failure; its reply says which
                }
                in_flight += 1;
                if in_flight == AHEAD {
                    in_flight -= 1;
                    match replies.recv() {
                        Ok(reply) => {
                            if let Err(error) = settle(reply, report) {
                                outcome = Err(error);
                                break;
                            }
                        }
                        Err(_) => break,
                    }
                }
            }
            drop(to_network);
            // Settle what is still out (a failure keeps the first error; later replies still count).
            for reply in replies.iter().take(in_flight) {
                if let Err(error) = settle(reply, report) {
                    if outcome.is_ok() {
                        outcome = Err(error);
                    }
                }
            }
            outcome
        })
    }

    fn pull_feed(
        &self,
        transport: &mut (dyn sync::Transport + Send),
        max_bytes: usize,
        directory: &mut dyn FnMut(&[waypoint_protocol::Change]) -> Result<()>,
        report: &mut sync::SyncReport,
    ) -> std::result::Result<(), sync::SyncError> {
        use std::sync::mpsc;
        let start = self.with_store(sync::cursor)?;
        std::thread::scope(|scope| {
            // One page may wait while the next is fetched; more would only hold memory.
            let (pages_out, pages) = mpsc::sync_channel(1);
            scope.spawn(move || {
                let mut cursor = start;
                loop {
                    let page = transport.pull(cursor, max_bytes);
                    let next = page.as_ref().ok().filter(|p| p.more).map(|p| p.cursor);
                    if pages_out.send(page).is_err() {
                        break; // the device stopped applying (a store error)
                    }
                    match next {
                        Some(after) => cursor = after,
                        None => break,
                    }
                }
            });
            for page in pages {
                report.requests += 1;
                let page = page?;
                // Directory changes first and outside the store lock: opening the directory (the
                // national load on a fresh install) and refreshing its index take seconds, and
                // autosaves must not wait for them.
                let (directory_changes, reviews) = sync::split_page(page);
                if !directory_changes.is_empty() {
                    directory(&directory_changes)?;
                }
                report.pulled += self.with_store(|s| sync::apply_pull(s, &reviews))?;
            }
            Ok(())
        })
    }

    /// The sync state of one version (`None` for a draft).
    pub fn sync_state(&self, id: Uuid, version: u32) -> Result<Option<sync::SyncState>> {
        self.with_store(|s| sync::state_of(s, id, version))
    }

    /// Records a supervisor's decision pulled from the server.
    pub fn apply_review(&self, id: Uuid, version: u32, review: crate::model::Review) -> Result<Encounter> {
        self.with_store(|s| s.apply_review(id, version, review))
    }

    /// The newest audit events first.
    pub fn recent_audit(&self, limit: u32) -> Result<Vec<crate::audit::AuditEntry>> {
        self.with_store(|s| s.recent_audit(limit))
    }

    /// Checks the whole hash chain of the audit log.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        self.with_store(|s| s.verify_audit())
    }

    pub(crate) fn with_store<T>(&self, action: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let guard = self.lock_store();
        let store = guard.as_ref().ok_or(Error::Locked)?;
        action(store)
    }

    fn lock_store(&self) -> MutexGuard<'_, Option<Store>> {
        // A panic while holding the lock leaves the store as SQLite left it: still consistent.
        self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn check_passphrase_strength(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::validation(
            "passphrase",
            format!("Use at least {MIN_PASSPHRASE_CHARS} characters or digits."),
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn restrict_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict_dir(_dir: &Path) -> Result<()> {
    Ok(())
}
