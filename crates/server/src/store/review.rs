//! What the review desk reads and writes, beside the [`super::Store`] trait: decisions (judged
//! by [`crate::review_rules`] inside the store's transaction), the queue (from the `review_index`
//! table the migration keeps up to date by trigger on every stored version), one encounter with
//! its versions and decisions, conflicts, counts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use waypoint_protocol::{ConflictPair, EncounterReview, Metrics, QueuePage, ReviewCounts, ReviewState};

use super::{StoreError, StoreResult};
use crate::review_rules::{DecisionInput, ReviewRefusal};

/// Queue order. Both are oldest first within.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueOrder {
    #[default]
    Oldest,
    /// Force used or someone injured first.
    FlaggedFirst,
}

/// Where a page ends: the sort key of its last item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCursor {
    pub flag_rank: i16,
    pub submitted_at: DateTime<Utc>,
    pub encounter_id: Uuid,
}

impl QueueCursor {
    /// Opaque to clients: hex of `rank|time|id`.
    pub fn encode(&self) -> String {
        let time = self.submitted_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        hex::encode(format!("{}|{time}|{}", self.flag_rank, self.encounter_id))
    }

    pub fn decode(text: &str) -> Option<Self> {
        let plain = String::from_utf8(hex::decode(text).ok()?).ok()?;
        let mut parts = plain.split('|');
        let flag_rank = parts.next()?.parse().ok()?;
        let submitted_at = DateTime::parse_from_rfc3339(parts.next()?).ok()?.with_timezone(&Utc);
        let encounter_id = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(QueueCursor { flag_rank, submitted_at, encounter_id })
    }
}

/// A queue request: every filter set narrows it.
#[derive(Debug, Clone)]
pub struct QueueQuery {
    /// Which list: the queue (`submitted`), or the returned or approved reports.
    pub state: ReviewState,
    pub officer_id: Option<String>,
    /// On the version's `submitted_at`: from (inclusive), to (exclusive).
    pub submitted_from: Option<DateTime<Utc>>,
    pub submitted_to: Option<DateTime<Utc>>,
    pub force_used: bool,
    pub injury: bool,
    pub weapon: bool,
    pub emergency_detention: bool,
    /// `arrested` among the dispositions.
    pub arrest: bool,
    /// Force used or injury.
    pub flagged: bool,
    /// Words that must all be in the narrative (stemmed).
    pub text: Option<String>,
    pub order: QueueOrder,
    pub after: Option<QueueCursor>,
    pub limit: usize,
}

impl Default for QueueQuery {
    fn default() -> Self {
        QueueQuery {
            state: ReviewState::Submitted,
            officer_id: None,
            submitted_from: None,
            submitted_to: None,
            force_used: false,
            injury: false,
            weapon: false,
            emergency_detention: false,
            arrest: false,
            flagged: false,
            text: None,
            order: QueueOrder::default(),
            after: None,
            limit: 50,
        }
    }
}

impl QueueQuery {
    /// The words of `text`, letters and digits only (what both full-text engines index).
    pub fn words(&self) -> Vec<String> {
        self.text
            .as_deref()
            .unwrap_or_default()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    }
}

/// What a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionOutcome {
    /// The review result's position in the device's pull feed.
    pub feed_seq: u64,
    /// The same decision was already in force: nothing new was recorded.
    pub repeated: bool,
}

pub type Decided = Result<DecisionOutcome, ReviewRefusal>;

#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Judges and, when allowed, records a decision, updates the queue and appends the review
    /// result for the device that pushed the version, in one transaction.
    async fn decide(&self, input: DecisionInput) -> StoreResult<Decided>;

    /// One page of latest versions in `query.state` (submitted: the queue).
    async fn review_queue(&self, query: QueueQuery) -> StoreResult<QueuePage>;

    /// Every version held of the encounter with its decisions; `None` when none is held.
    async fn encounter_review(&self, encounter_id: Uuid) -> StoreResult<Option<EncounterReview>>;

    /// Every conflicting copy beside the copy held, oldest first.
    async fn conflict_pairs(&self) -> StoreResult<Vec<ConflictPair>>;

    async fn review_metrics(&self) -> StoreResult<Metrics>;

    /// Reports by the state of their latest version.
    async fn review_counts(&self) -> StoreResult<ReviewCounts>;
}

/// Counts from `(state, count)` rows.
pub(crate) fn counts_of(rows: impl IntoIterator<Item = (String, i64)>) -> ReviewCounts {
    let mut counts = ReviewCounts::default();
    for (state, count) in rows {
        let count = count.max(0) as u64;
        match ReviewState::parse(&state) {
            Some(ReviewState::Submitted) => counts.submitted = count,
            Some(ReviewState::Returned) => counts.returned = count,
            Some(ReviewState::Approved) => counts.approved = count,
            None => {}
        }
    }
    counts
}

pub(crate) fn decision_of(text: &str) -> StoreResult<waypoint_protocol::ReviewDecision> {
    waypoint_protocol::ReviewDecision::parse(text)
        .ok_or_else(|| StoreError::Database(format!("unknown review decision `{text}` stored")))
}

/// Builds an [`EncounterReview`] from its rows: versions oldest first, decisions in order.
pub(crate) fn assemble_review(
    encounter_id: Uuid,
    mut versions: Vec<waypoint_protocol::ReviewedVersion>,
    decisions: Vec<(u32, waypoint_protocol::DecisionRecord)>,
    conflicts: &[(u32, u32)],
) -> Option<EncounterReview> {
    for (version, decision) in decisions {
        if let Some(v) = versions.iter_mut().find(|v| v.version == version) {
            v.state = decision.decision.into();
            v.decisions.push(decision);
        }
    }
    for (version, count) in conflicts {
        if let Some(v) = versions.iter_mut().find(|v| v.version == *version) {
            v.conflicting_copies = *count;
        }
    }
    let latest = versions.last()?;
    Some(EncounterReview { encounter_id, latest_version: latest.version, state: latest.state, versions })
}
