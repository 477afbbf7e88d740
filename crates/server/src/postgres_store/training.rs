//! [`TrainingStore`] on PostgreSQL (migration 0013).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use waypoint_protocol::{NewTraining, TrainingKind, TrainingRecord};

use super::PostgresStore;
use crate::store::training::TrainingStore;
use crate::store::{StoreError, StoreResult};

#[async_trait]
impl TrainingStore for PostgresStore {
    async fn add_training(&self, training: &NewTraining, recorded_by: &str, at: DateTime<Utc>) -> StoreResult<u64> {
        let client = self.pool().get().await?;
        let row = client
            .query_opt(
                "INSERT INTO cit_training (username, course, kind, completed_on, recorded_by, recorded_at)
                 SELECT username, $2, $3, $4, $5, $6 FROM users WHERE username = $1 RETURNING id",
                &[
                    &training.username,
                    &training.course,
                    &training.kind.as_str(),
                    &training.completed_on,
                    &recorded_by,
                    &at,
                ],
            )
            .await?;
        row.map(|row| row.get::<_, i64>(0) as u64)
            .ok_or_else(|| StoreError::NotFound(format!("no user `{}`", training.username)))
    }

    async fn training(&self, username: Option<&str>) -> StoreResult<Vec<TrainingRecord>> {
        let client = self.pool().get().await?;
        let rows = client
            .query(
                "SELECT id, username, course, kind, completed_on, recorded_by, recorded_at FROM cit_training
                 WHERE $1::text IS NULL OR username = $1 ORDER BY username, completed_on, id",
                &[&username],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.get(3);
                Ok(TrainingRecord {
                    id: row.get::<_, i64>(0) as u64,
                    username: row.get(1),
                    course: row.get(2),
                    kind: TrainingKind::parse(&kind)
                        .ok_or_else(|| StoreError::Database(format!("unknown training kind `{kind}`")))?,
                    completed_on: row.get(4),
                    recorded_by: row.get(5),
                    recorded_at: row.get(6),
                })
            })
            .collect()
    }

    async fn delete_training(&self, id: u64) -> StoreResult<bool> {
        let client = self.pool().get().await?;
        Ok(client.execute("DELETE FROM cit_training WHERE id = $1", &[&(id as i64)]).await? == 1)
    }
}
