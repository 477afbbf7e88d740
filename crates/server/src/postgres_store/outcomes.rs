//! [`OutcomeStore`] on PostgreSQL: latest versions by `review_index`.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use tokio_postgres::types::Json;
use tokio_postgres::types::ToSql;
use waypoint_core::Encounter;
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
                .query_raw(
                    "SELECT i.state, v.officer, v.body FROM review_index i
                     JOIN encounter_versions v ON v.encounter_id = i.encounter_id AND v.version = i.version
                     WHERE i.occurred_at >= $1 AND i.occurred_at < $2 AND i.state = ANY($3)
                       AND ($4::text IS NULL OR i.officer_id = $4 OR v.officer = $4)",
                    [&range.from as &(dyn ToSql + Sync), &range.to, &states, &range.officer],
                )
                .await?;
            let mut rows = std::pin::pin!(rows);
            while let Some(r) = rows.try_next().await? {
                out.push(OutcomeRow {
                    state: state_of(r.get(0))?,
                    officer: r.get(1),
                    imported: false,
                    encounter: parsed(&r, 2),
                });
            }
        }
        if range.source.counts_imported() {
            // Imported history counts as approved: the older system's records are final.
            let rows = client
                .query_raw(
                    "SELECT coalesce(u.username, ''), e.body FROM imported_encounters e
                     LEFT JOIN users u ON u.officer_id = e.officer_id
                     WHERE e.occurred_at >= $1 AND e.occurred_at < $2
                       AND ($3::text IS NULL OR e.officer_id = $3 OR u.username = $3)",
                    [&range.from as &(dyn ToSql + Sync), &range.to, &range.officer],
                )
                .await?;
            let mut rows = std::pin::pin!(rows);
            while let Some(r) = rows.try_next().await? {
                out.push(OutcomeRow {
                    state: ReviewState::Approved,
                    officer: r.get(0),
                    imported: true,
                    encounter: parsed(&r, 1),
                });
            }
        }
        Ok(out)
    }
}

/// The report in column `index`, parsed straight from the JSONB bytes; `None` when it is not one.
fn parsed(row: &tokio_postgres::Row, index: usize) -> Option<Encounter> {
    row.try_get::<_, Json<Encounter>>(index).ok().map(|Json(encounter)| encounter)
}
