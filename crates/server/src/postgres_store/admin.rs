//! [`AdminStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use waypoint_protocol::{Role, SessionOrigin};

use super::audit::{audit_row, ROW_COLUMNS};
use super::{stored_version, PostgresStore};
use crate::store::admin::{
    like_pattern, AdminStore, AuditFilter, DeviceDetail, DeviceReport, ExportFilter, SessionRow,
};
use crate::store::audit::AuditRow;
use crate::store::{StoreError, StoreResult, StoredVersion};

/// A WHERE clause built from the filters that are set, with its parameters in order.
#[derive(Default)]
struct Conditions {
    clauses: Vec<String>,
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Conditions {
    /// Adds `clause`, each of whose `?` is the next parameter (one value, however often it appears).
    fn push(&mut self, clause: &str, value: impl ToSql + Sync + Send + 'static) {
        self.values.push(Box::new(value));
        self.clauses.push(clause.replace('?', &format!("${}", self.values.len())));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect()
    }
}

/// Uses up an unexpired re-enrolment code of `device_id` and gives that device `token_hash`, no
/// longer revoked, inside the enrolment's transaction; `false` when there is no such code.
pub(super) async fn reenrol(
    tx: &deadpool_postgres::Transaction<'_>,
    code_hash: &str,
    now: DateTime<Utc>,
    device_id: &str,
    token_hash: &str,
) -> StoreResult<bool> {
    let used = tx
        .execute(
            "UPDATE reenrolments SET used_at = $2
             WHERE code_hash = $1 AND device_id = $3 AND used_at IS NULL AND expires_at > $2",
            &[&code_hash, &now, &device_id],
        )
        .await?;
    if used == 0 {
        return Ok(false);
    }
    let replaced = tx
        .execute(
            "UPDATE devices SET token_hash = $2, revoked_at = NULL WHERE device_id = $1",
            &[&device_id, &token_hash],
        )
        .await?;
    Ok(replaced == 1)
}

#[async_trait]
impl AdminStore for PostgresStore {
    async fn describe_session(
        &self,
        token_hash: &str,
        created_at: DateTime<Utc>,
        origin: SessionOrigin,
        device_id: Option<&str>,
    ) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE sessions SET created_at = $2, origin = $3, device_id = $4 WHERE token_hash = $1",
                &[&token_hash, &created_at, &origin.as_str(), &device_id],
            )
            .await?;
        Ok(())
    }

    async fn set_session_origin(&self, token_hash: &str, origin: SessionOrigin) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute("UPDATE sessions SET origin = $2 WHERE token_hash = $1", &[&token_hash, &origin.as_str()])
            .await?;
        Ok(())
    }

    async fn officer_ids(&self) -> StoreResult<Vec<(String, String)>> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT username, officer_id FROM users", &[]).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn live_sessions(&self, now: DateTime<Utc>) -> StoreResult<Vec<SessionRow>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT username, created_at, last_used_at, expires_at, origin, device_id FROM sessions
                 WHERE expires_at > $1 ORDER BY created_at DESC NULLS LAST, username",
                &[&now],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| SessionRow {
                username: r.get(0),
                created_at: r.get(1),
                last_used_at: r.get(2),
                expires_at: r.get(3),
                origin: SessionOrigin::parse(r.get::<_, Option<&str>>(4)),
                device_id: r.get(5),
            })
            .collect())
    }

    async fn set_role(&self, username: &str, role: Role) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let changed =
            tx.execute("UPDATE users SET role = $2 WHERE username = $1", &[&username, &role.as_str()]).await?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("user {username}")));
        }
        tx.execute("DELETE FROM sessions WHERE username = $1", &[&username]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn device_details(&self, now: DateTime<Utc>) -> StoreResult<Vec<DeviceDetail>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT d.device_id, d.enrolled_at, d.last_seen_at, d.revoked_at, o.username, o.issued_at,
                        d.app_version, d.pending_records, d.reported_at,
                        (SELECT max(r.expires_at) FROM reenrolments r
                         WHERE r.device_id = d.device_id AND r.used_at IS NULL AND r.expires_at > $1),
                        v.config_version
                 FROM devices d
                 LEFT JOIN device_config_versions v ON v.device_id = d.device_id
                 LEFT JOIN LATERAL (
                     SELECT username, issued_at FROM officer_credentials c WHERE c.device_id = d.device_id
                     ORDER BY issued_at DESC LIMIT 1) o ON true
                 ORDER BY d.enrolled_at, d.device_id",
                &[&now],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| DeviceDetail {
                device_id: r.get(0),
                enrolled_at: r.get(1),
                last_seen_at: r.get(2),
                revoked_at: r.get(3),
                last_officer: r.get(4),
                last_officer_signed_in_at: r.get(5),
                app_version: r.get(6),
                pending_records: r.get::<_, Option<i64>>(7).map(|n| n.max(0) as u64),
                reported_at: r.get(8),
                reenrolment_until: r.get(9),
                config_version: r.get::<_, Option<i32>>(10).map(|v| v.max(0) as u32),
            })
            .collect())
    }

    async fn record_device_report(&self, device_id: &str, report: &DeviceReport, at: DateTime<Utc>) -> StoreResult<()> {
        let client = self.pool.get().await?;
        let pending = report.pending_records.map(|n| n.min(i64::MAX as u64) as i64);
        client
            .execute(
                "UPDATE devices SET app_version = coalesce($2, app_version),
                                    pending_records = coalesce($3, pending_records), reported_at = $4
                 WHERE device_id = $1",
                &[&device_id, &report.app_version, &pending, &at],
            )
            .await?;
        Ok(())
    }

    async fn add_reenrolment(&self, device_id: &str, code_hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let now = Utc::now();
        let changed = tx
            .execute(
                "UPDATE devices SET revoked_at = coalesce(revoked_at, $2) WHERE device_id = $1",
                &[&device_id, &now],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("device {device_id}")));
        }
        tx.execute(
            "UPDATE officer_credentials SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL",
            &[&device_id, &now],
        )
        .await?;
        // Only the newest code re-enrols it.
        tx.execute(
            "UPDATE reenrolments SET expires_at = $2 WHERE device_id = $1 AND used_at IS NULL AND expires_at > $2",
            &[&device_id, &now],
        )
        .await?;
        tx.execute(
            "INSERT INTO reenrolments (code_hash, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[&code_hash, &device_id, &now, &expires_at],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn search_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRow>> {
        let filter = filter.clone();
        let mut conditions = Conditions::default();
        if let Some(actor) = filter.actor {
            conditions.push("actor = ?", actor);
        }
        if let Some(action) = filter.action {
            conditions.push("action = ?", action);
        }
        if let Some(outcome) = filter.outcome {
            conditions.push("outcome = ?", outcome);
        }
        if let Some(target) = filter.target {
            conditions.push("target ILIKE ? ESCAPE '\\'", like_pattern(&target));
        }
        if let Some(from) = filter.from {
            conditions.push("at >= ?", from);
        }
        if let Some(to) = filter.to {
            conditions.push("at < ?", to);
        }
        if let Some(before) = filter.before {
            conditions.push("seq < ?", before.min(i64::MAX as u64) as i64);
        }
        let sql = format!(
            "SELECT {ROW_COLUMNS} FROM audit_events {} ORDER BY seq DESC LIMIT {}",
            conditions.sql(),
            filter.limit
        );
        let client = self.pool.get().await?;
        let rows = client.query(&sql, &conditions.params()).await?;
        Ok(rows.iter().map(audit_row).collect())
    }

    async fn export_versions(&self, filter: &ExportFilter) -> StoreResult<Vec<StoredVersion>> {
        let filter = filter.clone();
        let mut conditions = Conditions::default();
        if let Some(from) = filter.from {
            conditions.push("v.received_at >= ?", from);
        }
        if let Some(to) = filter.to {
            conditions.push("v.received_at < ?", to);
        }
        if let Some(officer) = filter.officer {
            conditions
                .push("(v.officer = ? OR v.officer IN (SELECT username FROM users WHERE officer_id = ?))", officer);
        }
        if let Some(state) = filter.state {
            conditions.push("i.state = ?", state);
        }
        let sql = format!(
            "SELECT v.encounter_id, v.version, v.content_hash, v.device_id, v.received_at, v.body, v.officer
             FROM encounter_versions v LEFT JOIN review_index i ON i.encounter_id = v.encounter_id
             {} ORDER BY v.received_at, v.encounter_id, v.version",
            conditions.sql()
        );
        let client = self.pool.get().await?;
        let rows = client.query(&sql, &conditions.params()).await?;
        Ok(rows.iter().map(stored_version).collect())
    }
}
