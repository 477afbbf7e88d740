//! [`DirectoryAdminStore`] on SQLite.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};
use waypoint_protocol::{DirectoryImportInfo, LocalFacts, LocalFactsRecord};

use super::{parse_time, text, SqliteStore};
use crate::store::directory_admin::DirectoryAdminStore;
use crate::store::StoreResult;

fn facts_row(r: &rusqlite::Row) -> rusqlite::Result<(String, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn facts_record(
    (service_id, facts, updated_at, updated_by): (String, String, String, String),
) -> StoreResult<LocalFactsRecord> {
    let facts: LocalFacts = serde_json::from_str(&facts)?;
    let updated_at = parse_time(&updated_at)?;
    Ok(LocalFactsRecord { service_id, facts, updated_at, updated_by })
}

const FACTS_COLUMNS: &str = "service_id, facts, updated_at, updated_by";

#[async_trait]
impl DirectoryAdminStore for SqliteStore {
    async fn local_facts(&self, service_id: &str) -> StoreResult<Option<LocalFactsRecord>> {
        let service_id = service_id.to_string();
        self.run(move |conn| {
            let sql = format!("SELECT {FACTS_COLUMNS} FROM directory_local_facts WHERE service_id = ?1");
            conn.query_row(&sql, [service_id], facts_row).optional()?.map(facts_record).transpose()
        })
        .await
    }

    async fn all_local_facts(&self) -> StoreResult<Vec<LocalFactsRecord>> {
        self.run(|conn| {
            let sql = format!("SELECT {FACTS_COLUMNS} FROM directory_local_facts ORDER BY service_id");
            let mut statement = conn.prepare(&sql)?;
            let rows = statement.query_map([], facts_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(facts_record).collect()
        })
        .await
    }

    async fn put_local_facts(&self, record: LocalFactsRecord) -> StoreResult<()> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO directory_local_facts (service_id, accepts_dropoffs, facts, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (service_id) DO UPDATE SET accepts_dropoffs = excluded.accepts_dropoffs,
                     facts = excluded.facts, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                params![
                    record.service_id,
                    record.facts.accepts_dropoffs,
                    serde_json::to_string(&record.facts)?,
                    text(record.updated_at),
                    record.updated_by
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn clear_local_facts(&self, service_id: &str) -> StoreResult<bool> {
        let service_id = service_id.to_string();
        self.write(move |tx| {
            Ok(tx.execute("DELETE FROM directory_local_facts WHERE service_id = ?1", [service_id])? > 0)
        })
        .await
    }

    async fn record_directory_import(&self, info: DirectoryImportInfo) -> StoreResult<u64> {
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO directory_imports (finished_at, source, imported_by, upserts, deletes, report)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    text(info.finished_at),
                    info.source,
                    info.by,
                    info.upserts as i64,
                    info.deletes as i64,
                    info.report.to_string()
                ],
            )?;
            Ok(tx.last_insert_rowid() as u64)
        })
        .await
    }

    async fn directory_imports(&self, limit: usize) -> StoreResult<Vec<DirectoryImportInfo>> {
        self.run(move |conn| {
            let mut statement = conn.prepare(
                "SELECT id, finished_at, source, imported_by, upserts, deletes, report FROM directory_imports
                 ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = statement
                .query_map([limit.min(i64::MAX as usize) as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, String>(6)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(id, at, source, by, upserts, deletes, report)| {
                    Ok(DirectoryImportInfo {
                        id: id as u64,
                        finished_at: parse_time(&at)?,
                        source,
                        by,
                        upserts: upserts as u64,
                        deletes: deletes as u64,
                        report: serde_json::from_str(&report)?,
                    })
                })
                .collect()
        })
        .await
    }
}
