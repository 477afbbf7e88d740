//! [`AgencyConfigStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, OptionalExtension};
use uuid::Uuid;
use waypoint_protocol::{AgencyConfigRecord, AgencyConfigVersion, ChangeKind, DeviceConfigVersion, AGENCY_CONFIG_KEY};

use super::{parse_time, parse_uuid, text, SqliteStore};
use crate::store::agency_config::{like_anywhere, AgencyConfigStore, MentioningVersion};
use crate::store::{Audience, NewChange, StoreResult};

const COLUMNS: &str = "version, saved_at, saved_by, config, mapping, note";

fn record(r: &rusqlite::Row) -> rusqlite::Result<(AgencyConfigRecord, String, String)> {
    Ok((
        AgencyConfigRecord {
            version: r.get(0)?,
            saved_at: parse_time(&r.get::<_, String>(1)?)?,
            saved_by: r.get(2)?,
            mapping: Default::default(),
            note: r.get(5)?,
            config: serde_json::Value::Null,
        },
        r.get(3)?,
        r.get(4)?,
    ))
}

fn parsed((mut record, config, mapping): (AgencyConfigRecord, String, String)) -> StoreResult<AgencyConfigRecord> {
    record.config = serde_json::from_str(&config)?;
    record.mapping = serde_json::from_str(&mapping)?;
    Ok(record)
}

fn insert(tx: &rusqlite::Connection, record: &AgencyConfigRecord) -> StoreResult<usize> {
    Ok(tx.execute(
        &format!(
            "INSERT INTO agency_config_versions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING"
        ),
        params![
            record.version,
            text(record.saved_at),
            record.saved_by,
            record.config.to_string(),
            serde_json::to_string(&record.mapping)?,
            record.note
        ],
    )?)
}

#[async_trait]
impl AgencyConfigStore for SqliteStore {
    async fn newest_agency_config(&self) -> StoreResult<Option<AgencyConfigRecord>> {
        self.run(|conn| {
            let sql = format!("SELECT {COLUMNS} FROM agency_config_versions ORDER BY version DESC LIMIT 1");
            conn.query_row(&sql, [], record).optional()?.map(parsed).transpose()
        })
        .await
    }

    async fn agency_config_history(&self) -> StoreResult<Vec<AgencyConfigRecord>> {
        self.run(|conn| {
            let sql = format!("SELECT {COLUMNS} FROM agency_config_versions ORDER BY version DESC");
            let mut statement = conn.prepare(&sql)?;
            let rows = statement.query_map([], record)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(parsed).collect()
        })
        .await
    }

    async fn seed_agency_config(&self, record: AgencyConfigRecord) -> StoreResult<bool> {
        self.write(move |tx| {
            let held: i64 = tx.query_row("SELECT count(*) FROM agency_config_versions", [], |r| r.get(0))?;
            Ok(held == 0 && insert(tx, &record)? == 1)
        })
        .await
    }

    async fn save_agency_config(&self, after: u32, record: AgencyConfigRecord) -> StoreResult<Option<u64>> {
        self.write(move |tx| {
            // The write lock is held from here to commit: no other save interleaves.
            let newest: u32 =
                tx.query_row("SELECT coalesce(max(version), 0) FROM agency_config_versions", [], |r| r.get(0))?;
            if newest != after || record.version != after + 1 {
                return Ok(None);
            }
            insert(tx, &record)?;
            let body = AgencyConfigVersion { version: record.version, config: record.config.clone() };
            let change = NewChange {
                audience: Audience::AllDevices,
                kind: ChangeKind::AgencyConfig,
                key: AGENCY_CONFIG_KEY.to_string(),
                body: serde_json::to_value(body)?,
            };
            Ok(Some(SqliteStore::append_changes_in(tx, &[change])?))
        })
        .await
    }

    async fn versions_mentioning(
        &self,
        needles: Vec<String>,
        after: Option<(Uuid, u32)>,
        limit: usize,
    ) -> StoreResult<Vec<MentioningVersion>> {
        if needles.is_empty() {
            return Ok(Vec::new());
        }
        self.run(move |conn| {
            let (after_id, after_version) = after.map_or((String::new(), 0), |(id, v)| (id.to_string(), v));
            let mut values: Vec<SqlValue> =
                vec![after_id.into(), i64::from(after_version).into(), (limit.min(i64::MAX as usize) as i64).into()];
            let mut tests = Vec::new();
            for needle in &needles {
                values.push(like_anywhere(needle).into());
                tests.push(format!("body LIKE ?{} ESCAPE '\\'", values.len()));
            }
            let sql = format!(
                "SELECT encounter_id, version, body FROM encounter_versions
                 WHERE (encounter_id > ?1 OR (encounter_id = ?1 AND version > ?2)) AND ({})
                 ORDER BY encounter_id, version LIMIT ?3",
                tests.join(" OR ")
            );
            let mut statement = conn.prepare(&sql)?;
            let rows = statement
                .query_map(params_from_iter(values), |r| {
                    Ok(MentioningVersion {
                        encounter_id: parse_uuid(&r.get::<_, String>(0)?)?,
                        version: r.get(1)?,
                        body: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn note_device_config_version(&self, device_id: &str, version: u32, at: DateTime<Utc>) -> StoreResult<()> {
        let device_id = device_id.to_string();
        // Through the writer: reads run on read-only connections.
        self.write(move |conn| {
            // A no-op (and no write) when the device reports what it reported before.
            conn.prepare_cached(
                "INSERT INTO device_config_versions (device_id, config_version, reported_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id) DO UPDATE SET config_version = excluded.config_version,
                     reported_at = excluded.reported_at
                 WHERE device_config_versions.config_version <> excluded.config_version",
            )?
            .execute(params![device_id, version, text(at)])?;
            Ok(())
        })
        .await
    }

    async fn device_config_versions(&self) -> StoreResult<Vec<DeviceConfigVersion>> {
        self.run(|conn| {
            let mut statement = conn.prepare(
                "SELECT device_id, config_version, reported_at FROM device_config_versions ORDER BY device_id",
            )?;
            let rows = statement
                .query_map([], |r| {
                    Ok(DeviceConfigVersion {
                        device_id: r.get(0)?,
                        config_version: r.get(1)?,
                        reported_at: parse_time(&r.get::<_, String>(2)?)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }
}
