//! The append-only audit log. Each row holds the SHA-256 of the row before it, and the newest
//! row's hash is kept in `meta`, so a changed, deleted or inserted row breaks the chain.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use waypoint_protocol::audit::DeviceAuditEntry;

use crate::error::{Error, Result};

use waypoint_protocol::audit::GENESIS;
const HEAD_KEY: &str = "audit_head";

/// What one audited event says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub device: String,
    pub action: String,
    pub record_id: Option<String>,
    pub outcome: String,
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditReport {
    #[ts(type = "number")]
    pub entries: i64,
    pub head_hash: String,
}

/// The chain function is the protocol's, so the server recomputes exactly what the device stored.
fn entry_hash(prev_hash: &str, e: &AuditEntry) -> String {
    waypoint_protocol::audit::device_entry_hash(
        prev_hash,
        e.seq,
        &e.at,
        &e.actor,
        &e.device,
        &e.action,
        e.record_id.as_deref(),
        &e.outcome,
    )
}

const ENTRY_COLUMNS: &str = "seq, at, actor, device, action, record_id, outcome";

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.get(0)?,
        at: row.get(1)?,
        actor: row.get(2)?,
        device: row.get(3)?,
        action: row.get(4)?,
        record_id: row.get(5)?,
        outcome: row.get(6)?,
    })
}

fn head(conn: &Connection) -> Result<(i64, String)> {
    let value: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([HEAD_KEY], |row| row.get(0))
        .optional()?;
    match value {
        None => Ok((0, GENESIS.to_owned())),
        Some(value) => {
            let (seq, hash) = value
                .split_once(':')
                .ok_or_else(|| Error::AuditTampered("the recorded head of the chain is damaged".into()))?;
            let seq =
                seq.parse().map_err(|_| Error::AuditTampered("the recorded head of the chain is damaged".into()))?;
            Ok((seq, hash.to_owned()))
        }
    }
}

/// Appends one event. Call inside the transaction of the change it records.
pub fn append(
    conn: &Connection,
    at: DateTime<Utc>,
    actor: &str,
    device: &str,
    action: &str,
    record_id: Option<&str>,
    outcome: &str,
) -> Result<()> {
    let (last_seq, prev_hash) = head(conn)?;
    let entry = AuditEntry {
        seq: last_seq + 1,
        at: at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor: actor.to_owned(),
        device: device.to_owned(),
        action: action.to_owned(),
        record_id: record_id.map(str::to_owned),
        outcome: outcome.to_owned(),
    };
    let hash = entry_hash(&prev_hash, &entry);
    conn.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, device, action, record_id, outcome, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        entry.seq,
        entry.at,
        entry.actor,
        entry.device,
        entry.action,
        entry.record_id,
        entry.outcome,
        prev_hash,
        hash
    ])?;
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![HEAD_KEY, format!("{}:{}", entry.seq, hash)])?;
    Ok(())
}

/// Walks the chain from the first row; the first row that does not fit is named in the error.
pub fn verify(conn: &Connection) -> Result<AuditReport> {
    let mut stmt = conn.prepare(&format!("SELECT {ENTRY_COLUMNS}, prev_hash, hash FROM audit_log ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let mut expected_seq = 1i64;
    let mut prev_hash = GENESIS.to_owned();
    while let Some(row) = rows.next()? {
        let entry = entry_from_row(row)?;
        let stored_prev: String = row.get(7)?;
        let stored_hash: String = row.get(8)?;
        if entry.seq != expected_seq {
            return Err(Error::AuditTampered(format!("row {expected_seq} is missing (the next row is {})", entry.seq)));
        }
        if stored_prev != prev_hash {
            return Err(Error::AuditTampered(format!("row {} does not follow row {}", entry.seq, entry.seq - 1)));
        }
        if entry_hash(&prev_hash, &entry) != stored_hash {
            return Err(Error::AuditTampered(format!("row {} was changed", entry.seq)));
        }
        prev_hash = stored_hash;
        expected_seq += 1;
    }
    let entries = expected_seq - 1;
    let (head_seq, head_hash) = head(conn)?;
    if head_seq != entries || head_hash != prev_hash {
        return Err(Error::AuditTampered(format!(
            "the log ends at row {entries} but row {head_seq} was the last written: rows were removed"
        )));
    }
    Ok(AuditReport { entries, head_hash })
}

/// The newest events first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT ?1"))?;
    let rows = stmt.query_map([limit], entry_from_row)?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The rows after `after_seq` as the server receives them (with their hashes), oldest first.
pub fn entries_after(conn: &Connection, after_seq: i64, limit: u32) -> Result<Vec<DeviceAuditEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS}, prev_hash, hash FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![after_seq, limit], |row| {
        let e = entry_from_row(row)?;
        Ok(DeviceAuditEntry {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            device: e.device,
            action: e.action,
            record_id: e.record_id,
            outcome: e.outcome,
            prev_hash: row.get(7)?,
            hash: row.get(8)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

const PUSHED_KEY: &str = "audit_pushed_seq";

/// The last row the server acknowledged (0: none yet).
pub fn pushed_seq(conn: &Connection) -> Result<i64> {
    let value: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([PUSHED_KEY], |r| r.get(0))
        .optional()?;
    Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
}

pub fn set_pushed_seq(conn: &Connection, seq: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![PUSHED_KEY, seq.to_string()])?;
    Ok(())
}
