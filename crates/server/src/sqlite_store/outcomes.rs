//! [`OutcomeStore`] on SQLite: latest versions by `review_index` (its `occurred_at` is the
//! migration's `strftime('%Y-%m-%dT%H:%M:%fZ', ...)` text, which sorts as time).

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection};
use waypoint_core::Encounter;
use waypoint_protocol::ReviewState;

use super::SqliteStore;
use crate::store::outcomes::{state_of, OutcomeRange, OutcomeRow, OutcomeStore};
use crate::store::StoreResult;

use super::imported::index_time;

#[async_trait]
impl OutcomeStore for SqliteStore {
    async fn outcome_rows(&self, range: OutcomeRange) -> StoreResult<Vec<OutcomeRow>> {
        self.run(move |conn| {
            let mut rows = Vec::new();
            if range.source.counts_waypoint() {
                rows.extend(waypoint_rows(conn, &range)?);
            }
            if range.source.counts_imported() {
                rows.extend(imported_rows(conn, &range)?);
            }
            Ok(rows)
        })
        .await
    }
}

fn waypoint_rows(conn: &Connection, range: &OutcomeRange) -> StoreResult<Vec<OutcomeRow>> {
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
    // Each body parsed as it is read: the period's bodies are never all held as text.
    let rows = stmt
        .query_map(params_from_iter(values), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, parsed(r.get_ref(2)?)))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(state, officer, encounter)| {
            Ok(OutcomeRow { state: state_of(&state)?, officer, imported: false, encounter })
        })
        .collect()
}

fn parsed(body: rusqlite::types::ValueRef<'_>) -> Option<Encounter> {
    body.as_str().ok().and_then(|text| serde_json::from_str(text).ok())
}

/// Imported history counts as approved: the older system's records are final.
fn imported_rows(conn: &Connection, range: &OutcomeRange) -> StoreResult<Vec<OutcomeRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT coalesce(u.username, ''), e.body FROM imported_encounters e
         LEFT JOIN users u ON u.officer_id = e.officer_id
         WHERE e.occurred_at >= ?1 AND e.occurred_at < ?2
           AND (?3 IS NULL OR e.officer_id = ?3 OR u.username = ?3)",
    )?;
    let rows = stmt
        .query_map(params![index_time(range.from), index_time(range.to), range.officer], |r| {
            Ok(OutcomeRow {
                state: ReviewState::Approved,
                officer: r.get(0)?,
                imported: true,
                encounter: parsed(r.get_ref(1)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
