//! [`ImportStore`] on SQLite (migration 0012).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{text, SqliteStore};
use crate::store::imported::{ImportCounts, ImportStore, ImportedEncounter};
use crate::store::StoreResult;

/// `review_index.occurred_at`'s form, so one comparison serves both tables.
pub(super) fn index_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[async_trait]
impl ImportStore for SqliteStore {
    async fn store_imported(&self, batch: Vec<ImportedEncounter>, at: DateTime<Utc>) -> StoreResult<ImportCounts> {
        self.write(move |tx| {
            let mut counts = ImportCounts::default();
            let mut held =
                tx.prepare_cached("SELECT content_hash FROM imported_encounters WHERE source = ?1 AND row_key = ?2")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO imported_encounters
                 (id, source, row_key, occurred_at, officer_id, body, content_hash, imported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (source, row_key) DO UPDATE SET occurred_at = excluded.occurred_at,
                   officer_id = excluded.officer_id, body = excluded.body,
                   content_hash = excluded.content_hash, imported_at = excluded.imported_at",
            )?;
            let imported_at = text(at);
            for row in batch {
                let id = row.id.to_string();
                let stored: Option<String> = held.query_row([&row.source, &row.row_key], |r| r.get(0)).optional()?;
                match stored {
                    Some(hash) if hash == row.content_hash => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(_) => counts.updated += 1,
                    None => counts.imported += 1,
                }
                insert.execute(params![
                    id,
                    row.source,
                    row.row_key,
                    index_time(row.occurred_at),
                    row.officer_id,
                    row.body,
                    row.content_hash,
                    imported_at
                ])?;
            }
            Ok(counts)
        })
        .await
    }

    async fn imported_sources(&self) -> StoreResult<Vec<(String, u64)>> {
        self.run(|conn| {
            let mut statement = conn
                .prepare_cached("SELECT source, count(*) FROM imported_encounters GROUP BY source ORDER BY source")?;
            let rows = statement
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }
}
