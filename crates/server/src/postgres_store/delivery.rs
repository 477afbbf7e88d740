//! [`DeliveryStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PostgresStore;
use crate::store::delivery::DeliveryStore;
use crate::store::StoreResult;

#[async_trait]
impl DeliveryStore for PostgresStore {
    async fn confirm_pulled(&self, device_id: &str, cursor: u64, at: DateTime<Utc>) -> StoreResult<u64> {
        let client = self.pool().get().await?;
        // An UPDATE that matches no row modifies nothing and commits without a WAL flush.
        let statement = client
            .prepare_cached(
                "UPDATE review_decisions SET delivered_at = $3
                 WHERE device_id = $1 AND delivered_at IS NULL AND feed_seq <= $2",
            )
            .await?;
        Ok(client.execute(&statement, &[&device_id, &(cursor as i64), &at]).await?)
    }
}
