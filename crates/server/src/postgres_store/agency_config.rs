//! [`AgencyConfigStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::Json;
use uuid::Uuid;
use waypoint_protocol::{AgencyConfigRecord, AgencyConfigVersion, ChangeKind, DeviceConfigVersion, AGENCY_CONFIG_KEY};

use super::PostgresStore;
use crate::store::agency_config::{like_anywhere, AgencyConfigStore, MentioningVersion};
use crate::store::{Audience, NewChange, StoreResult};

const COLUMNS: &str = "version, saved_at, saved_by, config, mapping, note";

fn record(row: &tokio_postgres::Row) -> StoreResult<AgencyConfigRecord> {
    let Json(config): Json<serde_json::Value> = row.get(3);
    let Json(mapping): Json<serde_json::Value> = row.get(4);
    Ok(AgencyConfigRecord {
        version: row.get::<_, i32>(0) as u32,
        saved_at: row.get(1),
        saved_by: row.get(2),
        config,
        mapping: serde_json::from_value(mapping)?,
        note: row.get(5),
    })
}

#[async_trait]
impl AgencyConfigStore for PostgresStore {
    async fn newest_agency_config(&self) -> StoreResult<Option<AgencyConfigRecord>> {
        let client = self.pool().get().await?;
        let sql = format!("SELECT {COLUMNS} FROM agency_config_versions ORDER BY version DESC LIMIT 1");
        client.query_opt(&sql, &[]).await?.as_ref().map(record).transpose()
    }

    async fn agency_config_history(&self) -> StoreResult<Vec<AgencyConfigRecord>> {
        let client = self.pool().get().await?;
        let sql = format!("SELECT {COLUMNS} FROM agency_config_versions ORDER BY version DESC");
        client.query(&sql, &[]).await?.iter().map(record).collect()
    }

    async fn seed_agency_config(&self, record: AgencyConfigRecord) -> StoreResult<bool> {
        let client = self.pool().get().await?;
        // One statement: two servers seeding at once store it once.
        let sql = format!(
            "INSERT INTO agency_config_versions ({COLUMNS})
             SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS (SELECT 1 FROM agency_config_versions)
             ON CONFLICT DO NOTHING"
        );
        let mapping = serde_json::to_value(&record.mapping)?;
        let added = client
            .execute(
                &sql,
                &[
                    &(record.version as i32),
                    &record.saved_at,
                    &record.saved_by,
                    &Json(&record.config),
                    &Json(&mapping),
                    &record.note,
                ],
            )
            .await?;
        Ok(added == 1)
    }

    async fn save_agency_config(&self, after: u32, record: AgencyConfigRecord) -> StoreResult<Option<u64>> {
        if record.version != after + 1 {
            return Ok(None);
        }
        let mut client = self.pool().get().await?;
        let tx = client.transaction().await?;
        // Saves are serialized on the feed counter's row lock, taken first; the newest version is
        // read under it, so two admins saving at once cannot both build on the same version.
        tx.execute("SELECT last_seq FROM change_counter WHERE id = 1 FOR UPDATE", &[]).await?;
        let newest: i32 =
            tx.query_one("SELECT coalesce(max(version), 0) FROM agency_config_versions", &[]).await?.get(0);
        if newest as u32 != after {
            return Ok(None);
        }
        let mapping = serde_json::to_value(&record.mapping)?;
        tx.execute(
            &format!("INSERT INTO agency_config_versions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            &[
                &(record.version as i32),
                &record.saved_at,
                &record.saved_by,
                &Json(&record.config),
                &Json(&mapping),
                &record.note,
            ],
        )
        .await?;
        let body = AgencyConfigVersion { version: record.version, config: record.config.clone() };
        let change = NewChange {
            audience: Audience::AllDevices,
            kind: ChangeKind::AgencyConfig,
            key: AGENCY_CONFIG_KEY.to_string(),
            body: serde_json::to_value(body)?,
        };
        let seq = PostgresStore::append_changes_in(&tx, &[change]).await?;
        tx.commit().await?;
        Ok(Some(seq))
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
        let client = self.pool().get().await?;
        let patterns: Vec<String> = needles.iter().map(|n| like_anywhere(n)).collect();
        let (after_id, after_version) = after.map_or((Uuid::nil(), -1), |(id, v)| (id, v as i32));
        let rows = client
            .query(
                "SELECT encounter_id, version, body::text FROM encounter_versions
                 WHERE (encounter_id, version) > ($1, $2) AND body::text LIKE ANY ($3)
                 ORDER BY encounter_id, version LIMIT $4",
                &[&after_id, &after_version, &patterns, &(limit.min(i64::MAX as usize) as i64)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| MentioningVersion { encounter_id: r.get(0), version: r.get::<_, i32>(1) as u32, body: r.get(2) })
            .collect())
    }

    async fn note_device_config_version(&self, device_id: &str, version: u32, at: DateTime<Utc>) -> StoreResult<()> {
        let client = self.pool().get().await?;
        let statement = client
            .prepare_cached(
                "INSERT INTO device_config_versions (device_id, config_version, reported_at) VALUES ($1, $2, $3)
                 ON CONFLICT (device_id) DO UPDATE SET config_version = excluded.config_version,
                     reported_at = excluded.reported_at
                 WHERE device_config_versions.config_version <> excluded.config_version",
            )
            .await?;
        client.execute(&statement, &[&device_id, &(version as i32), &at]).await?;
        Ok(())
    }

    async fn device_config_versions(&self) -> StoreResult<Vec<DeviceConfigVersion>> {
        let client = self.pool().get().await?;
        let rows = client
            .query("SELECT device_id, config_version, reported_at FROM device_config_versions ORDER BY device_id", &[])
            .await?;
        Ok(rows
            .iter()
            .map(|r| DeviceConfigVersion {
                device_id: r.get(0),
                config_version: r.get::<_, i32>(1) as u32,
                reported_at: r.get(2),
            })
            .collect())
    }
}
