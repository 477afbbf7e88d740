//! [`OutcomeStore`] on PostgreSQL: latest versions by `review_index`.

use async_trait::async_trait;
use serde_json::Value;
use tokio_postgres::types::Json;
use waypoint_protocol::ReviewState;

use super::PostgresStore;
use crate::store::outcomes::{state_of, OutcomeRange, OutcomeRow, OutcomeStore};
use crate::store::StoreResult;

#[async_trait]
impl OutcomeStore for PostgresStore {
    async fn outcome_rows(&self, range: OutcomeRange) -> StoreResult<Vec<OutcomeRow>> {
        let client = self.pool().get().await?;
        let mut out = Vec::new();
        if range.source.counts_waypoint() {
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
            for r in &rows {
                let Json(body): Json<Value> = r.get(2);
                out.push(OutcomeRow { state: state_of(r.get(0))?, officer: r.get(1), imported: false, body });
            }
        }
        if range.source.counts_imported() {
            // Imported history counts as approved: the older system's records are final.
            let rows = client
                .query(
                    "SELECT coalesce(u.username, ''), e.body FROM imported_encounters e
                     LEFT JOIN users u ON u.officer_id = e.officer_id
                     WHERE e.occurred_at >= $1 AND e.occurred_at < $2
                       AND ($3::text IS NULL OR e.officer_id = $3 OR u.username = $3)",
                    &[&range.from, &range.to, &range.officer],
                )
                .await?;
            for r in &rows {
                let Json(body): Json<Value> = r.get(1);
                out.push(OutcomeRow { state: ReviewState::Approved, officer: r.get(0), imported: true, body });
            }
        }
        Ok(out)
    }
}
