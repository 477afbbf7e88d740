//! [`RecordsStore`] on SQLite: `record_events`, `api_credentials`, `webhook_endpoints` and the
//! outbox `webhook_deliveries` (migration 0010). Times are stored as [`text`], which sorts as time.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use waypoint_protocol::{
    DeliveryState, RecordEventType, RecordsCredentialInfo, ReviewDecision, WebhookDeliveryInfo, WebhookInfo,
};

use super::{parse_time, parse_uuid, text, SqliteStore};
use crate::review_rules::DecisionInput;
use crate::store::records::*;
use crate::store::{StoreError, StoreResult};

fn event_type(text: &str) -> rusqlite::Result<RecordEventType> {
    RecordEventType::parse(text)
        .ok_or_else(|| rusqlite::Error::InvalidColumnType(0, text.to_string(), rusqlite::types::Type::Text))
}

fn optional_time(value: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    value.as_deref().map(parse_time).transpose()
}

/// Columns of [`event_row`], table alias `e`.
const EVENT_COLUMNS: &str = "e.seq, e.event_type, e.encounter_id, e.version, e.reviewer, e.decided_at";

fn event_row(r: &rusqlite::Row, from: usize) -> rusqlite::Result<RecordEventRow> {
    Ok(RecordEventRow {
        seq: r.get::<_, i64>(from)? as u64,
        event_type: event_type(&r.get::<_, String>(from + 1)?)?,
        encounter_id: parse_uuid(&r.get::<_, String>(from + 2)?)?,
        version: r.get(from + 3)?,
        reviewer: r.get(from + 4)?,
        decided_at: parse_time(&r.get::<_, String>(from + 5)?)?,
    })
}

/// In the decision's transaction: the record event the decision makes (if any) and its outbox
/// rows, one per enabled webhook endpoint. `in_force`: this version's decision before this one.
pub(super) fn record_event_in(
    tx: &Connection,
    input: &DecisionInput,
    in_force: Option<ReviewDecision>,
    feed_seq: u64,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let id = input.encounter_id.to_string();
    let earlier_approved: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM review_decisions WHERE encounter_id = ?1 AND version < ?2
         AND decision = 'approved')",
        params![id, input.version],
        |r| r.get(0),
    )?;
    let Some(kind) = event_for_decision(input.decision, earlier_approved, in_force) else { return Ok(()) };
    tx.execute(
        "INSERT INTO record_events (seq, event_type, encounter_id, version, reviewer, decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![feed_seq as i64, kind.as_str(), id, input.version, input.reviewer, text(at)],
    )?;
    tx.execute(
        "INSERT INTO webhook_deliveries (endpoint_id, event_seq, created_at, next_attempt_at)
         SELECT id, ?1, ?2, ?2 FROM webhook_endpoints WHERE enabled",
        params![feed_seq as i64, text(at)],
    )?;
    Ok(())
}

#[async_trait]
impl RecordsStore for SqliteStore {
    async fn record_events_after(&self, cursor: u64, limit: usize) -> StoreResult<Vec<RecordEventRow>> {
        self.run(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM record_events e WHERE e.seq > ?1 ORDER BY e.seq LIMIT ?2"
            ))?;
            let rows = statement
                .query_map(params![cursor as i64, limit as i64], |r| event_row(r, 0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn add_api_credential(
        &self,
        name: &str,
        token_hash: &str,
        created_by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let (name, token_hash, created_by) = (name.to_string(), token_hash.to_string(), created_by.to_string());
        self.write(move |tx| {
            let taken: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM api_credentials WHERE name = ?1)", [&name], |r| r.get(0))?;
            if taken {
                return Err(StoreError::AlreadyExists(format!("a records credential named `{name}` exists")));
            }
            tx.execute(
                "INSERT INTO api_credentials (name, token_hash, role, created_at, created_by)
                 VALUES (?1, ?2, 'records', ?3, ?4)",
                params![name, token_hash, text(at), created_by],
            )?;
            Ok(())
        })
        .await
    }

    async fn api_credential(&self, token_hash: &str) -> StoreResult<Option<ApiCredential>> {
        let token_hash = token_hash.to_string();
        self.run(move |conn| {
            let row = conn
                .prepare_cached("SELECT name, revoked_at, last_used_at FROM api_credentials WHERE token_hash = ?1")?
                .query_row([&token_hash], |r| {
                    Ok(ApiCredential {
                        name: r.get(0)?,
                        revoked_at: optional_time(r.get(1)?)?,
                        last_used_at: optional_time(r.get(2)?)?,
                    })
                })
                .optional()?;
            Ok(row)
        })
        .await
    }

    async fn touch_api_credential(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let name = name.to_string();
        self.write(move |tx| {
            tx.execute("UPDATE api_credentials SET last_used_at = ?2 WHERE name = ?1", params![name, text(at)])?;
            Ok(())
        })
        .await
    }

    async fn api_credentials(&self) -> StoreResult<Vec<RecordsCredentialInfo>> {
        self.run(|conn| {
            let mut statement = conn.prepare(
                "SELECT name, created_at, created_by, last_used_at, revoked_at FROM api_credentials ORDER BY name",
            )?;
            let rows = statement
                .query_map([], |r| {
                    Ok(RecordsCredentialInfo {
                        name: r.get(0)?,
                        created_at: parse_time(&r.get::<_, String>(1)?)?,
                        created_by: r.get(2)?,
                        last_used_at: optional_time(r.get(3)?)?,
                        revoked_at: optional_time(r.get(4)?)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn revoke_api_credential(&self, name: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let name = name.to_string();
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE api_credentials SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, text(at)],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn add_webhook(&self, url: &str, secret: &str, created_by: &str, at: DateTime<Utc>) -> StoreResult<u64> {
        let (url, secret, created_by) = (url.to_string(), secret.to_string(), created_by.to_string());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO webhook_endpoints (url, secret, enabled, created_at, created_by) VALUES (?1, ?2, 1, ?3, ?4)",
                params![url, secret, text(at), created_by],
            )?;
            Ok(tx.last_insert_rowid() as u64)
        })
        .await
    }

    async fn webhooks(&self) -> StoreResult<Vec<WebhookInfo>> {
        self.run(|conn| {
            let mut statement = conn.prepare(
                "SELECT w.id, w.url, w.enabled, w.created_at, w.created_by,
                 (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.state = 'pending'),
                 (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.state = 'delivered'),
                 (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.state = 'failed')
                 FROM webhook_endpoints w ORDER BY w.id",
            )?;
            let rows = statement
                .query_map([], |r| {
                    Ok(WebhookInfo {
                        id: r.get::<_, i64>(0)? as u64,
                        url: r.get(1)?,
                        enabled: r.get(2)?,
                        created_at: parse_time(&r.get::<_, String>(3)?)?,
                        created_by: r.get(4)?,
                        pending: r.get::<_, i64>(5)? as u64,
                        delivered: r.get::<_, i64>(6)? as u64,
                        failed: r.get::<_, i64>(7)? as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn set_webhook_enabled(&self, id: u64, enabled: bool) -> StoreResult<bool> {
        self.write(move |tx| {
            Ok(tx.execute("UPDATE webhook_endpoints SET enabled = ?2 WHERE id = ?1", params![id as i64, enabled])? == 1)
        })
        .await
    }

    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        retry_window: chrono::Duration,
        limit: usize,
    ) -> StoreResult<Vec<DueDelivery>> {
        self.write(move |tx| {
            let mut statement = tx.prepare_cached(&format!(
                "SELECT d.id, w.url, w.secret, d.attempts, coalesce(d.retry_until, ?2), {EVENT_COLUMNS}
                 FROM webhook_deliveries d
                 JOIN webhook_endpoints w ON w.id = d.endpoint_id
                 JOIN record_events e ON e.seq = d.event_seq
                 WHERE d.state = 'pending' AND d.next_attempt_at <= ?1 AND w.enabled
                 ORDER BY d.next_attempt_at, d.id LIMIT ?3"
            ))?;
            let due = statement
                .query_map(params![text(now), text(now + retry_window), limit as i64], |r| {
                    Ok(DueDelivery {
                        id: r.get::<_, i64>(0)? as u64,
                        url: r.get(1)?,
                        secret: r.get(2)?,
                        attempts: r.get(3)?,
                        retry_until: parse_time(&r.get::<_, String>(4)?)?,
                        event: event_row(r, 5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut claim = tx
                .prepare_cached("UPDATE webhook_deliveries SET next_attempt_at = ?2, retry_until = ?3 WHERE id = ?1")?;
            for delivery in &due {
                claim.execute(params![delivery.id as i64, text(now + lease), text(delivery.retry_until)])?;
            }
            Ok(due)
        })
        .await
    }

    async fn finish_attempt(&self, delivery_id: u64, at: DateTime<Utc>, result: AttemptResult) -> StoreResult<()> {
        self.write(move |tx| {
            match result {
                AttemptResult::Delivered { status } => tx.execute(
                    "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_attempt_at = ?2,
                     last_status = ?3, last_error = NULL, next_attempt_at = NULL, delivered_at = ?2 WHERE id = ?1",
                    params![delivery_id as i64, text(at), status],
                )?,
                AttemptResult::Failed { status, error, next_attempt_at } => tx.execute(
                    "UPDATE webhook_deliveries SET state = CASE WHEN ?5 IS NULL THEN 'failed' ELSE 'pending' END,
                     attempts = attempts + 1, last_attempt_at = ?2, last_status = ?3, last_error = ?4,
                     next_attempt_at = ?5 WHERE id = ?1",
                    params![delivery_id as i64, text(at), status, error, next_attempt_at.map(text)],
                )?,
            };
            Ok(())
        })
        .await
    }

    async fn next_delivery_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        self.run(|conn| {
            let next: Option<String> = conn
                .prepare_cached(
                    "SELECT min(d.next_attempt_at) FROM webhook_deliveries d
                     JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.state = 'pending' AND w.enabled",
                )?
                .query_row([], |r| r.get(0))?;
            Ok(optional_time(next)?)
        })
        .await
    }

    async fn webhook_deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> StoreResult<Vec<WebhookDeliveryInfo>> {
        self.run(move |conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT d.id, d.endpoint_id, d.state, d.attempts, d.created_at, d.last_attempt_at, d.last_status,
                 d.last_error, d.next_attempt_at, d.delivered_at, {EVENT_COLUMNS}
                 FROM webhook_deliveries d JOIN record_events e ON e.seq = d.event_seq
                 WHERE ?1 IS NULL OR d.state = ?1 ORDER BY d.id DESC LIMIT ?2"
            ))?;
            let rows = statement
                .query_map(params![state.map(DeliveryState::as_str), limit as i64], |r| {
                    let event = event_row(r, 10)?;
                    let state: String = r.get(2)?;
                    Ok(WebhookDeliveryInfo {
                        id: r.get::<_, i64>(0)? as u64,
                        webhook_id: r.get::<_, i64>(1)? as u64,
                        event_id: event.event_id(),
                        event_type: event.event_type,
                        encounter_id: event.encounter_id,
                        version: event.version,
                        state: DeliveryState::parse(&state).ok_or_else(|| {
                            rusqlite::Error::InvalidColumnType(2, state.clone(), rusqlite::types::Type::Text)
                        })?,
                        attempts: r.get(3)?,
                        created_at: parse_time(&r.get::<_, String>(4)?)?,
                        last_attempt_at: optional_time(r.get(5)?)?,
                        last_status: r.get(6)?,
                        last_error: r.get(7)?,
                        next_attempt_at: optional_time(r.get(8)?)?,
                        delivered_at: optional_time(r.get(9)?)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn replay_delivery(&self, delivery_id: u64, now: DateTime<Utc>) -> StoreResult<bool> {
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?2, retry_until = NULL,
                 delivered_at = NULL WHERE id = ?1",
                params![delivery_id as i64, text(now)],
            )?;
            Ok(changed == 1)
        })
        .await
    }
}
