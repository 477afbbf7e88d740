//! CIT training records, beside the [`super::Store`] trait: each officer's courses as an admin
//! records them (`cit_training`).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use waypoint_protocol::{NewTraining, OfficerTraining, Role, TrainingKind, TrainingRecord};

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

/// The roles whose users file reports, so whose training the figures read.
pub const TRAINABLE: [Role; 2] = [Role::Officer, Role::Supervisor];

/// One row per officer and supervisor in `users` (username, role, officer id), and per other
/// username that has records, by username: their first initial course ([`trained_since`], the
/// day the figures count from), how many refreshers, the last one.
pub fn summaries(users: &[(String, Role, String)], records: &[TrainingRecord]) -> Vec<OfficerTraining> {
    let since = trained_since(records);
    let mut rows: std::collections::BTreeMap<String, OfficerTraining> = std::collections::BTreeMap::new();
    let blank = |username: &str, role: Option<Role>, officer_id: Option<String>| OfficerTraining {
        username: username.to_string(),
        role,
        officer_id,
        trained_since: since.get(username).copied(),
        refreshers: 0,
        last_refresher: None,
    };
    for (username, role, officer_id) in users.iter().filter(|(_, role, _)| TRAINABLE.contains(role)) {
        rows.insert(username.clone(), blank(username, Some(*role), Some(officer_id.clone())));
    }
    for record in records {
        let known = users.iter().find(|(username, _, _)| *username == record.username);
        let row = rows
            .entry(record.username.clone())
            .or_insert_with(|| blank(&record.username, known.map(|u| u.1), known.map(|u| u.2.clone())));
        if record.kind == TrainingKind::Refresher {
            row.refreshers += 1;
            row.last_refresher = row.last_refresher.max(Some(record.completed_on));
        }
    }
    rows.into_values().collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(username: &str, kind: TrainingKind, day: &str) -> TrainingRecord {
        TrainingRecord {
            id: 0,
            username: username.into(),
            course: "CIT".into(),
            kind,
            completed_on: day.parse().unwrap(),
            recorded_by: "admin".into(),
            recorded_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn officers_are_trained_from_their_first_initial_course_and_refreshers_are_counted() {
        let users = vec![
            ("admin.ng".to_string(), Role::Admin, "admin.ng".to_string()),
            ("ofc.diaz".to_string(), Role::Officer, "B-1207".to_string()),
            ("ofc.park".to_string(), Role::Officer, "B-1311".to_string()),
            ("sgt.reyes".to_string(), Role::Supervisor, "B-0042".to_string()),
        ];
        let records = vec![
            record("ofc.diaz", TrainingKind::Initial, "2024-03-08"),
            record("ofc.diaz", TrainingKind::Initial, "2023-11-30"),
            record("ofc.diaz", TrainingKind::Refresher, "2026-01-20"),
            record("ofc.diaz", TrainingKind::Refresher, "2025-03-14"),
            record("sgt.reyes", TrainingKind::Refresher, "2025-06-02"),
            record("ofc.gone", TrainingKind::Initial, "2022-01-01"),
        ];
        let rows = summaries(&users, &records);
        let names: Vec<&str> = rows.iter().map(|r| r.username.as_str()).collect();
        assert_eq!(names, ["ofc.diaz", "ofc.gone", "ofc.park", "sgt.reyes"], "no admin; a departed user kept");
        assert_eq!(rows[0].trained_since, "2023-11-30".parse().ok());
        assert_eq!((rows[0].refreshers, rows[0].last_refresher), (2, "2026-01-20".parse().ok()));
        assert_eq!(rows[0].officer_id.as_deref(), Some("B-1207"));
        assert_eq!((rows[1].role, rows[1].trained_since), (None, "2022-01-01".parse().ok()));
        assert_eq!((rows[2].trained_since, rows[2].refreshers), (None, 0));
        assert_eq!((rows[3].trained_since, rows[3].refreshers), (None, 1), "a refresher alone does not train");
    }
}
