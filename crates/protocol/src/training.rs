//! Wire types of CIT training records (`/v1/admin/training`): each officer's CIT courses as an
//! admin records them, which the outcome figures compare with the officers' own answers.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// An initial CIT course (usually the 40-hour course) or a refresher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrainingKind {
    Initial,
    Refresher,
}

impl TrainingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingKind::Initial => "initial",
            TrainingKind::Refresher => "refresher",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "initial" => TrainingKind::Initial,
            "refresher" => TrainingKind::Refresher,
            _ => return None,
        })
    }
}

/// `POST /v1/admin/training`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTraining {
    /// The officer's username (a user of this server).
    pub username: String,
    /// The course's name, e.g. `CIT 40-hour (Memphis model)`.
    pub course: String,
    pub kind: TrainingKind,
    /// The day it was completed (`YYYY-MM-DD`), not in the future.
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub completed_on: NaiveDate,
}

/// One recorded course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingRecord {
    #[ts(type = "number")]
    pub id: u64,
    pub username: String,
    pub course: String,
    pub kind: TrainingKind,
    #[ts(type = "string")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub completed_on: NaiveDate,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// `GET /v1/admin/training/summary`: one officer's training as the coverage figures see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficerTraining {
    pub username: String,
    /// `null` when the user is no longer on the server (their records stay).
    pub role: Option<crate::Role>,
    pub officer_id: Option<String>,
    /// The day of their first initial course: calls from that day on count as CIT-trained.
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub trained_since: Option<NaiveDate>,
    pub refreshers: u32,
    #[ts(type = "string | null")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub last_refresher: Option<NaiveDate>,
}
