//! The background worker that drains the
//! outbox whenever the server is reachable — at unlock, shortly after a submit, periodically,
//! and on "Sync now" — backing off exponentially with jitter (backon) and honouring Retry-After.
//!
//! Nothing in the officer's flow waits for it: saves and submits only write the encrypted store;
//! the worker runs on its own thread and takes the store lock only between network calls.
//! The credentials live in the encrypted store, so sync runs only while the store is unlocked.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use waypoint_protocol::{Change, DEFAULT_BATCH_BYTES};

use super::feed;
use super::http::{self, HttpTransport};
use super::round::SyncReport;
use super::settings::{read_meta, write_meta, OfficerSession, SyncSettings, SESSION_KEY, SETTINGS_KEY};
use super::status::SyncStatus;
use super::transport::{SyncError, TransportError};
use crate::api::Waypoint;
use crate::error::{Error, Result};

/// Where a directory snapshot is downloaded to (and resumed from) in the data folder.
const SNAPSHOT_FILE: &str = "directory-snapshot.jsonl.zst";
/// A round when all is well (new review results, directory changes).
pub const SYNC_PERIOD: Duration = Duration::from_secs(60);
/// How long after a submit the worker waits for more before it pushes (one request, not five).
pub const AFTER_SAVE_DELAY: Duration = Duration::from_millis(1500);
/// Retries after a failure: 2 s doubling to 30 s, with jitter so a fleet coming back into
/// coverage together does not hit the server in step. Short enough that a car leaving a dead
/// zone syncs within half a minute; a failed connect costs next to nothing.
pub const BACKOFF_MIN: Duration = Duration::from_secs(2);
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What the worker is doing (memory only: it restarts with the app).
#[derive(Debug, Default)]
pub(crate) struct SyncRuntime {
    pub(crate) syncing: bool,
    pub(crate) last_attempt_at: Option<DateTime<Utc>>,
    pub(crate) last_error: Option<String>,
    pub(crate) next_attempt_at: Option<DateTime<Utc>>,
    pub(crate) last_report: Option<SyncReport>,
}

/// Why the worker wakes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// Something was submitted: push shortly (more may follow).
    Soon,
    /// "Sync now", unlock or enrolment.
    Now,
    /// The app is closing: end the worker (a round under way finishes first).
    Stop,
}

/// The worker's channel, made with the `Waypoint`.
pub(crate) struct SyncChannel {
    pub(crate) sender: Sender<Trigger>,
    pub(crate) receiver: Option<Receiver<Trigger>>,
}

impl SyncChannel {
    pub(crate) fn new() -> Self {
        let (sender, receiver) = std::sync::mpsc::channel();
        SyncChannel { sender, receiver: Some(receiver) }
    }
}

/// What one attempt came to, for the worker's choice of the next wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundOutcome {
    /// Locked or not enrolled: nothing to do.
    Idle,
    Synced(SyncReport),
    Failed(TransportError),
}

impl Waypoint {
    /// "Sync now": wakes the worker; the status shows the round as it runs.
    pub fn sync_now(&self) -> Result<SyncStatus> {
        self.request_sync(Trigger::Now);
        let mut status = self.sync_status()?;
        status.syncing = status.enrolled;
        Ok(status)
    }

    pub(crate) fn request_sync(&self, trigger: Trigger) {
        let channel = self.sync_channel.lock().unwrap_or_else(|p| p.into_inner());
        // No worker (tests, benchmarks): nothing to wake.
        let _ = channel.sender.send(trigger);
    }

    /// One attempt now, on the calling thread (blocking network I/O: not from an async task).
    pub fn sync_round(&self) -> RoundOutcome {
        let (settings, session, own_device_id) = match self.with_store(|s| {
            let settings = read_meta::<SyncSettings>(s, SETTINGS_KEY)?;
            Ok((settings, read_meta::<OfficerSession>(s, SESSION_KEY)?, s.device_id().to_string()))
        }) {
            Ok((Some(settings), session, own)) => (settings, session, own),
            _ => return RoundOutcome::Idle,
        };
        // Pushes speak for the officer signed in on this device; without one the device still
        // pulls (review results, directory) and its reports wait in the outbox.
        let officer_token = session.and_then(|s| s.officer_token);
        // A device enrolled before the server checked device ids is registered under an id the
        // server made, not the one its reports carry: the server would refuse every report for
        // good. Its reports wait (pull only) until it is enrolled again.
        let enrolled_under_another_id = settings.device_id != own_device_id;
        let officer_token = officer_token.filter(|_| !enrolled_under_another_id);
        {
            let mut runtime = self.sync_runtime.lock().unwrap_or_else(|p| p.into_inner());
            runtime.syncing = true;
            runtime.last_attempt_at = Some(Utc::now());
        }
        let result = self.take_directory_snapshot(&settings).and_then(|snapshot_services| {
            // What the server shows the agency's admin for this device: records still to send, and
            // the agency configuration version in use.
            let pending = self.with_store(super::outbox::pending_count).unwrap_or(0);
            let transport = HttpTransport::new(&settings.http_config(), settings.device_token.clone())?
                .with_pending_records(pending)
                .with_config_version(self.config().config_version);
            let mut directory = |changes: &[Change]| self.apply_directory_changes(changes);
            let mut report = match &officer_token {
                Some(token) => {
                    self.sync_once(&mut transport.with_officer(token.clone()), DEFAULT_BATCH_BYTES, &mut directory)?
                }
                None => self.pull_once(&mut { transport }, DEFAULT_BATCH_BYTES, &mut directory)?,
            };
            report.snapshot_services = snapshot_services;
            Ok(report)
        });
        let mut runtime = self.sync_runtime.lock().unwrap_or_else(|p| p.into_inner());
        runtime.syncing = false;
        match result {
            Ok(report) => {
                runtime.last_error = enrolled_under_another_id.then(|| {
                    "This device was enrolled under another id than its reports carry: enrol it again to sync them."
                        .to_string()
                });
                runtime.last_report = Some(report.clone());
                RoundOutcome::Synced(report)
            }
            Err(SyncError::Transport(error)) => {
                runtime.last_error = Some(match &error {
                    TransportError::Unauthorized(why) => {
                        format!("The server no longer accepts this device ({why}): enrol it again.")
                    }
                    TransportError::SignInRequired(why) => format!("Sign in to sync ({why})."),
                    TransportError::DeviceRevoked(_) => {
                        "This device was revoked by the agency: it can no longer sync. Ask an admin.".to_string()
                    }
                    other => other.to_string(),
                });
                if let TransportError::DeviceRevoked(_) = &error {
                    drop(runtime);
                    // A lost or stolen device: what it holds goes, as the agency asked.
                    let reason = "The agency revoked this device; its reports and key were erased.";
                    if let Err(wipe_error) = self.wipe_at(reason, chrono::Utc::now()) {
                        tracing::error!(%wipe_error, "the revoked device could not erase its store");
                    }
                    return RoundOutcome::Failed(error);
                }
                if matches!(error, TransportError::SignInRequired(_)) {
                    drop(runtime);
                    // The server revoked the officer's credential: forget it, so the status says
                    // "Sign in to sync" and the next rounds still pull.
                    let _ = self.forget_officer_credential();
                }
                RoundOutcome::Failed(error)
            }
            Err(SyncError::Store(error)) => {
                runtime.last_error = Some(error.to_string());
                RoundOutcome::Failed(TransportError::Server(error.to_string()))
            }
        }
    }

    /// Drops the stored officer credential (the session's other fields stay for the status).
    fn forget_officer_credential(&self) -> Result<()> {
        self.with_store(|s| {
            if let Some(mut session) = read_meta::<OfficerSession>(s, SESSION_KEY)? {
                session.officer_token = None;
                write_meta(s, SESSION_KEY, &session)?;
                s.audit("sync", None, &format!("sign-in required: {}'s credential was refused", session.username))?;
            }
            Ok(())
        })
    }

    /// A device that never pulled takes the server's directory snapshot first (resumable:
    /// ETag + Range), then pulls only the changes after it. A server with no directory (404)
    /// leaves the whole feed to the pull.
    fn take_directory_snapshot(&self, settings: &SyncSettings) -> std::result::Result<u32, SyncError> {
        if self.with_store(feed::cursor)? > 0 {
            return Ok(0);
        }
        let dest = self.data_dir().join(SNAPSHOT_FILE);
        let info = match http::download_directory_snapshot(&settings.http_config(), &settings.device_token, &dest) {
            Ok(info) => info,
            Err(TransportError::Server(message)) if message.starts_with("404") => return Ok(0),
            Err(other) => return Err(other.into()),
        };
        let bytes = std::fs::read(&dest).map_err(Error::from)?;
        let (services, report) = {
            let mut guard = self.directory_guard()?;
            guard.as_mut().expect("directory_guard opens the directory").apply_snapshot(&bytes).map_err(Error::from)?
        };
        tracing::info!(summary = %report.summary(), cursor = info.cursor, "applied the server's directory snapshot");
        // The feed before the snapshot's cursor is skipped, and with it any agency configuration
        // saved before: take the one in force now (a server without the endpoint: none yet).
        match http::agency_config(&settings.http_config(), &settings.device_token) {
            Ok(body) => {
                let config = crate::agency_config::from_wire(body)?;
                self.with_store(|s| {
                    crate::agency_config::keep_if_newer(s.connection(), &config)?;
                    self.refresh_config(s)
                })?;
            }
            Err(TransportError::Server(message)) if message.starts_with("404") => {}
            Err(other) => return Err(other.into()),
        }
        self.with_store(|s| feed::set_cursor(s, info.cursor))?;
        let _ = std::fs::remove_file(&dest);
        Ok(services)
    }

    /// Ends `run_background_sync` (after the round under way, if any).
    pub fn stop_background_sync(&self) {
        self.request_sync(Trigger::Stop);
    }

    /// The background worker: runs until `stop_background_sync`. The shell starts it on a
    /// thread of its own; a second call returns at once.
    pub fn run_background_sync(&self) {
        let Some(triggers) = self.sync_channel.lock().unwrap_or_else(|p| p.into_inner()).receiver.take() else {
            return;
        };
        run_worker(self, &triggers);
    }
}

fn fresh_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(BACKOFF_MIN)
        // backon's jitter adds up to the delay again on top of it: capping the delay at half the
        // maximum keeps the jittered wait within BACKOFF_MAX (15..30 s once it stops growing).
        .with_max_delay(BACKOFF_MAX / 2)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
}

/// The wait before the next attempt, given how the last one went.
pub fn next_wait(outcome: &RoundOutcome, backoff: &mut dyn Iterator<Item = Duration>) -> Duration {
    match outcome {
        RoundOutcome::Idle | RoundOutcome::Synced(_) => SYNC_PERIOD,
        // The server said how long: never sooner, and still backing off beyond it.
        RoundOutcome::Failed(TransportError::RetryAfter(wait)) => (*wait).max(backoff.next().unwrap_or(BACKOFF_MAX)),
        // A refused credential will not fix itself quickly: try rarely, the status says why.
        RoundOutcome::Failed(TransportError::Unauthorized(_) | TransportError::DeviceRevoked(_)) => SYNC_PERIOD * 5,
        // The next round pulls without pushing until the officer signs in (which syncs at once).
        RoundOutcome::Failed(TransportError::SignInRequired(_)) => SYNC_PERIOD,
        RoundOutcome::Failed(_) => backoff.next().unwrap_or(BACKOFF_MAX),
    }
}

fn run_worker(waypoint: &Waypoint, triggers: &Receiver<Trigger>) {
    let mut backoff: Box<dyn Iterator<Item = Duration> + Send> = Box::new(fresh_backoff());
    let mut wait = Duration::ZERO;
    loop {
        waypoint.sync_runtime.lock().unwrap_or_else(|p| p.into_inner()).next_attempt_at =
            Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
        match triggers.recv_timeout(wait) {
            Ok(Trigger::Now) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Trigger::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(Trigger::Soon) => {
                // Gather the submits that follow closely; "Sync now" cuts the wait short.
                let deadline = Instant::now() + AFTER_SAVE_DELAY;
                while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                    match triggers.recv_timeout(left) {
                        Ok(Trigger::Now) => break,
                        Ok(Trigger::Soon) | Err(RecvTimeoutError::Timeout) => {}
                        Ok(Trigger::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            }
        }
        let outcome = waypoint.sync_round();
        if matches!(outcome, RoundOutcome::Synced(_) | RoundOutcome::Idle) {
            backoff = Box::new(fresh_backoff());
        }
        wait = next_wait(&outcome, backoff.as_mut());
        if let RoundOutcome::Failed(error) = &outcome {
            tracing::info!(%error, wait_s = wait.as_secs_f64(), "sync failed; retrying later");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_honours_retry_after() {
        let mut backoff = fresh_backoff();
        let failed = RoundOutcome::Failed(TransportError::Unreachable("down".into()));
        let waits: Vec<Duration> = (0..40).map(|_| next_wait(&failed, &mut backoff)).collect();
        assert!(waits[0] >= BACKOFF_MIN && waits[0] < BACKOFF_MIN * 2, "{waits:?}");
        assert!(waits.iter().all(|w| *w >= BACKOFF_MIN && *w <= BACKOFF_MAX), "never beyond the maximum: {waits:?}");
        assert!(waits[3] > waits[0], "the wait grows: {waits:?}");
        assert!(waits[10..].iter().all(|w| *w >= BACKOFF_MAX / 2), "{waits:?}");
        let distinct: std::collections::HashSet<Duration> = waits[10..].iter().copied().collect();
        assert!(distinct.len() > 1, "still jittered at the maximum: {waits:?}");
        let busy = RoundOutcome::Failed(TransportError::RetryAfter(Duration::from_secs(120)));
        assert!(next_wait(&busy, &mut fresh_backoff()) >= Duration::from_secs(120));
        assert_eq!(next_wait(&RoundOutcome::Synced(SyncReport::default()), &mut fresh_backoff()), SYNC_PERIOD);
    }
}
