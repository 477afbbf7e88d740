//! [`OutcomeStore`] on SQLite: latest versions by `review_index` (its `occurred_at` is the
//! migration's `strftime('%Y-%m-%dT%H:%M:%fZ', ...)` text, which sorts as time).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params_from_iter;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use super::SqliteStore;
use crate::store::outcomes::{state_of, OutcomeRange, OutcomeRow, OutcomeStore};
use crate::store::StoreResult;

fn index_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[async_trait]
impl OutcomeStore for SqliteStore {
    async fn outcome_rows(&self, range: OutcomeRange) -> StoreResult<Vec<OutcomeRow>> {
        self.run(move |conn| {
            let marks = vec!["?"; range.states.len().max(1)].join(", ");
            let mut sql = format!(
                "SELECT i.state, v.officer, v.body FROM review_index i
                 JOIN encounter_versions v ON v.encounter_id = i.encounter_id AND v.version = i.version
                 WHERE i.occurred_at >= ? AND i.occurred_at < ? AND i.state IN ({marks})"
            );
            let mut values: Vec<SqlValue> = vec![index_time(range.from).into(), index_time(range.to).into()];
            values.extend(range.states.iter().map(|s| SqlValue::from(s.as_str().to_string())));
            if range.states.is_empty() {
                values.push(SqlValue::Null);
            }
            if let Some(officer) = &range.officer {
                sql.push_str(" AND (i.officer_id = ? OR v.officer = ?)");
                values.push(officer.clone().into());
                values.push(officer.clone().into());
            }
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt
                .query_map(params_from_iter(values), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(state, officer, body)| {
                    Ok(OutcomeRow {
                        state: state_of(&state)?,
                        officer,
                        body: serde_json::from_str(&body).unwrap_or(Value::Null),
                    })
                })
                .collect()
        })
        .await
    }
}
