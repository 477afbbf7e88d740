//! [`DeliveryStore`] on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{text, SqliteStore};
use crate::store::delivery::DeliveryStore;
use crate::store::StoreResult;

#[async_trait]
impl DeliveryStore for SqliteStore {
    async fn confirm_pulled(&self, device_id: &str, cursor: u64, at: DateTime<Utc>) -> StoreResult<u64> {
        let device_id = device_id.to_string();
        // Checked first on a read-only connection: most pulls confirm nothing, and a read costs
        // no commit. Only a pull that confirms something waits for the writer.
        let reader_id = device_id.clone();
        let pending: bool = self
            .run(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM review_decisions
                         WHERE device_id = ?1 AND delivered_at IS NULL AND feed_seq <= ?2)",
                    )?
                    .query_row(params![reader_id, cursor as i64], |r| r.get(0))?)
            })
            .await?;
        if !pending {
            return Ok(0);
        }
        self.write(move |conn| {
            let marked = conn
                .prepare_cached(
                    "UPDATE review_decisions SET delivered_at = ?3
                     WHERE device_id = ?1 AND delivered_at IS NULL AND feed_seq <= ?2",
                )?
                .execute(params![device_id, cursor as i64, text(at)])?;
            Ok(marked as u64)
        })
        .await
    }
}
