//! The audit trail on PostgreSQL: each append takes the `audit_head` row lock in its transaction
//! (held to commit), so concurrent appends line up into one chain.

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use waypoint_protocol::audit::{AuditPushResponse, DeviceAuditEntry};

use super::PostgresStore;
use crate::audit::{self as trail, DeviceChain, Placement};
use crate::store::audit::{AuditRow, AuditStore, DeviceAuditStatus, NewAuditEvent};
use crate::store::{StoreError, StoreResult};

pub(super) const ROW_COLUMNS: &str = "seq, at, actor, client, action, target, outcome, detail, prev_hash, hash";

pub(super) fn audit_row(r: &tokio_postgres::Row) -> AuditRow {
    AuditRow {
        seq: r.get::<_, i64>(0) as u64,
        at: r.get(1),
        actor: r.get(2),
        client: r.get(3),
        action: r.get(4),
        target: r.get(5),
        outcome: r.get(6),
        detail: r.get(7),
        prev_hash: r.get(8),
        hash: r.get(9),
    }
}

/// Appends one event inside `tx`; the head row stays locked until `tx` ends.
pub(super) async fn append_audit_in(tx: &Transaction<'_>, event: NewAuditEvent) -> StoreResult<AuditRow> {
    let head = tx.query_one("SELECT last_seq, last_hash FROM audit_head WHERE id = 1 FOR UPDATE", &[]).await?;
    let row = trail::next_row(head.get::<_, i64>(0) as u64, head.get(1), event);
    let seq = row.seq as i64;
    let insert = tx
        .prepare_cached(&format!(
            "INSERT INTO audit_events ({ROW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .await?;
    tx.execute(
        &insert,
        &[
            &seq,
            &row.at,
            &row.actor,
            &row.client,
            &row.action,
            &row.target,
            &row.outcome,
            &row.detail,
            &row.prev_hash,
            &row.hash,
        ],
    )
    .await?;
    tx.execute("UPDATE audit_head SET last_seq = $1, last_hash = $2 WHERE id = 1", &[&seq, &row.hash]).await?;
    Ok(row)
}

/// The device's chain state, locked to the end of `tx`.
async fn chain_of(tx: &Transaction<'_>, device_id: &str) -> StoreResult<Option<DeviceChain>> {
    let sql = "SELECT segment, last_seq, last_hash FROM device_audit_state WHERE device_id = $1 FOR UPDATE";
    Ok(tx.query_opt(sql, &[&device_id]).await?.map(|r| DeviceChain {
        segment: r.get::<_, i32>(0) as i64,
        last_seq: r.get(1),
        last_hash: r.get(2),
    }))
}

async fn push_in(
    tx: &Transaction<'_>,
    device_id: &str,
    entries: &[DeviceAuditEntry],
) -> StoreResult<AuditPushResponse> {
    // The state row is this device's lock: two pushes from one device line up behind it.
    tx.execute(
        "INSERT INTO device_audit_state (device_id, segment, last_seq, last_hash) VALUES ($1, 0, 0, $2)
         ON CONFLICT (device_id) DO NOTHING",
        &[&device_id, &waypoint_protocol::audit::GENESIS],
    )
    .await?;
    let mut chain = chain_of(tx, device_id).await?.unwrap_or_default();
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    let held: HashMap<(i64, i64), String> = tx
        .query(
            "SELECT segment, seq, hash FROM device_audit WHERE device_id = $1 AND seq = ANY($2)",
            &[&device_id, &seqs],
        )
        .await?
        .iter()
        .map(|r| ((r.get::<_, i32>(0) as i64, r.get::<_, i64>(1)), r.get(2)))
        .collect();
    let placements =
        trail::place_device_entries(&mut chain, entries, |segment, seq| Ok(held.get(&(segment, seq)).cloned()))?;
    let mut reply = AuditPushResponse {
        stored: 0,
        duplicates: 0,
        last_seq: chain.last_seq,
        last_hash: chain.last_hash.clone(),
        chain_breaks: Vec::new(),
    };
    let insert = tx
        .prepare_cached(
            "INSERT INTO device_audit (device_id, segment, seq, at, actor, device, action, record_id, outcome,
                 prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .await?;
    for (e, placement) in entries.iter().zip(placements) {
        let Placement::Store { segment, break_reason } = placement else {
            reply.duplicates += 1;
            continue;
        };
        let segment32 = segment as i32;
        tx.execute(
            &insert,
            &[
                &device_id,
                &segment32,
                &e.seq,
                &e.at,
                &e.actor,
                &e.device,
                &e.action,
                &e.record_id,
                &e.outcome,
                &e.prev_hash,
                &e.hash,
            ],
        )
        .await?;
        reply.stored += 1;
        if let Some(reason) = break_reason {
            tx.execute(
                "INSERT INTO device_audit_breaks (device_id, segment, seq, reason) VALUES ($1, $2, $3, $4)",
                &[&device_id, &segment32, &e.seq, &reason],
            )
            .await?;
            append_audit_in(tx, trail::device_break_event(device_id, segment, &reason)).await?;
            reply.chain_breaks.push(reason);
        }
    }
    let flagged = !reply.chain_breaks.is_empty();
    tx.execute(
        "UPDATE device_audit_state SET segment = $2, last_seq = $3, last_hash = $4,
             flagged_at = CASE WHEN $5 THEN coalesce(flagged_at, now()) ELSE flagged_at END
         WHERE device_id = $1",
        &[&device_id, &(chain.segment as i32), &chain.last_seq, &chain.last_hash, &flagged],
    )
    .await?;
    Ok(reply)
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn append_audit(&self, event: NewAuditEvent) -> StoreResult<AuditRow> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = append_audit_in(&tx, event).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn audit_rows(&self, after_seq: u64, limit: usize) -> StoreResult<Vec<AuditRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                &format!("SELECT {ROW_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"),
                &[&(after_seq as i64), &(limit as i64)],
            )
            .await?;
        Ok(rows.iter().map(audit_row).collect())
    }

    async fn audit_head(&self) -> StoreResult<(u64, String)> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt("SELECT last_seq, last_hash FROM audit_head WHERE id = 1", &[])
            .await?
            .ok_or_else(|| StoreError::Database("the audit trail's head row is missing".into()))?;
        Ok((row.get::<_, i64>(0) as u64, row.get(1)))
    }

    async fn push_device_audit(
        &self,
        device_id: &str,
        entries: Vec<DeviceAuditEntry>,
    ) -> StoreResult<AuditPushResponse> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let reply = push_in(&tx, device_id, &entries).await?;
        tx.commit().await?;
        Ok(reply)
    }

    async fn device_audit_status(&self, device_id: &str) -> StoreResult<Option<DeviceAuditStatus>> {
        let client = self.pool.get().await?;
        let row = client
            .query_opt(
                "SELECT segment, last_seq, last_hash FROM device_audit_state WHERE device_id = $1",
                &[&device_id],
            )
            .await?;
        let Some(chain) =
            row.map(|r| DeviceChain { segment: r.get::<_, i32>(0) as i64, last_seq: r.get(1), last_hash: r.get(2) })
        else {
            return Ok(None);
        };
        let breaks = client
            .query("SELECT reason FROM device_audit_breaks WHERE device_id = $1 ORDER BY segment", &[&device_id])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(Some(DeviceAuditStatus {
            device_id: device_id.to_string(),
            segment: chain.segment,
            last_seq: chain.last_seq,
            last_hash: chain.last_hash,
            breaks,
        }))
    }
}
