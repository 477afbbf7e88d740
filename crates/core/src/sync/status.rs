//! What the header's sync line and the Sync screen show.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::feed;
use super::round::SyncReport;
use super::settings::{read_meta, OfficerSession, SyncSettings, SESSION_KEY, SETTINGS_KEY};
use crate::api::Waypoint;
use crate::error::Result;
use crate::store::timestamp;

/// The sync line of the header and the Sync screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SyncStatus {
    pub enrolled: bool,
    pub server_url: Option<String>,
    /// The id the server gave this device.
    pub device_id: Option<String>,
    /// Pinned certificate fingerprint, when the server's certificate is self-signed.
    pub certificate_fingerprint: Option<String>,
    pub signed_in_as: Option<String>,
    /// Enrolled, but no officer holds a credential on this device: reports are not pushed (the
    /// feed is still pulled) until one signs in. The sync line says "Sign in to sync".
    pub needs_sign_in: bool,
    pub role: Option<String>,
    pub session_expires_at: Option<String>,
    /// Submitted versions not yet acknowledged.
    pub pending: u32,
    /// Versions the server refused, each with its reason (shown on the report).
    pub needs_attention: u32,
    pub last_synced_at: Option<String>,
    pub last_attempt_at: Option<String>,
    /// Why the last round failed (cleared by a successful one).
    pub last_error: Option<String>,
    pub syncing: bool,
    pub next_attempt_at: Option<String>,
    pub last_report: Option<SyncReport>,
    /// The agency configuration version in use: when a pull brings a newer one, the UI sees it
    /// change here and reloads the configuration.
    pub config_version: u32,
}

impl Waypoint {
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let (settings, session, pending, needs_attention, last_synced_at) = self.with_store(|s| {
            Ok((
                read_meta::<SyncSettings>(s, SETTINGS_KEY)?,
                read_meta::<OfficerSession>(s, SESSION_KEY)?,
                s.pending_outbox()?,
                s.rejected_outbox()?,
                feed::last_sync_at(s)?,
            ))
        })?;
        let runtime = self.sync_runtime.lock().unwrap_or_else(|p| p.into_inner());
        Ok(SyncStatus {
            enrolled: settings.is_some(),
            server_url: settings.as_ref().map(|s| s.server_url.clone()),
            device_id: settings.as_ref().map(|s| s.device_id.clone()),
            certificate_fingerprint: settings.as_ref().and_then(|s| s.certificate_fingerprint.clone()),
            needs_sign_in: settings.is_some() && session.as_ref().is_none_or(|s| s.officer_token.is_none()),
            signed_in_as: session.as_ref().map(|s| s.username.clone()),
            role: session.as_ref().map(|s| s.role.clone()),
            session_expires_at: session.map(|s| s.expires_at),
            pending,
            needs_attention,
            last_synced_at,
            last_attempt_at: runtime.last_attempt_at.map(timestamp),
            last_error: runtime.last_error.clone(),
            syncing: runtime.syncing,
            next_attempt_at: runtime.next_attempt_at.map(timestamp),
            last_report: runtime.last_report.clone(),
            config_version: self.config().config_version,
        })
    }
}
