//! Wire types of the agency records feed (`GET /v1/records/encounters`, read by the agency's
//! records system with its own API credential) and of the webhooks that announce the same events
//! (signed per the Standard Webhooks spec). One event type list serves both.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::EncounterReview;

/// What happened to a report, as the records system hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RecordEventType {
    /// A report was approved, and no earlier version of it was.
    #[serde(rename = "encounter.approved")]
    Approved,
    /// A later version of a report that was approved before (an amendment) was approved.
    #[serde(rename = "encounter.amended")]
    Amended,
    /// An approved version was returned after all (a changed decision, with its reason): the
    /// records system should no longer treat that version as final.
    #[serde(rename = "encounter.approval_withdrawn")]
    ApprovalWithdrawn,
}

impl RecordEventType {
    pub const ALL: [RecordEventType; 3] =
        [RecordEventType::Approved, RecordEventType::Amended, RecordEventType::ApprovalWithdrawn];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordEventType::Approved => "encounter.approved",
            RecordEventType::Amended => "encounter.amended",
            RecordEventType::ApprovalWithdrawn => "encounter.approval_withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// One event of the records feed, and the `data` of its webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordEvent {
    /// Feed position: pass the last one seen as `after` for the next page.
    #[ts(type = "number")]
    pub seq: u64,
    /// Unique and stable: the same event delivered twice carries the same id (`webhook-id`).
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: RecordEventType,
    /// When the decision was made.
    pub at: DateTime<Utc>,
    pub encounter_id: Uuid,
    /// The version approved (or whose approval was withdrawn).
    pub version: u32,
    /// Who decided.
    pub reviewer: String,
    /// Every version up to `version`, each with its body as pushed and its decisions so far.
    pub encounter: EncounterReview,
}

/// `GET /v1/records/encounters`: one page of events, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordsPage {
    pub events: Vec<RecordEvent>,
    /// The position to ask after next time (the last event's `seq`, or the cursor sent).
    #[ts(type = "number")]
    pub cursor: u64,
    /// More events wait after this page.
    pub more: bool,
}

/// What the webhook endpoint receives as its body (Standard Webhooks' recommended shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookPayload {
    #[serde(rename = "type")]
    pub event_type: RecordEventType,
    /// When this delivery attempt was made.
    pub timestamp: DateTime<Utc>,
    pub data: RecordEvent,
}

/// A records-system credential, as the admin lists it (the token itself is shown once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordsCredentialInfo {
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /v1/admin/records/credentials`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRecordsCredential {
    /// What reads with it, e.g. `rms`: letters, digits, `-` and `_`, 1 to 64.
    pub name: String,
}

/// The new credential: `token` is shown this once (the server keeps only its hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordsCredentialCreated {
    pub name: String,
    pub token: String,
}

/// `POST /v1/admin/webhooks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewWebhook {
    /// `https://...`; plain `http://` only to this machine (127.0.0.1, ::1, localhost).
    pub url: String,
    /// The signing secret as `whsec_` + base64 of 24 to 64 bytes; the server makes one when absent.
    #[serde(default)]
    pub secret: Option<String>,
}

/// A registered webhook endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookInfo {
    #[ts(type = "number")]
    pub id: u64,
    pub url: String,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// Deliveries by state.
    #[ts(type = "number")]
    pub pending: u64,
    #[ts(type = "number")]
    pub delivered: u64,
    #[ts(type = "number")]
    pub failed: u64,
}

/// The registered endpoint with its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookCreated {
    pub webhook: WebhookInfo,
    pub secret: String,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet: waiting for its next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed for the whole retry window: parked until an admin replays it.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => DeliveryState::Pending,
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => return None,
        })
    }
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDeliveryInfo {
    #[ts(type = "number")]
    pub id: u64,
    #[ts(type = "number")]
    pub webhook_id: u64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: RecordEventType,
    pub encounter_id: Uuid,
    pub version: u32,
    pub state: DeliveryState,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last HTTP status the endpoint answered, if it answered.
    pub last_status: Option<u16>,
    /// Why the last attempt failed (timeout, refused, status).
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}
