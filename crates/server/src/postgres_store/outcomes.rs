//! [`OutcomeStore`] on PostgreSQL: latest versions by `review_index`.

use async_trait::async_trait;
use serde_json::Value;
use tokio_postgres::types::Json;

use super::PostgresStore;
use crate::store::outcomes::{state_of, OutcomeRange, OutcomeRow, OutcomeStore};
use crate::store::StoreResult;

#[async_trait]
impl OutcomeStore for PostgresStore {
    async fn outcome_rows(&self, range: OutcomeRange) -> StoreResult<Vec<OutcomeRow>> {
        let client = self.pool().get().await?;
        let states: Vec<String> = range.states.iter().map(|s| s.as_str().to_string()).collect();
        let rows = client
            .query(
                "SELECT i.state, v.officer, v.body FROM review_index i
                 JOIN encounter_versions v ON v.encounter_id = i.encounter_id AND v.version = i.version
                 WHERE i.occurred_at >= $1 AND i.occurred_at < $2 AND i.state = ANY($3)
                   AND ($4::text IS NULL OR i.officer_id = $4 OR v.officer = $4)",
                &[&range.from, &range.to, &states, &range.officer],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let Json(body): Json<Value> = r.get(2);
                Ok(OutcomeRow { state: state_of(r.get(0))?, officer: r.get(1), body })
            })
            .collect()
    }
}
