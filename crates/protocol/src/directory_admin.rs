//! Wire types of the directory's admin side: the local facts an agency keeps about a service
//! (what the national listings lack and officers need most), imports, search.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the agency knows about a service locally. Every field is optional: absent means "not
/// known locally", and the national listing's answer (if any) stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LocalFacts {
    /// Whether police may bring a person in crisis here directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub accepts_dropoffs: Option<bool>,
    /// Opening hours; replaces the listing's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub hours: Option<LocalHours>,
    /// The number officers call ahead on (shown first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub intake_phone: Option<String>,
    /// A note for officers ("call ahead; use the ambulance bay").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub officer_note: Option<String>,
}

impl LocalFacts {
    /// Nothing known: the service's listing stands as imported.
    pub fn is_empty(&self) -> bool {
        self == &LocalFacts::default()
    }
}

/// Opening hours known locally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[ts(tag = "kind", rename_all = "snake_case")]
pub enum LocalHours {
    /// Open 24 hours, every day.
    AlwaysOpen,
    /// Open in these weekly periods.
    Weekly {
        periods: Vec<WeeklyPeriod>,
        /// IANA name ("America/Chicago"): required (national listings carry none a device
        /// could read the hours in).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        timezone: Option<String>,
    },
}

/// Open on `days` from `opens_at` to `closes_at` (local times `HH:MM`; a close before the
/// opening runs past midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WeeklyPeriod {
    /// iCalendar day codes: `MO`, `TU`, `WE`, `TH`, `FR`, `SA`, `SU`.
    pub days: Vec<String>,
    pub opens_at: String,
    pub closes_at: String,
}

/// A service's local facts as stored, with who set them and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocalFactsRecord {
    pub service_id: String,
    pub facts: LocalFacts,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// The reply to setting or clearing a service's local facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocalFactsSaved {
    /// The feed position of the service's new document (none when the published document did
    /// not change, e.g. the same facts saved twice).
    #[ts(type = "number | null")]
    pub feed_seq: Option<u64>,
}

/// One service as the admin's directory search lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryServiceInfo {
    pub service_id: String,
    pub name: String,
    pub organization: String,
    pub address: Option<String>,
    /// The listing's own answer (before local facts).
    pub listed_dropoffs: Option<bool>,
    pub local: Option<LocalFactsRecord>,
}

/// One directory import: what, when, and its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryImportInfo {
    #[ts(type = "number")]
    pub id: u64,
    pub finished_at: DateTime<Utc>,
    /// "SAMHSA listings /srv/samhsa", "HSDS package ...".
    pub source: String,
    /// Who ran it (`cli` for the admin command).
    pub by: String,
    /// Services published to devices (new or changed), and withdrawn.
    #[ts(type = "number")]
    pub upserts: u64,
    #[ts(type = "number")]
    pub deletes: u64,
    /// The importer's report (counts, and the first rejected and repaired rows with reasons).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[ts(type = "Record<string, unknown>")]
    pub report: serde_json::Value,
}

/// Where the agency's local facts and the national listing part ways: the admin decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirectoryConflict {
    pub service_id: String,
    /// The service's name (none when the listing no longer has it).
    pub name: Option<String>,
    /// `withdrawn`: the last import no longer lists the service (its local facts are kept, not
    /// published); `dropoffs_differ`: the listing answers drop-offs otherwise than the local fact.
    pub kind: String,
    pub message: String,
}
