//! Where and as whom this device syncs: the server, the device credential, the pinned
//! certificate and the officer's session, kept in the encrypted store's meta table (so sync runs
//! only while the store is unlocked).

use std::time::Duration;

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::http::HttpConfig;
use crate::error::Result;
use crate::store::Store;

pub(crate) const SETTINGS_KEY: &str = "sync_settings";
pub(crate) const SESSION_KEY: &str = "officer_session";

/// Where and how this device syncs (kept in the encrypted store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SyncSettings {
    pub(crate) server_url: String,
    pub(crate) device_id: String,
    pub(crate) device_token: String,
    pub(crate) certificate_pem: Option<String>,
    pub(crate) certificate_fingerprint: Option<String>,
    pub(crate) enrolled_at: String,
}

impl SyncSettings {
    pub(crate) fn http_config(&self) -> HttpConfig {
        let mut config = HttpConfig::new(self.server_url.clone());
        config.pinned_certificate_pem = self.certificate_pem.as_ref().map(|p| p.as_bytes().to_vec());
        config.timeout = Duration::from_secs(30);
        config
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OfficerSession {
    pub(crate) username: String,
    pub(crate) role: String,
    pub(crate) token: String,
    pub(crate) expires_at: String,
    /// The officer's device-bound credential: what pushes carry. It does not expire with the
    /// session, so reports written offline sync without the password; `None` for a session
    /// stored before there were officer credentials, or once the server revoked it.
    #[serde(default)]
    pub(crate) officer_token: Option<String>,
    /// The officer id the server knows this user by.
    #[serde(default)]
    pub(crate) officer_id: Option<String>,
}

pub(crate) fn read_meta<T: serde::de::DeserializeOwned>(store: &Store, key: &str) -> Result<Option<T>> {
    let text: Option<String> =
        store.connection().query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?;
    Ok(match text {
        Some(text) => Some(serde_json::from_str(&text)?),
        None => None,
    })
}

pub(crate) fn write_meta<T: Serialize>(store: &Store, key: &str, value: &T) -> Result<()> {
    store.connection().execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        rusqlite::params![key, serde_json::to_string(value)?],
    )?;
    Ok(())
}
