//! Wire types of the review desk (`/v1/review/...`): the queue of reports waiting for a
//! decision, one encounter with its versions and decisions, the difference between two versions,
//! and the conflicts an admin sees.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;
use uuid::Uuid;

use crate::ReviewDecision;

/// Where a version stands: `submitted` until a supervisor decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Submitted,
    Approved,
    Returned,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Submitted => "submitted",
            ReviewState::Approved => "approved",
            ReviewState::Returned => "returned",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "submitted" => ReviewState::Submitted,
            "approved" => ReviewState::Approved,
            "returned" => ReviewState::Returned,
            _ => return None,
        })
    }
}

impl From<ReviewDecision> for ReviewState {
    fn from(decision: ReviewDecision) -> Self {
        match decision {
            ReviewDecision::Approved => ReviewState::Approved,
            ReviewDecision::Returned => ReviewState::Returned,
        }
    }
}

impl ReviewDecision {
    pub fn as_str(self) -> &'static str {
        ReviewState::from(self).as_str()
    }

    pub fn parse(text: &str) -> Option<Self> {
        match ReviewState::parse(text)? {
            ReviewState::Approved => Some(ReviewDecision::Approved),
            ReviewState::Returned => Some(ReviewDecision::Returned),
            ReviewState::Submitted => None,
        }
    }
}

/// What the encounter model records that a sergeant wants to see first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewFlags {
    /// `response.reportable_force`.
    pub force_used: bool,
    /// `response.subject_injured` or `response.officer_injured`.
    pub injury: bool,
    /// `risk.weapon` set to anything but `none`.
    pub weapon: bool,
    /// `emergency_detention` among the `dispositions`.
    pub emergency_detention: bool,
    /// `arrested` among the `dispositions`.
    #[serde(default)]
    pub arrest: bool,
}

/// One report in the review queue (from the server's index, no body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueItem {
    pub encounter_id: Uuid,
    /// The latest version the server holds (the one to decide on).
    pub version: u32,
    pub officer_id: String,
    pub occurred_at: DateTime<Utc>,
    /// The body's `submitted_at` (the time the officer submitted this version): how long it has
    /// waited is counted from it.
    pub submitted_at: DateTime<Utc>,
    pub flags: ReviewFlags,
    /// `call.call_type` (a code of the agency's `call_types`), when recorded.
    #[serde(default)]
    pub call_type: Option<String>,
    /// Codes of the agency's `dispositions`, as recorded.
    #[serde(default)]
    pub dispositions: Vec<String>,
    /// The state of this version (the list asked for: `submitted`, `returned` or `approved`).
    pub state: ReviewState,
}

/// `GET /v1/review/queue`: one page, oldest first (or flagged first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One decision in a version's history (reversals keep the decisions before them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionRecord {
    pub decision: ReviewDecision,
    pub comment: Option<String>,
    /// Why an earlier decision was changed (set on every decision after the first).
    pub reason: Option<String>,
    pub reviewer: String,
    pub decided_at: DateTime<Utc>,
    /// When the device that pushed the version confirmed it had the decision (it pulled with a
    /// cursor at or past the decision's feed position); absent until then.
    #[serde(default)]
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One stored version with its decisions, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewedVersion {
    pub version: u32,
    pub content_hash: String,
    pub device_id: String,
    pub received_at: DateTime<Utc>,
    pub state: ReviewState,
    pub decisions: Vec<DecisionRecord>,
    /// The encounter as pushed.
    #[ts(type = "import(\"../../lib/bindings/Encounter\").Encounter")]
    pub body: Value,
    /// Other content pushed for the same id and version (see the conflicts endpoint).
    pub conflicting_copies: u32,
}

/// `GET /v1/review/encounters/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EncounterReview {
    pub encounter_id: Uuid,
    pub latest_version: u32,
    pub state: ReviewState,
    pub versions: Vec<ReviewedVersion>,
}

/// One field that differs between two versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    /// Dotted path, array items by index: `response.reportable_force`, `referrals[0].outcome`.
    pub path: String,
    /// Absent when the field is new.
    #[ts(type = "unknown")]
    pub before: Option<Value>,
    /// Absent when the field was removed.
    #[ts(type = "unknown")]
    pub after: Option<Value>,
}

/// `GET /v1/review/encounters/{id}/diff?from=A&to=B`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionDiff {
    pub encounter_id: Uuid,
    pub from: u32,
    pub to: u32,
    pub changes: Vec<FieldChange>,
}

/// One copy of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionCopy {
    pub content_hash: String,
    pub device_id: String,
    pub received_at: DateTime<Utc>,
    #[ts(type = "import(\"../../lib/bindings/Encounter\").Encounter")]
    pub body: Value,
}

/// Same id and version, other content: the copy the server holds and the one that arrived later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConflictPair {
    pub encounter_id: Uuid,
    pub version: u32,
    /// The first copy received (the one reviews and the queue use).
    pub held: VersionCopy,
    pub other: VersionCopy,
}

/// `GET /v1/review/counts`: how many reports stand in each state (by their latest version).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewCounts {
    /// Waiting for a decision (the queue).
    #[ts(type = "number")]
    pub submitted: u64,
    /// Returned to the officer, not amended yet.
    #[ts(type = "number")]
    pub returned: u64,
    #[ts(type = "number")]
    pub approved: u64,
}

/// `GET /v1/metrics`: counts an admin or supervisor watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metrics {
    /// Conflicting copies held (same id and version, other content).
    #[ts(type = "number")]
    pub conflicts: u64,
    /// Reports waiting for a decision.
    #[ts(type = "number")]
    pub review_queue: u64,
}
