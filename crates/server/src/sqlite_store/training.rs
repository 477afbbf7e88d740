//! [`TrainingStore`] on SQLite (migration 0011).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use waypoint_protocol::{NewTraining, TrainingKind, TrainingRecord};

use super::{parse_time, text, SqliteStore};
use crate::store::training::TrainingStore;
use crate::store::{StoreError, StoreResult};

fn bad(column: usize, value: String) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(column, value, rusqlite::types::Type::Text)
}

#[async_trait]
impl TrainingStore for SqliteStore {
    async fn add_training(&self, training: &NewTraining, recorded_by: &str, at: DateTime<Utc>) -> StoreResult<u64> {
        let (training, recorded_by) = (training.clone(), recorded_by.to_string());
        self.write(move |tx| {
            let known: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1)", [&training.username], |r| {
                    r.get(0)
                })?;
            if !known {
                return Err(StoreError::NotFound(format!("no user `{}`", training.username)));
            }
            tx.execute(
                "INSERT INTO cit_training (username, course, kind, completed_on, recorded_by, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    training.username,
                    training.course,
                    training.kind.as_str(),
                    training.completed_on.to_string(),
                    recorded_by,
                    text(at)
                ],
            )?;
            Ok(tx.last_insert_rowid() as u64)
        })
        .await
    }

    async fn training(&self, username: Option<&str>) -> StoreResult<Vec<TrainingRecord>> {
        let username = username.map(str::to_string);
        self.run(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, username, course, kind, completed_on, recorded_by, recorded_at FROM cit_training
                 WHERE ?1 IS NULL OR username = ?1 ORDER BY username, completed_on, id",
            )?;
            let rows = statement
                .query_map([&username], |r| {
                    let kind: String = r.get(3)?;
                    let day: String = r.get(4)?;
                    Ok(TrainingRecord {
                        id: r.get::<_, i64>(0)? as u64,
                        username: r.get(1)?,
                        course: r.get(2)?,
                        kind: TrainingKind::parse(&kind).ok_or_else(|| bad(3, kind.clone()))?,
                        completed_on: NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| bad(4, day.clone()))?,
                        recorded_by: r.get(5)?,
                        recorded_at: parse_time(&r.get::<_, String>(6)?)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn delete_training(&self, id: u64) -> StoreResult<bool> {
        self.write(move |tx| Ok(tx.execute("DELETE FROM cit_training WHERE id = ?1", [id as i64])? == 1)).await
    }
}
