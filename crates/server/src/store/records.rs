//! What the agency records feed and its webhooks read and write, beside the [`super::Store`]
//! trait: the record events (written by [`super::ReviewStore::decide`] in the decision's
//! transaction, see [`event_for_decision`]), the records system's API credentials, the webhook
//! endpoints and their delivery outbox.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;
use waypoint_protocol::{
    DeliveryState, RecordEventType, RecordsCredentialInfo, ReviewDecision, WebhookDeliveryInfo, WebhookInfo,
};

use super::StoreResult;

/// One row of `record_events`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEventRow {
    pub seq: u64,
    pub event_type: RecordEventType,
    pub encounter_id: Uuid,
    pub version: u32,
    pub reviewer: String,
    pub decided_at: DateTime<Utc>,
}

impl RecordEventRow {
    /// The event's id, stable across deliveries and feed reads (the feed position is unique).
    pub fn event_id(&self) -> String {
        format!("evt_{}", self.seq)
    }
}

/// Which event a new decision makes, if any: approving makes `approved`, or `amended` when an
/// earlier version of the encounter was approved; returning a version whose decision in force
/// was `approved` withdraws it. `earlier_approved`: some earlier version has an approval;
/// `in_force`: the decision in force on this version before this one.
pub fn event_for_decision(
    decision: ReviewDecision,
    earlier_approved: bool,
    in_force: Option<ReviewDecision>,
) -> Option<RecordEventType> {
    match decision {
        ReviewDecision::Approved if earlier_approved => Some(RecordEventType::Amended),
        ReviewDecision::Approved => Some(RecordEventType::Approved),
        ReviewDecision::Returned if in_force == Some(ReviewDecision::Approved) => {
            Some(RecordEventType::ApprovalWithdrawn)
        }
        ReviewDecision::Returned => None,
    }
}

/// A records-system credential as the authenticating extractor reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCredential {
    pub name: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A delivery the worker has claimed: everything it needs to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    pub id: u64,
    pub url: String,
    pub secret: String,
    pub attempts: u32,
    pub retry_until: DateTime<Utc>,
    pub event: RecordEventRow,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    Delivered {
        status: u16,
    },
    /// Failed; try again at `next_attempt_at`, or park the delivery as failed when `None`.
    Failed {
        status: Option<u16>,
        error: String,
        next_attempt_at: Option<DateTime<Utc>>,
    },
}

#[async_trait]
pub trait RecordsStore: Send + Sync {
    /// Events after `cursor`, in feed order, at most `limit`.
    async fn record_events_after(&self, cursor: u64, limit: usize) -> StoreResult<Vec<RecordEventRow>>;

    /// Fails with `AlreadyExists` when the name is taken (revoked names stay taken: the trail
    /// names them).
    async fn add_api_credential(
        &self,
        name: &str,
        token_hash: &str,
        created_by: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn api_credential(&self, token_hash: &str) -> StoreResult<Option<ApiCredential>>;
    async fn touch_api_credential(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()>;
    async fn api_credentials(&self) -> StoreResult<Vec<RecordsCredentialInfo>>;
    /// `false` when there is no such credential or it was revoked already.
    async fn revoke_api_credential(&self, name: &str, at: DateTime<Utc>) -> StoreResult<bool>;

    /// Registers an endpoint; events from now on are queued for it. Returns its id.
    async fn add_webhook(&self, url: &str, secret: &str, created_by: &str, at: DateTime<Utc>) -> StoreResult<u64>;
    async fn webhooks(&self) -> StoreResult<Vec<WebhookInfo>>;
    /// Stops (or resumes) queueing events for an endpoint; a disabled endpoint's pending
    /// deliveries wait. `false` when there is no such endpoint.
    async fn set_webhook_enabled(&self, id: u64, enabled: bool) -> StoreResult<bool>;

    /// Claims up to `limit` pending deliveries due at `now` of enabled endpoints: each is moved to
    /// `now + lease`, so a worker that dies leaves it to be tried again then. A delivery's first
    /// claim sets its retry window's end to `now + retry_window`.
    async fn claim_due_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        retry_window: chrono::Duration,
        limit: usize,
    ) -> StoreResult<Vec<DueDelivery>>;
    async fn finish_attempt(&self, delivery_id: u64, at: DateTime<Utc>, result: AttemptResult) -> StoreResult<()>;
    /// The earliest time a pending delivery of an enabled endpoint is due, if any.
    async fn next_delivery_due(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Newest first, at most `limit`, only `state` when given.
    async fn webhook_deliveries(
        &self,
        state: Option<DeliveryState>,
        limit: usize,
    ) -> StoreResult<Vec<WebhookDeliveryInfo>>;
    /// Sends a delivery again from now with a new retry window (any state). `false` when there is
    /// no such delivery.
    async fn replay_delivery(&self, delivery_id: u64, now: DateTime<Utc>) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_make_the_events_the_docs_name() {
        use ReviewDecision::*;
        assert_eq!(event_for_decision(Approved, false, None), Some(RecordEventType::Approved));
        assert_eq!(event_for_decision(Approved, true, None), Some(RecordEventType::Amended));
        assert_eq!(event_for_decision(Approved, false, Some(Returned)), Some(RecordEventType::Approved));
        assert_eq!(event_for_decision(Returned, false, None), None);
        assert_eq!(event_for_decision(Returned, true, Some(Returned)), None);
        assert_eq!(event_for_decision(Returned, false, Some(Approved)), Some(RecordEventType::ApprovalWithdrawn));
    }
}
