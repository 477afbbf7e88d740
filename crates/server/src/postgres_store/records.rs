//! [`RecordsStore`] on PostgreSQL (migration 0012). Claims take `FOR UPDATE SKIP LOCKED`, so
//! several servers on one database share the outbox without sending a delivery twice at once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;
use waypoint_protocol::{
    DeliveryState, RecordEventType, RecordsCredentialInfo, ReviewDecision, WebhookDeliveryInfo, WebhookInfo,
};

use super::PostgresStore;
use crate::review_rules::DecisionInput;
use crate::store::records::*;
use crate::store::{StoreError, StoreResult};

/// Columns of [`event_row`], table alias `e`.
const EVENT_COLUMNS: &str = "e.seq, e.event_type, e.encounter_id, e.version, e.reviewer, e.decided_at";

fn event_row(row: &Row, from: usize) -> StoreResult<RecordEventRow> {
    let kind: String = row.get(from + 1);
    Ok(RecordEventRow {
        seq: row.get::<_, i64>(from) as u64,
        event_type: RecordEventType::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("unknown record event type `{kind}`")))?,
        encounter_id: row.get(from + 2),
        version: row.get::<_, i32>(from + 3) as u32,
        reviewer: row.get(from + 4),
        decided_at: row.get(from + 5),
    })
}

/// In the decision's transaction: the record event the decision makes (if any) and its outbox
/// rows, one per enabled webhook endpoint. `in_force`: this version's decision before this one.
pub(super) async fn record_event_in(
    tx: &Transaction<'_>,
    input: &DecisionInput,
    in_force: Option<ReviewDecision>,
    feed_seq: u64,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let version = input.version as i32;
    let earlier_approved: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM review_decisions WHERE encounter_id = $1 AND version < $2
             AND decision = 'approved')",
            &[&input.encounter_id, &version],
        )
        .await?
        .get(0);
    let Some(kind) = event_for_decision(input.decision, earlier_approved, in_force) else { return Ok(()) };
    let seq = feed_seq as i64;
    tx.execute(
        "INSERT INTO record_events (seq, event_type, encounter_id, version, reviewer, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&seq, &kind.as_str(), &input.encounter_id, &version, &input.reviewer, &at],
    )
    .await?;
    tx.execute(
        "INSERT INTO webhook_deliveries (endpoint_id, event_seq, created_at, next_attempt_at)
         SELECT id, $1, $2, $2 FROM webhook_endpoints WHERE enabled",
        &[&seq, &at],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl RecordsStore for PostgresStore {
    async fn record_events_after(&self, cursor: u64, limit: usize) -> StoreResult<Vec<RecordEventRow>> {
        let client = self.pool().get().await?;
        let rows = client
            .query(
                &format!("SELECT {EVENT_COLUMNS} FROM record_events e WHERE e.seq > $1 ORDER BY e.seq LIMIT $2"),
                &[&(cursor as i64), &(limit as i64)],
            )
            .await?;
        rows.iter().map(|row| event_row(row, 0)).collect()
    }

    async fn add_api_credential(
        &self,
        name: &str,
        token_hash: &str,
        created_by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let client = self.pool().get().await?;
        let inserted = client
            .execute(
                "INSERT INTO api_credentials (name, token_hash, role, created_at, created_by)
                 VALUES ($1, $2, 'records', $3, $4) ON CONFLICT (name) DO NOTHING",
                &[&name, &token_hash, &at, &created_by],
            )
            .await?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists(format!("a records credential named `{name}` exists")));
        }
        Ok(())
    }

    async fn api_credential(&self, token_hash: &str) -> StoreResult<Option<ApiCredential>> {
        let client = self.pool().get().await?;
        let row = client
            .query_opt(
                "SELECT name, revoked_at, last_used_at FROM api_credentials WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?;
        Ok(row.map(|row| ApiCredential { name: row.get(0), revoked_at: row.get(1), last_used_at: row.get(2) }))
    }

    async fn touch_api_credential(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let client = self.pool().get().await?;
        client.execute("UPDATE api_credentials SET last_used_at = $2 WHERE name = $1", &[&name, &at]).await?;
        Ok(())
    }

    async fn api_credentials(&self) -> StoreResult<Vec<RecordsCredentialInfo>> {
        let client = self.pool().get().await?;
        let rows = client
            .query(
                "SELECT name, created_at, created_by, last_used_at, revoked_at FROM api_credentials ORDER BY name",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| RecordsCredentialInfo {
                name: row.get(0),
                created_at: row.get(1),
                created_by: row.get(2),
                last_used_at: row.get(3),
                revoked_at: row.get(4),
            })
            .collect())
    }

    async fn revoke_api_credential(&self, name: &str, at: DateTime<Utc>) -> StoreResult<bool> {
        let client = self.pool().get().await?;
        let changed = client
            .execute("UPDATE api_credentials SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL", &[&name, &at])
            .await?;
        Ok(changed == 1)
    }

    async fn add_webhook(&self, url: &str, secret: &str, created_by: &str, at: DateTime<Utc>) -> StoreResult<u64> {
        let client = self.pool().get().await?;
        let row = client
            .query_one(
                "INSERT INTO webhook_endpoints (url, secret, enabled, created_at, created_by)
                 VALUES ($1, $2, TRUE, $3, $4) RETURNING id",
                &[&url, &secret, &at, &created_by],
            )
            .await?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn webhooks(&self) -> StoreResult<Vec<WebhookInfo>> {
        let client = self.pool().get().await?;
        let rows = client
            .query(
                "SELECT w.id, w.url, w.enabled, w.created_at, w.created_by,
                 count(*) FILTER (WHERE d.state = 'pending'),
                 count(*) FILTER (WHERE d.state = 'delivered'),
                 count(*) FILTER (WHERE d.state = 'failed')
                 FROM webhook_endpoints w LEFT JOIN webhook_deliveries d ON d.endpoint_id = w.id
                 GROUP BY w.id ORDER BY w.id",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| WebhookInfo {
                id: row.get::<_, i64>(0) as u64,
                url: row.get(1),
                enabled: row.get(2),
                created_at: row.get(3),
                created_by: row.get(4),
                pending: row.get::<_, i64>(5) as u64,
                delivered: row.get::<_, i64>(6) as u64,
                failed: row.get::<_, i64>(7) as u64,
            })
            .collect())
    }

    async fn set_webhook_enabled(&self, id: u64, enabled: bool) -> StoreResult<bool> {
        let client = self.pool().get().await?;
        let changed = client
            .execute("UPDATE webhook_endpoints SET enabled = $2 WHERE id = $1", &[&(id as i64), &enabled])
            .await?;
        Ok(changed == 1)
    }

    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        retry_window: chrono::Duration,
        limit: usize,
    ) -> StoreResult<Vec<DueDelivery>> {
        let mut client = self.pool().get().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query(
                &format!(
                    "SELECT d.id, w.url, w.secret, d.attempts, coalesce(d.retry_until, $2), {EVENT_COLUMNS}
                     FROM webhook_deliveries d
                     JOIN webhook_endpoints w ON w.id = d.endpoint_id
                     JOIN record_events e ON e.seq = d.event_seq
                     WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND w.enabled
                     ORDER BY d.next_attempt_at, d.id LIMIT $3
                     FOR UPDATE OF d SKIP LOCKED"
                ),
                &[&now, &(now + retry_window), &(limit as i64)],
            )
            .await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in &rows {
            due.push(DueDelivery {
                id: row.get::<_, i64>(0) as u64,
                url: row.get(1),
                secret: row.get(2),
                attempts: row.get::<_, i32>(3) as u32,
                retry_until: row.get(4),
                event: event_row(row, 5)?,
            });
        }
        for delivery in &due {
            tx.execute(
                "UPDATE webhook_deliveries SET next_attempt_at = $2, retry_until = $3 WHERE id = $1",
                &[&(delivery.id as i64), &(now + lease), &delivery.retry_until],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(due)
    }

    async fn finish_attempt(&self, delivery_id: u64, at: DateTime<Utc>, result: AttemptResult) -> StoreResult<()> {
        let client = self.pool().get().await?;
        let id = delivery_id as i64;
        match result {
            AttemptResult::Delivered { status } => {
                client
                    .execute(
                        "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1,
                         last_attempt_at = $2, last_status = $3, last_error = NULL, next_attempt_at = NULL,
                         delivered_at = $2 WHERE id = $1",
                        &[&id, &at, &(status as i32)],
                    )
                    .await?
            }
            AttemptResult::Failed { status, error, next_attempt_at } => {
                let state = if next_attempt_at.is_some() { "pending" } else { "failed" };
                client
                    .execute(
                        "UPDATE webhook_deliveries SET state = $5, attempts = attempts + 1, last_attempt_at = $2,
                         last_status = $3, last_error = $4, next_attempt_at = $6 WHERE id = $1",
                        &[&id, &at, &status.map(i32::from), &error, &state, &next_attempt_at],
                    )
                    .await?
            }
        };
        Ok(())
    }

    async fn next_delivery_due(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let client = self.pool().get().await?;
        let row = client
            .query_one(
                "SELECT min(d.next_attempt_at) FROM webhook_deliveries d
                 JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.state = 'pending' AND w.enabled",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn webhook_deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> StoreResult<Vec<WebhookDeliveryInfo>> {
        let client = self.pool().get().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT d.id, d.endpoint_id, d.state, d.attempts, d.created_at, d.last_attempt_at, d.last_status,
                     d.last_error, d.next_attempt_at, d.delivered_at, {EVENT_COLUMNS}
                     FROM webhook_deliveries d JOIN record_events e ON e.seq = d.event_seq
                     WHERE $1::text IS NULL OR d.state = $1 ORDER BY d.id DESC LIMIT $2"
                ),
                &[&state.map(DeliveryState::as_str), &(limit as i64)],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let event = event_row(row, 10)?;
                let state: String = row.get(2);
                Ok(WebhookDeliveryInfo {
                    id: row.get::<_, i64>(0) as u64,
                    webhook_id: row.get::<_, i64>(1) as u64,
                    event_id: event.event_id(),
                    event_type: event.event_type,
                    encounter_id: event.encounter_id,
                    version: event.version,
                    state: DeliveryState::parse(&state)
                        .ok_or_else(|| StoreError::Database(format!("unknown delivery state `{state}`")))?,
                    attempts: row.get::<_, i32>(3) as u32,
                    created_at: row.get(4),
                    last_attempt_at: row.get(5),
                    last_status: row.get::<_, Option<i32>>(6).map(|s| s as u16),
                    last_error: row.get(7),
                    next_attempt_at: row.get(8),
                    delivered_at: row.get(9),
                })
            })
            .collect()
    }

    async fn replay_delivery(&self, delivery_id: u64, now: DateTime<Utc>) -> StoreResult<bool> {
        let client = self.pool().get().await?;
        let changed = client
            .execute(
                "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $2, retry_until = NULL,
                 delivered_at = NULL WHERE id = $1",
                &[&(delivery_id as i64), &now],
            )
            .await?;
        Ok(changed == 1)
    }
}
