//! [`DirectoryAdminStore`] on PostgreSQL.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::Json;
use waypoint_protocol::{DirectoryImportInfo, LocalFacts, LocalFactsRecord};

use super::PostgresStore;
use crate::store::directory_admin::DirectoryAdminStore;
use crate::store::StoreResult;

const FACTS_COLUMNS: &str = "service_id, facts, updated_at, updated_by";

fn facts_record(row: &tokio_postgres::Row) -> StoreResult<LocalFactsRecord> {
    let Json(facts): Json<serde_json::Value> = row.get(1);
    let facts: LocalFacts = serde_json::from_value(facts)?;
    Ok(LocalFactsRecord { service_id: row.get(0), facts, updated_at: row.get(2), updated_by: row.get(3) })
}

#[async_trait]
impl DirectoryAdminStore for PostgresStore {
    async fn local_facts(&self, service_id: &str) -> StoreResult<Option<LocalFactsRecord>> {
        let client = self.pool().get().await?;
        let sql = format!("SELECT {FACTS_COLUMNS} FROM directory_local_facts WHERE service_id = $1");
        client.query_opt(&sql, &[&service_id]).await?.as_ref().map(facts_record).transpose()
    }

    async fn all_local_facts(&self) -> StoreResult<Vec<LocalFactsRecord>> {
        let client = self.pool().get().await?;
        let sql = format!("SELECT {FACTS_COLUMNS} FROM directory_local_facts ORDER BY service_id");
        client.query(&sql, &[]).await?.iter().map(facts_record).collect()
    }

    async fn put_local_facts(&self, record: LocalFactsRecord) -> StoreResult<()> {
        let client = self.pool().get().await?;
        let facts = serde_json::to_value(&record.facts)?;
        client
            .execute(
                "INSERT INTO directory_local_facts (service_id, accepts_dropoffs, facts, updated_at, updated_by)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (service_id) DO UPDATE SET accepts_dropoffs = excluded.accepts_dropoffs,
                     facts = excluded.facts, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                &[
                    &record.service_id,
                    &record.facts.accepts_dropoffs,
                    &Json(&facts),
                    &record.updated_at,
                    &record.updated_by,
                ],
            )
            .await?;
        Ok(())
    }

    async fn clear_local_facts(&self, service_id: &str) -> StoreResult<bool> {
        let client = self.pool().get().await?;
        Ok(client.execute("DELETE FROM directory_local_facts WHERE service_id = $1", &[&service_id]).await? > 0)
    }

    async fn record_directory_import(&self, info: DirectoryImportInfo) -> StoreResult<u64> {
        let client = self.pool().get().await?;
        let row = client
            .query_one(
                "INSERT INTO directory_imports (finished_at, source, imported_by, upserts, deletes, report)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                &[
                    &info.finished_at,
                    &info.source,
                    &info.by,
                    &(info.upserts as i64),
                    &(info.deletes as i64),
                    &Json(&info.report),
                ],
            )
            .await?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn directory_imports(&self, limit: usize) -> StoreResult<Vec<DirectoryImportInfo>> {
        let client = self.pool().get().await?;
        let rows = client
            .query(
                "SELECT id, finished_at, source, imported_by, upserts, deletes, report FROM directory_imports
                 ORDER BY id DESC LIMIT $1",
                &[&(limit.min(i64::MAX as usize) as i64)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let Json(report): Json<serde_json::Value> = r.get(6);
                DirectoryImportInfo {
                    id: r.get::<_, i64>(0) as u64,
                    finished_at: r.get(1),
                    source: r.get(2),
                    by: r.get(3),
                    upserts: r.get::<_, i64>(4) as u64,
                    deletes: r.get::<_, i64>(5) as u64,
                    report,
                }
            })
            .collect())
    }
}
