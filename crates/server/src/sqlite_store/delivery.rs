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
        self.run(move |conn| {
            // Checked before writing: most pulls confirm nothing, and a read costs no commit.
            let pending: bool = conn
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM review_decisions
                     WHERE device_id = ?1 AND delivered_at IS NULL AND feed_seq <= ?2)",
                )?
                .query_row(params![device_id, cursor as i64], |r| r.get(0))?;
            if !pending {
                return Ok(0);
            }
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
