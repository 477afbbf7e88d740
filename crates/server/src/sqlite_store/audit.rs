//! The audit trail on SQLite: appends share the store's one connection, so they are serialized.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use waypoint_protocol::audit::{AuditPushResponse, DeviceAuditEntry};

use super::{text, SqliteStore};
use crate::audit::{self as trail, DeviceChain, Placement};
use crate::store::audit::{AuditRow, AuditStore, DeviceAuditStatus, NewAuditEvent};
use crate::store::StoreResult;

pub(super) const ROW_COLUMNS: &str = "seq, at, actor, client, action, target, outcome, detail, prev_hash, hash";

pub(super) fn audit_row(r: &rusqlite::Row) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        seq: r.get::<_, i64>(0)? as u64,
        at: r.get(1)?,
        actor: r.get(2)?,
        client: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        outcome: r.get(6)?,
        detail: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

/// Appends one event inside `tx` (the caller's transaction holds SQLite's write lock).
pub(super) fn append_audit_in(tx: &Connection, event: NewAuditEvent) -> StoreResult<AuditRow> {
    let (last_seq, last_hash): (i64, String) =
        tx.query_row("SELECT last_seq, last_hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let row = trail::next_row(last_seq as u64, &last_hash, event);
    tx.prepare_cached(&format!(
        "INSERT INTO audit_events ({ROW_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    ))?
    .execute(params![
        row.seq as i64,
        row.at,
        row.actor,
        row.client,
        row.action,
        row.target,
        row.outcome,
        row.detail,
        row.prev_hash,
        row.hash
    ])?;
    tx.execute("UPDATE audit_head SET last_seq = ?1, last_hash = ?2 WHERE id = 1", params![row.seq as i64, row.hash])?;
    Ok(row)
}

fn chain_of(conn: &Connection, device_id: &str) -> StoreResult<Option<DeviceChain>> {
    Ok(conn
        .query_row(
            "SELECT segment, last_seq, last_hash FROM device_audit_state WHERE device_id = ?1",
            [device_id],
            |r| Ok(DeviceChain { segment: r.get(0)?, last_seq: r.get(1)?, last_hash: r.get(2)? }),
        )
        .optional()?)
}

fn push_in(tx: &Connection, device_id: &str, entries: &[DeviceAuditEntry]) -> StoreResult<AuditPushResponse> {
    let mut chain = chain_of(tx, device_id)?.unwrap_or_default();
    let placements = {
        let mut held =
            tx.prepare_cached("SELECT hash FROM device_audit WHERE device_id = ?1 AND segment = ?2 AND seq = ?3")?;
        trail::place_device_entries(&mut chain, entries, |segment, seq| {
            Ok(held.query_row(params![device_id, segment, seq], |r| r.get(0)).optional()?)
        })?
    };
    let now = text(chrono::Utc::now());
    let mut reply = AuditPushResponse {
        stored: 0,
        duplicates: 0,
        last_seq: chain.last_seq,
        last_hash: chain.last_hash.clone(),
        chain_breaks: Vec::new(),
    };
    let mut insert = tx.prepare_cached(
        "INSERT INTO device_audit (device_id, segment, seq, at, actor, device, action, record_id, outcome, prev_hash,
             hash, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for (e, placement) in entries.iter().zip(placements) {
        let Placement::Store { segment, break_reason } = placement else {
            reply.duplicates += 1;
            continue;
        };
        insert.execute(params![
            device_id,
            segment,
            e.seq,
            e.at,
            e.actor,
            e.device,
            e.action,
            e.record_id,
            e.outcome,
            e.prev_hash,
            e.hash,
            now
        ])?;
        reply.stored += 1;
        if let Some(reason) = break_reason {
            tx.execute(
                "INSERT INTO device_audit_breaks (device_id, segment, seq, at, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![device_id, segment, e.seq, now, reason],
            )?;
            append_audit_in(tx, trail::device_break_event(device_id, segment, &reason))?;
            reply.chain_breaks.push(reason);
        }
    }
    let flagged = (!reply.chain_breaks.is_empty()).then_some(now);
    tx.execute(
        "INSERT INTO device_audit_state (device_id, segment, last_seq, last_hash, flagged_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (device_id) DO UPDATE SET segment = excluded.segment, last_seq = excluded.last_seq,
             last_hash = excluded.last_hash, flagged_at = coalesce(device_audit_state.flagged_at, excluded.flagged_at)",
        params![device_id, chain.segment, chain.last_seq, chain.last_hash, flagged],
    )?;
    Ok(reply)
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, event: NewAuditEvent) -> StoreResult<AuditRow> {
        self.write(move |tx| append_audit_in(tx, event)).await
    }

    async fn audit_rows(&self, after_seq: u64, limit: usize) -> StoreResult<Vec<AuditRow>> {
        self.run(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![after_seq as i64, limit as i64], audit_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn audit_head(&self) -> StoreResult<(u64, String)> {
        self.run(|conn| {
            let (seq, hash): (i64, String) = conn
                .query_row("SELECT last_seq, last_hash FROM audit_head WHERE id = 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
                .ok_or_else(|| crate::store::StoreError::Database("the audit trail's head row is missing".into()))?;
            Ok((seq as u64, hash))
        })
        .await
    }

    async fn push_device_audit(
        &self,
        device_id: &str,
        entries: Vec<DeviceAuditEntry>,
    ) -> StoreResult<AuditPushResponse> {
        let device_id = device_id.to_string();
        self.write(move |tx| push_in(tx, &device_id, &entries)).await
    }

    async fn device_audit_status(&self, device_id: &str) -> StoreResult<Option<DeviceAuditStatus>> {
        let device_id = device_id.to_string();
        self.run(move |conn| {
            let Some(chain) = chain_of(conn, &device_id)? else { return Ok(None) };
            let mut stmt =
                conn.prepare("SELECT reason FROM device_audit_breaks WHERE device_id = ?1 ORDER BY segment")?;
            let breaks = stmt.query_map([&device_id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(Some(DeviceAuditStatus {
                device_id: device_id.clone(),
                segment: chain.segment,
                last_seq: chain.last_seq,
                last_hash: chain.last_hash,
                breaks,
            }))
        })
        .await
    }
}
