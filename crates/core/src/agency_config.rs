//! The agency configuration a device received from its server, kept in the encrypted store.
//! The newest version wins: a configuration older than the one held (a page pulled again, a
//! server restored from a backup) changes nothing. The bundled configuration is used until the
//! first one arrives, and whenever it is newer than the one received.

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension};
use waypoint_protocol::{AgencyConfigVersion, Change};

use crate::error::{Error, Result};
use crate::store::timestamp;
use crate::vocab::AgencyConfig;

/// The configuration received last, if any (checked again by the core's rules).
pub fn stored(conn: &Connection) -> Result<Option<AgencyConfig>> {
    let text: Option<String> =
        conn.query_row("SELECT config FROM agency_config WHERE id = 1", [], |r| r.get(0)).optional()?;
    text.map(|t| AgencyConfig::from_json(&t)).transpose()
}

/// Keeps `config` when it is newer than the one held; `true` when it was kept.
pub fn keep_if_newer(conn: &Connection, config: &AgencyConfig) -> Result<bool> {
    let held: Option<u32> =
        conn.query_row("SELECT version FROM agency_config WHERE id = 1", [], |r| r.get(0)).optional()?;
    if held.is_some_and(|held| held >= config.config_version) {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO agency_config (id, version, config, received_at) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, config = excluded.config,
             received_at = excluded.received_at",
        params![config.config_version, serde_json::to_string(config)?, timestamp(Utc::now())],
    )?;
    Ok(true)
}

/// The configuration an `agency_config` change (or `GET /v1/agency/config`) carries, checked.
pub fn from_wire(body: AgencyConfigVersion) -> Result<AgencyConfig> {
    let config = AgencyConfig::from_value(body.config)?;
    if config.config_version != body.version {
        return Err(Error::Config(format!(
            "version {} carries a configuration numbered {}",
            body.version, config.config_version
        )));
    }
    Ok(config)
}

/// Applies one pulled `agency_config` change inside the caller's transaction.
pub fn apply_change(conn: &Connection, change: &Change) -> Result<bool> {
    let body: AgencyConfigVersion = serde_json::from_value(change.body.clone())?;
    keep_if_newer(conn, &from_wire(body)?)
}
