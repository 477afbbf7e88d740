//! [`ImportStore`] on PostgreSQL (migration 0014): a batch is one statement over arrays.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::PostgresStore;
use crate::store::imported::{ImportCounts, ImportStore, ImportedEncounter};
use crate::store::StoreResult;

#[async_trait]
impl ImportStore for PostgresStore {
    async fn store_imported(&self, batch: Vec<ImportedEncounter>, at: DateTime<Utc>) -> StoreResult<ImportCounts> {
        let ids: Vec<Uuid> = batch.iter().map(|r| r.id).collect();
        let sources: Vec<&str> = batch.iter().map(|r| r.source.as_str()).collect();
        let keys: Vec<&str> = batch.iter().map(|r| r.row_key.as_str()).collect();
        let times: Vec<DateTime<Utc>> = batch.iter().map(|r| r.occurred_at).collect();
        let officers: Vec<&str> = batch.iter().map(|r| r.officer_id.as_str()).collect();
        let bodies: Vec<&str> = batch.iter().map(|r| r.body.as_str()).collect();
        let hashes: Vec<&str> = batch.iter().map(|r| r.content_hash.as_str()).collect();
        let client = self.pool().get().await?;
        let row = client
            .query_one(
                "WITH input AS (
                     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                                          $6::text[], $7::text[])
                         AS t (id, source, row_key, occurred_at, officer_id, body, content_hash)),
                 compared AS (
                     SELECT input.*, held.content_hash AS held_hash FROM input
                     LEFT JOIN imported_encounters held
                         ON held.source = input.source AND held.row_key = input.row_key),
                 written AS (
                     INSERT INTO imported_encounters
                         (id, source, row_key, occurred_at, officer_id, body, content_hash, imported_at)
                     SELECT id, source, row_key, occurred_at, officer_id, body::jsonb, content_hash, $8
                     FROM compared WHERE held_hash IS DISTINCT FROM content_hash
                     ON CONFLICT (source, row_key) DO UPDATE SET occurred_at = excluded.occurred_at,
                         officer_id = excluded.officer_id, body = excluded.body,
                         content_hash = excluded.content_hash, imported_at = excluded.imported_at
                     RETURNING 1)
                 SELECT count(*) FILTER (WHERE held_hash IS NULL),
                        count(*) FILTER (WHERE held_hash IS NOT NULL AND held_hash <> content_hash),
                        count(*) FILTER (WHERE held_hash = content_hash),
                        (SELECT count(*) FROM written)
                 FROM compared",
                &[&ids, &sources, &keys, &times, &officers, &bodies, &hashes, &at],
            )
            .await?;
        Ok(ImportCounts {
            imported: row.get::<_, i64>(0) as u64,
            updated: row.get::<_, i64>(1) as u64,
            unchanged: row.get::<_, i64>(2) as u64,
        })
    }

    async fn imported_sources(&self) -> StoreResult<Vec<(String, u64)>> {
        let client = self.pool().get().await?;
        let rows = client
            .query("SELECT source, count(*) FROM imported_encounters GROUP BY source ORDER BY source", &[])
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get::<_, i64>(1) as u64)).collect())
    }
}
