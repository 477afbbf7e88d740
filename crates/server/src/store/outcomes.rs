//! What the outcome figures read, beside the [`super::Store`] trait: the latest version of each
//! report that happened in a time range, with its review state (from `review_index`, which the
//! migrations keep by trigger on every stored version). The figures themselves are computed by
//! [`crate::outcomes`], the same for both stores.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use waypoint_core::Encounter;
use waypoint_protocol::{OutcomeSource, ReviewState};

use super::StoreResult;

/// The latest version of one report, or one imported report (which counts as approved).
#[derive(Debug, Clone)]
pub struct OutcomeRow {
    pub state: ReviewState,
    /// The username whose officer credential pushed the version; for imported history, the user
    /// whose officer id the row names, or empty.
    pub officer: String,
    pub imported: bool,
    /// The report, parsed as it was read; `None` when its body does not read as one.
    pub encounter: Option<Encounter>,
}

/// Which latest versions to read.
#[derive(Debug, Clone)]
pub struct OutcomeRange {
    /// On the report's `occurred_at`: from (inclusive), to (exclusive).
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub states: Vec<ReviewState>,
    /// Only the reports of this officer: their officer id (badge) or username.
    pub officer: Option<String>,
    /// Devices' reports, imported history, or both. Imported reports count whatever `states` says.
    pub source: OutcomeSource,
}

#[async_trait]
pub trait OutcomeStore: Send + Sync {
    async fn outcome_rows(&self, range: OutcomeRange) -> StoreResult<Vec<OutcomeRow>>;
}

pub(crate) fn state_of(text: &str) -> StoreResult<ReviewState> {
    ReviewState::parse(text).ok_or_else(|| super::StoreError::Database(format!("unknown review state `{text}` stored")))
}
