//! [`AdminStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::ToSql;
use rusqlite::{params, params_from_iter};
use waypoint_protocol::{Role, SessionOrigin};

use super::audit::{audit_row, ROW_COLUMNS};
use super::{parse_time, stored_version, text, SqliteStore};
use crate::store::admin::{
    like_pattern, AdminStore, AuditFilter, DeviceDetail, DeviceReport, ExportFilter, SessionRow,
};
use crate::store::audit::AuditRow;
use crate::store::{StoreError, StoreResult, StoredVersion};

fn optional_time(value: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    value.as_deref().map(parse_time).transpose()
}

/// A WHERE clause built from the filters that are set, with its parameters in order.
#[derive(Default)]
struct Conditions {
    clauses: Vec<String>,
    values: Vec<Box<dyn ToSql + Send>>,
}

impl Conditions {
    /// Adds `clause`, each of whose `?` is the next parameter (one value, however often it appears).
    fn push(&mut self, clause: &str, value: impl ToSql + Send + 'static) {
        self.values.push(Box::new(value));
        self.clauses.push(clause.replace('?', &format!("?{}", self.values.len())));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// Uses up an unexpired re-enrolment code of `device_id` and gives that device `token_hash`, no
/// longer revoked, inside the enrolment's transaction; `false` when there is no such code.
pub(super) fn reenrol(
    tx: &rusqlite::Connection,
    code_hash: &str,
    now: DateTime<Utc>,
    device_id: &str,
    token_hash: &str,
) -> StoreResult<bool> {
    let used = tx.execute(
        "UPDATE reenrolments SET used_at = ?2
         WHERE code_hash = ?1 AND device_id = ?3 AND used_at IS NULL AND expires_at > ?2",
        params![code_hash, text(now), device_id],
    )?;
    if used == 0 {
        return Ok(false);
    }
    let replaced = tx.execute(
        "UPDATE devices SET token_hash = ?2, revoked_at = NULL WHERE device_id = ?1",
        params![device_id, token_hash],
    )?;
    Ok(replaced == 1)
}

#[async_trait]
impl AdminStore for SqliteStore {
    async fn describe_session(
        &self,
        token_hash: &str,
        created_at: DateTime<Utc>,
        origin: SessionOrigin,
        device_id: Option<&str>,
    ) -> StoreResult<()> {
        let (token_hash, device_id) = (token_hash.to_string(), device_id.map(str::to_string));
        self.write(move |tx| {
            tx.execute(
                "UPDATE sessions SET created_at = ?2, origin = ?3, device_id = ?4 WHERE token_hash = ?1",
                params![token_hash, text(created_at), origin.as_str(), device_id],
            )?;
            Ok(())
        })
        .await
    }

    async fn set_session_origin(&self, token_hash: &str, origin: SessionOrigin) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |tx| {
            tx.execute("UPDATE sessions SET origin = ?2 WHERE token_hash = ?1", params![token_hash, origin.as_str()])?;
            Ok(())
        })
        .await
    }

    async fn officer_ids(&self) -> StoreResult<Vec<(String, String)>> {
        self.run(|conn| {
            let mut statement = conn.prepare("SELECT username, officer_id FROM users")?;
            let rows =
                statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn live_sessions(&self, now: DateTime<Utc>) -> StoreResult<Vec<SessionRow>> {
        self.run(move |conn| {
            let mut statement = conn.prepare(
                "SELECT username, created_at, last_used_at, expires_at, origin, device_id FROM sessions
                 WHERE expires_at > ?1 ORDER BY coalesce(created_at, '') DESC, username",
            )?;
            let rows = statement
                .query_map([text(now)], |r| {
                    Ok(SessionRow {
                        username: r.get(0)?,
                        created_at: optional_time(r.get(1)?)?,
                        last_used_at: optional_time(r.get(2)?)?,
                        expires_at: parse_time(&r.get::<_, String>(3)?)?,
                        origin: SessionOrigin::parse(r.get::<_, Option<String>>(4)?.as_deref()),
                        device_id: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn set_role(&self, username: &str, role: Role) -> StoreResult<()> {
        let username = username.to_string();
        self.write(move |tx| {
            let changed =
                tx.execute("UPDATE users SET role = ?2 WHERE username = ?1", params![username, role.as_str()])?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("user {username}")));
            }
            tx.execute("DELETE FROM sessions WHERE username = ?1", [&username])?;
            Ok(())
        })
        .await
    }

    async fn device_details(&self, now: DateTime<Utc>) -> StoreResult<Vec<DeviceDetail>> {
        self.run(move |conn| {
            let mut statement = conn.prepare(
                "SELECT d.device_id, d.enrolled_at, d.last_seen_at, d.revoked_at, o.username, o.issued_at,
                        d.app_version, d.pending_records, d.reported_at,
                        (SELECT max(r.expires_at) FROM reenrolments r
                         WHERE r.device_id = d.device_id AND r.used_at IS NULL AND r.expires_at > ?1),
                        v.config_version
                 FROM devices d
                 LEFT JOIN device_config_versions v ON v.device_id = d.device_id
                 LEFT JOIN officer_credentials o ON o.rowid = (
                     SELECT rowid FROM officer_credentials WHERE device_id = d.device_id
                     ORDER BY issued_at DESC, rowid DESC LIMIT 1)
                 ORDER BY d.enrolled_at, d.device_id",
            )?;
            let rows = statement
                .query_map([text(now)], |r| {
                    Ok(DeviceDetail {
                        device_id: r.get(0)?,
                        enrolled_at: parse_time(&r.get::<_, String>(1)?)?,
                        last_seen_at: optional_time(r.get(2)?)?,
                        revoked_at: optional_time(r.get(3)?)?,
                        last_officer: r.get(4)?,
                        last_officer_signed_in_at: optional_time(r.get(5)?)?,
                        app_version: r.get(6)?,
                        pending_records: r.get::<_, Option<i64>>(7)?.map(|n| n.max(0) as u64),
                        reported_at: optional_time(r.get(8)?)?,
                        reenrolment_until: optional_time(r.get(9)?)?,
                        config_version: r.get(10)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn record_device_report(&self, device_id: &str, report: &DeviceReport, at: DateTime<Utc>) -> StoreResult<()> {
        let (device_id, report) = (device_id.to_string(), report.clone());
        self.write(move |tx| {
            tx.execute(
                "UPDATE devices SET app_version = coalesce(?2, app_version),
                                    pending_records = coalesce(?3, pending_records), reported_at = ?4
                 WHERE device_id = ?1",
                params![device_id, report.app_version, report.pending_records.map(|n| n as i64), text(at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn add_reenrolment(&self, device_id: &str, code_hash: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let (device_id, code_hash) = (device_id.to_string(), code_hash.to_string());
        self.write(move |tx| {
            let now = text(Utc::now());
            let changed = tx.execute(
                "UPDATE devices SET revoked_at = coalesce(revoked_at, ?2) WHERE device_id = ?1",
                params![device_id, now],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("device {device_id}")));
            }
            tx.execute(
                "UPDATE officer_credentials SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
                params![device_id, now],
            )?;
            // Only the newest code re-enrols it.
            tx.execute(
                "UPDATE reenrolments SET expires_at = ?2 WHERE device_id = ?1 AND used_at IS NULL AND expires_at > ?2",
                params![device_id, now],
            )?;
            tx.execute(
                "INSERT INTO reenrolments (code_hash, device_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![code_hash, device_id, now, text(expires_at)],
            )?;
            Ok(())
        })
        .await
    }

    async fn search_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRow>> {
        let filter = filter.clone();
        self.run(move |conn| {
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
                // LIKE is case-insensitive for ASCII in SQLite.
                conditions.push("target LIKE ? ESCAPE '\\'", like_pattern(&target));
            }
            if let Some(from) = filter.from {
                conditions.push("at >= ?", from);
            }
            if let Some(to) = filter.to {
                conditions.push("at < ?", to);
            }
            if let Some(before) = filter.before {
                conditions.push("seq < ?", before as i64);
            }
            let sql = format!(
                "SELECT {ROW_COLUMNS} FROM audit_events {} ORDER BY seq DESC LIMIT {}",
                conditions.sql(),
                filter.limit
            );
            let mut statement = conn.prepare(&sql)?;
            let rows = statement
                .query_map(params_from_iter(conditions.values.iter().map(|v| v.as_ref() as &dyn ToSql)), audit_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn export_versions(&self, filter: &ExportFilter) -> StoreResult<Vec<StoredVersion>> {
        let filter = filter.clone();
        self.run(move |conn| {
            let mut conditions = Conditions::default();
            if let Some(from) = filter.from {
                conditions.push("v.received_at >= ?", text(from));
            }
            if let Some(to) = filter.to {
                conditions.push("v.received_at < ?", text(to));
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
            let mut statement = conn.prepare(&sql)?;
            let rows = statement
                .query_map(
                    params_from_iter(conditions.values.iter().map(|v| v.as_ref() as &dyn ToSql)),
                    stored_version,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }
}
