//! CIT training records, beside the [`super::Store`] trait: each officer's courses as an admin
//! records them (`cit_training`).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use waypoint_protocol::{NewTraining, TrainingKind, TrainingRecord};

use super::StoreResult;

/// The day each officer (username) completed their first initial course: what "trained on the
/// day of the call" is measured against.
pub type TrainedSince = HashMap<String, NaiveDate>;

/// The first initial course of each officer in `records`.
pub fn trained_since(records: &[TrainingRecord]) -> TrainedSince {
    let mut since = TrainedSince::new();
    for record in records.iter().filter(|r| r.kind == TrainingKind::Initial) {
        since
            .entry(record.username.clone())
            .and_modify(|day| *day = (*day).min(record.completed_on))
            .or_insert(record.completed_on);
    }
    since
}

#[async_trait]
pub trait TrainingStore: Send + Sync {
    /// Fails with `NotFound` when there is no such user. Returns the new record's id.
    async fn add_training(&self, training: &NewTraining, recorded_by: &str, at: DateTime<Utc>) -> StoreResult<u64>;
    /// Every record (of one officer when given), by officer and then day.
    async fn training(&self, username: Option<&str>) -> StoreResult<Vec<TrainingRecord>>;
    /// `false` when there is no such record.
    async fn delete_training(&self, id: u64) -> StoreResult<bool>;
}
